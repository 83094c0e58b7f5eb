import pytest

from apps.news.tickers import TickerExtractor, extract_tickers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # cashtags, class shares, exchange-qualified symbols
        ("$AAPL and $msft rally", ("AAPL", "MSFT")),
        ("Buffett adds to $BRK.B", ("BRK-B",)),
        ("Corsair Gaming, Inc. (NASDAQ:CRSR) buys iDisplay", ("CRSR",)),
        ("GE (NYSE: GE) turbines", ("GE",)),
        # bare symbols, with the common-word guard
        ("NVDA and AMD lead chip stocks", ("NVDA", "AMD")),
        ("A look at IT: ALL ON board, ARE the CEO and USA ready?", ()),
        ("AI is eating the world, says the CFO", ()),
        # a shouted headline: no bare symbols, names still count
        ("APPLE SHARES SOAR AS CEO SAYS IT IS ALL ON TRACK", ("AAPL",)),
        # company names: aliases and multi-word listed names, proper nouns only
        ("Goldman names Chipotle its favorite restaurant stock", ("GS", "CMG")),
        ("Morgan Stanley: Disney's earnings will nearly double", ("MS", "DIS")),
        ("Bank of America cuts jobs", ("BAC",)),
        ("Advanced Micro Devices reports", ("AMD",)),
        ("I love apple pie and target practice", ()),
        # SEC EDGAR titles carry the CIK
        ("8-K - APPLE INC (0000320193) (Filer)", ("AAPL",)),
        ("8-K - Alphabet Inc. (0001652044) (Filer)", ("GOOG", "GOOGL")),
        # units and trader shorthand are not tickers
        ("Size: 12 KB. RT @trader: PT raised", ()),
        ("", ()),
    ],
)
def test_extract_tickers(text, expected):
    assert extract_tickers(text) == expected


def test_unlisted_cashtag_is_ignored():
    extractor = TickerExtractor.from_rows(listings=[("AAPL", "Apple Inc.")])
    assert extractor.extract("$AAPL $ZZZZZ $5") == ("AAPL",)


def test_stopwords_do_not_block_cashtags():
    extractor = TickerExtractor.from_rows(listings=[("ALL", "Allstate Corp")], stopwords=["ALL"])
    assert extractor.extract("ALL in on $ALL") == ("ALL",)
