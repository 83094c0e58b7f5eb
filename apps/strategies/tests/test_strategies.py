"""Every strategy is causal: cutting the data after t never changes the decision at t."""

from __future__ import annotations

import numpy as np
import pytest

from apps.strategies.base import MarketFrame, SentimentSeries, Strategy, guarded_scores
from apps.strategies.mean_reversion import MeanReversion, MeanReversionConfig
from apps.strategies.momentum import Momentum, MomentumConfig
from apps.strategies.news_driven import NewsDriven, NewsDrivenConfig, sentiment_aggregate
from apps.strategies.registry import STRATEGIES, strategy_build
from apps.strategies.tests.frames import DAY_NS, HOUR_NS, T0, random_walk

FRAME = random_walk(300, seed=7, news=120)

# (strategy, frame, cut points t) -- including t right at warm-up and t right after news items.
TRUNCATION_CASES = [
    pytest.param(Momentum(), FRAME, [0, 10, 47, 48, 60, 150, 151, 298, 299], id="momentum"),
    pytest.param(
        Momentum(
            MomentumConfig(lookback=5, vol_window=10, macd_fast=3, macd_slow=8, macd_signal=3)
        ),
        FRAME,
        [0, 12, 13, 100, 299],
        id="momentum-fast",
    ),
    pytest.param(MeanReversion(), FRAME, [0, 20, 21, 22, 75, 200, 299], id="mean_reversion"),
    pytest.param(
        MeanReversion(MeanReversionConfig(rsi_window=5, bb_window=8, bb_dev=1.5)),
        FRAME,
        [0, 8, 9, 150, 299],
        id="mean_reversion-fast",
    ),
    pytest.param(NewsDriven(), FRAME, [0, 1, 5, 33, 120, 250, 299], id="news_driven"),
    pytest.param(
        NewsDriven(NewsDrivenConfig(half_life_hours=2, max_age_hours=6)),
        FRAME,
        [3, 50, 299],
        id="news_driven-short-memory",
    ),
    pytest.param(NewsDriven(), random_walk(200, seed=1, news=0), [0, 100, 199], id="news-none"),
]


def _same(a: float, b: float) -> bool:
    return (np.isnan(a) and np.isnan(b)) or a == b


@pytest.mark.parametrize(("strategy", "frame", "cuts"), TRUNCATION_CASES)
def test_truncation_does_not_change_the_decision(strategy: Strategy, frame: MarketFrame, cuts):
    full = strategy.scores(frame)
    assert full.shape == (len(frame),)
    for t in cuts:
        cut = strategy.scores(frame.upto(t))
        assert cut.shape == (t + 1,)
        assert _same(float(cut[-1]), float(full[t])), (strategy.name, t, cut[-1], full[t])
        # and the whole prefix agrees, not only the last bar
        np.testing.assert_array_equal(cut, full[: t + 1])


@pytest.mark.parametrize(("strategy", "frame", "cuts"), TRUNCATION_CASES)
def test_a_lookback_window_gives_the_same_score_as_the_whole_history(
    strategy: Strategy, frame: MarketFrame, cuts
):
    """Live decides from the last ``SIGNALS_LOOKBACK_BARS`` bars, a backtest from the whole
    history: every score that has its warm-up inside the window is bit-identical."""
    from dataclasses import replace

    full = strategy.scores(frame)
    lookback = strategy.warmup() + 40
    for t in cuts:
        start = t + 1 - lookback
        if start <= 0:
            continue
        window = replace(
            frame.upto(t),
            time=frame.time[start : t + 1],
            open=frame.open[start : t + 1],
            high=frame.high[start : t + 1],
            low=frame.low[start : t + 1],
            close=frame.close[start : t + 1],
            volume=frame.volume[start : t + 1],
        )
        got = strategy.scores(window)
        assert _same(float(got[-1]), float(full[t])), (strategy.name, t, got[-1], full[t])
        np.testing.assert_array_equal(
            got[strategy.warmup() :], full[start + strategy.warmup() : t + 1]
        )


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_future_data_changes_nothing_before_it(name: str):
    """Replace everything after t by garbage: scores up to t stay identical."""
    strategy = strategy_build(name)
    t = 180
    f = FRAME
    rng = np.random.default_rng(3)
    junk = rng.uniform(1, 1000, len(f) - t - 1)
    news_cut = int(np.searchsorted(f.sentiment.visible_at, f.time[t], side="right"))
    k = len(f.sentiment.visible_at) - news_cut
    poisoned = MarketFrame(
        ticker=f.ticker,
        time=f.time,
        open=np.r_[f.open[: t + 1], junk],
        high=np.r_[f.high[: t + 1], junk * 2],
        low=np.r_[f.low[: t + 1], junk / 2],
        close=np.r_[f.close[: t + 1], junk],
        volume=f.volume,
        sentiment=SentimentSeries(
            f.sentiment.visible_at,
            np.r_[f.sentiment.score[:news_cut], np.full(k, -1.0)],
            np.r_[f.sentiment.confidence[:news_cut], np.ones(k)],
        ),
    )
    np.testing.assert_array_equal(strategy.scores(poisoned)[: t + 1], strategy.scores(f)[: t + 1])


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_scores_are_bounded_and_warm_up_is_nan(name: str):
    strategy = strategy_build(name)
    s = strategy.scores(FRAME)
    finite = s[np.isfinite(s)]
    assert finite.size > 100
    assert np.all(np.abs(finite) <= 1.0)
    assert np.all(np.isnan(s[: strategy.warmup()]))


