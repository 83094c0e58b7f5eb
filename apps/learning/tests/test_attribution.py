import pytest

from apps.learning.attribution import (
    Contribution,
    attribution_compute,
    contributions_parse,
    credit_split,
)

C = Contribution


@pytest.mark.parametrize(
    ("direction", "contributions", "expected"),
    [
        # all voted long with equal weight: credit in proportion to score
        ("long", [C("a", 0.6, 0.5), C("b", 0.2, 0.5)], {"a": 0.75, "b": 0.25}),
        # weight matters as much as score
        ("long", [C("a", 0.5, 0.8), C("b", 0.5, 0.2)], {"a": 0.8, "b": 0.2}),
        # b argued against the long: negative share (blamed for a win, credited for a loss)
        ("long", [C("a", 0.9, 0.5), C("b", -0.3, 0.5)], {"a": 0.75, "b": -0.25}),
        # short trade: a negative score is a vote *for* it
        ("short", [C("a", -0.9, 0.5), C("b", 0.3, 0.5)], {"a": 0.75, "b": -0.25}),
        # a zero score took no part
        ("long", [C("a", 0.4, 0.5), C("b", 0.0, 0.5)], {"a": 1.0}),
        # flat signals and all-zero votes attribute nothing
        ("flat", [C("a", 0.4, 0.5)], {}),
        ("long", [C("a", 0.0, 0.5)], {}),
        ("long", [], {}),
    ],
)
def test_shares(direction, contributions, expected):
    shares = attribution_compute(direction=direction, contributions=contributions)
    assert shares == pytest.approx(expected)
    if shares:
        assert sum(abs(s) for s in shares.values()) == pytest.approx(1.0)


def test_credit_follows_result_sign():
    shares = attribution_compute(
        direction="long", contributions=[C("a", 0.9, 0.5), C("b", -0.3, 0.5)]
    )
    win = credit_split(shares=shares, amount=100.0)
    loss = credit_split(shares=shares, amount=-100.0)
    assert win == pytest.approx({"a": 75.0, "b": -25.0})  # b was wrong about a winner
    assert loss == pytest.approx({"a": -75.0, "b": 25.0})  # b was right about a loser
    assert sum(win.values()) == pytest.approx(50.0)


def test_parse_signal_sources_skips_malformed():
    parsed = contributions_parse(
        [
            {"strategy": "momentum", "score": 0.5, "weight": "0.33333333"},
            {"strategy": "", "score": 1, "weight": 1},
            {"strategy": "x", "score": "nan?", "weight": 1},
            {"score": 1},
        ]
    )
    assert parsed == [C("momentum", 0.5, 0.33333333)]


def test_parse_signal_event_contributions():
    from apps.strategies.contracts import StrategyContribution

    parsed = contributions_parse([StrategyContribution("news_driven", -0.4, 0.25)])
    assert parsed == [C("news_driven", -0.4, 0.25)]
