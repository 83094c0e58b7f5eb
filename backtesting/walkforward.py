"""Walk-forward evaluation: weights learned in-sample, measured out-of-sample, window by window.

For each rolling window on the union of the symbols' bar times::

    | in-sample (train_bars): learning on, from the configured weights | out-of-sample (test_bars) |

the out-of-sample slice is run twice with learning off: with the weights learned in-sample, and
with the initial weights (the baseline), so the table shows what learning bought. Each run sees
only bars up to its own end (frames are cut there), and history before its start only warms the
strategies up. The next window starts ``step_bars`` later (default: ``test_bars``), so the
out-of-sample slices tile the period without overlap.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from apps.strategies.base import MarketFrame, Strategy
from backtesting.config import BacktestConfig
from backtesting.data import frame_slice, from_ns, to_ns
from backtesting.engine import backtest_run
from backtesting.results import BacktestResult


@dataclass(frozen=True)
class WalkForwardConfig:
    train_bars: int
    test_bars: int
    step_bars: int | None = None

    def __post_init__(self) -> None:
        if self.train_bars < 2 or self.test_bars < 2:
            raise ValueError("train_bars and test_bars must be >= 2")

    @staticmethod
    def parse(spec: str) -> WalkForwardConfig:
        """CLI form ``TRAIN:TEST[:STEP]`` in bars, e.g. ``250:60``."""
        parts = [int(p) for p in spec.split(":")]
        if len(parts) not in (2, 3):
            raise ValueError("walk-forward spec is TRAIN:TEST[:STEP] (bars)")
        return WalkForwardConfig(*parts)


@dataclass
class WalkForwardResult:
    windows: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    last: BacktestResult | None = None  # the last out-of-sample run (learned weights)

    def to_dict(self) -> dict[str, Any]:
        return {"windows": self.windows, "summary": self.summary}


def _headline(r: BacktestResult) -> dict[str, Any]:
    m = r.metrics
    keys = ("total_return", "sharpe", "max_drawdown", "closed_trades", "win_rate")
    return {k: m.get(k) for k in keys}


def walk_forward(
    config: BacktestConfig,
    frames: Mapping[str, MarketFrame],
    wf: WalkForwardConfig,
    *,
    strategies: Mapping[str, Strategy] | None = None,
    progress: Callable[[float], None] | None = None,
) -> WalkForwardResult:
    times = np.unique(np.concatenate([f.time for f in frames.values() if len(f)]))
    if config.start is not None:
        times = times[times >= to_ns(config.start)]
    step = wf.step_bars or wf.test_bars
    starts = list(range(0, max(len(times) - wf.train_bars - wf.test_bars + 1, 0), step))
    out = WalkForwardResult()
    oos_growth = 1.0
    for k, s in enumerate(starts):
        t_train0, t_train1 = int(times[s]), int(times[s + wf.train_bars - 1])
        t_test0 = int(times[s + wf.train_bars])
        t_test1 = int(times[min(s + wf.train_bars + wf.test_bars, len(times)) - 1])
        train_frames = {t: frame_slice(f, None, t_train1) for t, f in frames.items()}
        test_frames = {t: frame_slice(f, None, t_test1) for t, f in frames.items()}
        ins = backtest_run(
            config.with_(start=from_ns(t_train0), end=from_ns(t_train1), learning=True),
            train_frames,
            strategies=strategies,
        )
        learned = ins.final_weights
        oos_cfg = config.with_(start=from_ns(t_test0), end=from_ns(t_test1), learning=False)
        oos = backtest_run(
            oos_cfg.with_(initial_weights=learned), test_frames, strategies=strategies
        )
        base = backtest_run(oos_cfg, test_frames, strategies=strategies)
        r = oos.metrics.get("total_return") or 0.0
        oos_growth *= 1.0 + float(r)
        out.windows.append(
            {
                "window": k + 1,
                "train": [from_ns(t_train0).isoformat(), from_ns(t_train1).isoformat()],
                "test": [from_ns(t_test0).isoformat(), from_ns(t_test1).isoformat()],
                "in_sample": _headline(ins),
                "weight_updates": len(ins.weight_history) - 1,
                "learned_weights": learned,
                "out_of_sample": _headline(oos),
                "baseline": _headline(base),
            }
        )
        out.last = oos
        if progress is not None:
            progress((k + 1) / len(starts))
    if out.windows:
        sharpes = [w["out_of_sample"]["sharpe"] for w in out.windows]
        finite = [x for x in sharpes if x is not None and math.isfinite(x)]
        beat = sum(
            1
            for w in out.windows
            if (w["out_of_sample"]["total_return"] or 0.0) > (w["baseline"]["total_return"] or 0.0)
        )
        out.summary = {
            "windows": len(out.windows),
            "oos_total_return": oos_growth - 1.0,
            "oos_mean_sharpe": sum(finite) / len(finite) if finite else None,
            "learned_beat_baseline": beat,
        }
    return out