def test_momentum_and_mean_reversion_read_the_regimes():
    """Up-trend quarter: momentum positive on average; mean reversion leans the other way."""
    mom = Momentum().scores(FRAME)
    rev = MeanReversion().scores(FRAME)
    up = slice(110, 150)
    down = slice(190, 225)
    assert np.nanmean(mom[up]) > 0.05 > -0.05 > np.nanmean(mom[down])
    assert np.nanmean(rev[up]) < 0 < np.nanmean(rev[down])


# news aggregation scenarios: (items [(hours after T0, score, confidence)], bar hour, expected)
NEWS_CASES = [
    pytest.param([], 24, None, id="no news -> no opinion"),
    pytest.param([(25, 0.8, 1.0)], 24, None, id="published after the bar -> invisible"),
    pytest.param([(24, 0.8, 1.0)], 24, 0.8, id="published at the bar time -> visible"),
    pytest.param([(0, 1.0, 1.0), (24, -1.0, 1.0)], 24, (0.5 - 1.0) / 1.5, id="decay halves"),
    pytest.param([(20, 1.0, 0.2), (20, -1.0, 0.8)], 24, -0.6, id="confidence weighting"),
    pytest.param([(0, 1.0, 1.0)], 24 * 5, None, id="older than max age -> ignored"),
]


@pytest.mark.parametrize(("items", "bar_hour", "expected"), NEWS_CASES)
def test_news_aggregate(items, bar_hour, expected):
    n = 6
    time = T0 + np.arange(n, dtype=np.int64) * DAY_NS
    vis = np.array([T0 + h * HOUR_NS for h, _, _ in items], dtype=np.int64)
    ones = np.ones(n)
    frame = MarketFrame(
        "X",
        time,
        ones,
        ones,
        ones,
        ones,
        ones,
        sentiment=SentimentSeries(
            vis,
            np.array([s for _, s, _ in items], dtype=float),
            np.array([c for _, _, c in items], dtype=float),
        ),
    )
    k = int((bar_hour * HOUR_NS) // DAY_NS)
    agg = sentiment_aggregate(frame, NewsDrivenConfig(half_life_hours=24, max_age_hours=96))
    if expected is None:
        assert np.isnan(agg.mean[k])
        assert np.isnan(NewsDriven().scores(frame)[k])
    else:
        assert agg.mean[k] == pytest.approx(expected)
        assert np.sign(NewsDriven().scores(frame)[k]) == np.sign(expected)


def test_a_failing_strategy_scores_nan_and_reports():
    class Broken(Strategy):
        name = "broken"

        def scores(self, frame):
            raise RuntimeError("boom")

    seen = []
    out = guarded_scores(Broken(), FRAME, on_error=lambda s, e: seen.append((s.name, str(e))))
    assert np.all(np.isnan(out))
    assert seen == [("broken", "boom")]


def test_configs_are_frozen_and_built_from_params():
    s = strategy_build("momentum", {"lookback": 10})
    assert s.config.lookback == 10
    with pytest.raises(AttributeError):
        s.config.lookback = 3
    with pytest.raises(LookupError):
        strategy_build("nope")
