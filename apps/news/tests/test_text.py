from datetime import UTC, datetime, timedelta

import pytest

from apps.news.text import clean_text, content_hash, normalise_url


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("<script>alert(1)</script>Apple beats estimates", "Apple beats estimates"),
        ("&lt;script&gt;alert('x')&lt;/script&gt;Tesla <b>jumps</b>", "Tesla jumps"),
        ("Procter &amp; Gamble&#039;s <i>quarter</i>", "Procter & Gamble's quarter"),
        ("<img src=x onerror=alert(1)>Boeing", "Boeing"),
        ("line\nbreaks\t and   spaces\x00\x07", "line breaks and spaces"),
        ("<style>p{}</style><p>one</p><p>two</p>", "one two"),
        ("a < b and c > d", "a ‹ b and c › d"),
        ("", ""),
        (None, ""),
    ],
)
def test_clean_text_leaves_plain_text(raw, expected):
    assert clean_text(raw) == expected


def test_clean_text_caps_length():
    text = clean_text("word " * 1000, limit=50)
    assert len(text) == 50
    assert text.endswith("…")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "HTTPS://WWW.Example.COM:443/news/story/?utm_source=rss&utm_medium=feed&id=7#top",
            "https://example.com/news/story?id=7",
        ),
        ("http://example.com:80/a?b=2&a=1&fbclid=xyz", "http://example.com/a?a=1&b=2"),
        (
            "https://finance.yahoo.com/news/x.html?.tsrc=rss&yptr=yahoo",
            "https://finance.yahoo.com/news/x.html",
        ),
        ("https://example.com:8443/x/", "https://example.com:8443/x"),
        ("https://example.com", "https://example.com/"),
        ("javascript:alert(1)", ""),
        ("not a url", ""),
        ("https://example.com/" + "a" * 2000, ""),
        (None, ""),
    ],
)
def test_normalise_url(url, expected):
    assert normalise_url(url) == expected


def test_content_hash_same_story_same_day_equal_other_day_differs():
    day = datetime(2019, 7, 24, 13, 0, tzinfo=UTC)
    a = content_hash(title="Apple beats estimates!", published_at=day)
    b = content_hash(title="  apple BEATS estimates ", published_at=day + timedelta(hours=2))
    c = content_hash(title="Apple beats estimates", published_at=day + timedelta(days=1))
    assert a == b
    assert a != c
    assert len(a) == 64
