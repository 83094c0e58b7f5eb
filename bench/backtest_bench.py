"""Backtest engine benchmark: our engine vs backtesting.py, backtrader and vectorbt, same run.

Strategy: SMA(10)/SMA(20) long-only crossover, decided at the close and filled at the next open,
commission 0.2% per leg (data/backtests/SOURCE.md). Sizes: GOOG daily (2,148 bars, all-in sizing,
the parity case) and GOOG tiled by mirroring to 100k and 1M one-minute bars (fixed 10-share orders,
since all-in compounding overflows on the tiled series). Every engine must report the same trade
count and final equity; the table says so per row.

"ours" is the full engine path — ``backtest_run``: strategy scores, the live ensemble, the event
loop with the shared cost models, attribution, the equity curve, metrics and the data hash.

Then a sweep of 100 (fast, slow) pairs on GOOG: our vectorised sweep vs backtesting.py's
``optimize`` and vectorbt's broadcast ``from_signals``, with the 100 final equities compared.

Reference engines run in a child process (``python -P bench/reference_engines.py``): there,
``import backtesting`` is backtesting.py, not this repository's package of the same name.
backtrader is slow on large inputs; by default it runs up to ``--backtrader-max-bars`` (100k) and
is reported as skipped above that (``--backtrader-max-bars 1000000`` runs it at 1M, minutes).

Run: ``python -m bench.backtest_bench`` (needs requirements/bench.txt installed).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
WORKER = ROOT / "bench" / "reference_engines.py"
FASTS = list(range(2, 22, 2))  # 10 fast windows
SLOWS = list(range(25, 75, 5))  # x 10 slow windows = 100 pairs, always fast < slow


def _ours_config(fixed: int):
    from apps.execution.costs import BpsCommission
    from backtesting.config import BacktestConfig, SizingKind, StrategySpec

    return BacktestConfig(
        symbols=("GOOG",),
        strategies=(StrategySpec("sma_cross", {"fast": 10, "slow": 20}),),
        initial_capital=10_000.0,
        commission=BpsCommission(bps=Decimal(20)),
        sizing=SizingKind.FIXED_SHARES if fixed else SizingKind.CASH_FRACTION,
        sizing_value=float(fixed) if fixed else 1.0,
        timeframe="1Min" if fixed else "1Day",
    )


def run_ours(frame, fixed: int, repeat: int) -> dict:
    from backtesting.engine import backtest_run

    cfg = _ours_config(fixed)
    backtest_run(
        cfg, {"GOOG": frame}
    )  # warm-up: first-call imports (registry, ta), as vectorbt's JIT
    best = float("inf")
    result = None
    for _ in range(repeat):
        t = time.perf_counter()
        result = backtest_run(cfg, {"GOOG": frame})
        best = min(best, time.perf_counter() - t)
    assert result is not None
    return {
        "seconds": best,
        "trades": len(result.records),
        "final_equity": float(result.equity[-1]),
    }


def run_reference(engine: str, task: str, npz: Path, opts: dict, timeout: float) -> dict:
    cmd = [sys.executable, "-P", str(WORKER), engine, task, str(npz), json.dumps(opts)]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    try:
        out = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            cwd=tempfile.gettempdir(),
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"capped: over {timeout:.0f}s"}
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    if out.returncode != 0 or not lines:
        tail = (out.stderr or out.stdout).strip().splitlines()[-1:] or ["no output"]
        return {"error": f"failed: {tail[0][:120]}"}
    return json.loads(lines[-1])


def save_npz(frame, path: Path) -> Path:
    np.savez(
        path,
        time=frame.time,
        open=frame.open,
        high=frame.high,
        low=frame.low,
        close=frame.close,
        volume=frame.volume,
    )
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2000,100000,1000000")
    parser.add_argument("--repeat", type=int, default=3, help="our engine: best of N")
    parser.add_argument("--backtrader-max-bars", type=int, default=100_000)
    parser.add_argument("--timeout", type=float, default=600.0, help="per reference run, seconds")
    parser.add_argument("--no-reference", action="store_true", help="only our engine")
    args = parser.parse_args(argv)

    from backtesting.data import frame_from_csv, frame_tile_mirror, goog_csv_path

    goog_path = goog_csv_path()
    if goog_path is None:
        sys.exit("backtesting.py is not installed (pip install -r requirements/bench.txt)")
    goog = frame_from_csv(goog_path, ticker="GOOG")
    tmp = Path(tempfile.mkdtemp(prefix="tb_bench_"))
    sizes = [int(s) for s in args.sizes.split(",")]

    print(
        f"SMA(10)/SMA(20) crossover, next-open fills, 0.2% commission; machine: {os.cpu_count()} CPUs"
    )
    header = (
        f"{'bars':>9} {'engine':<15} {'seconds':>9} {'bars/s':>12} {'trades':>7} "
        f"{'final equity':>15} {'ours x faster':>13}"
    )
    print(header)
    print("-" * len(header))
    for size in sizes:
        parity = size <= len(goog)
        frame = goog if parity else frame_tile_mirror(goog, size)
        n = len(frame)
        fixed = 0 if parity else 10
        ours = run_ours(frame, fixed, args.repeat)
        rows = [("ours", ours)]
        if not args.no_reference:
            npz = save_npz(frame, tmp / f"bars_{n}.npz")
            opts = {"cash": 10_000.0, "commission": 0.002, "fixed": fixed}
            for engine in ("backtesting.py", "backtrader", "vectorbt"):
                if engine == "backtrader" and n > args.backtrader_max_bars:
                    rows.append(
                        (
                            engine,
                            {
                                "error": f"skipped (> --backtrader-max-bars {args.backtrader_max_bars})"
                            },
                        )
                    )
                    continue
                rows.append((engine, run_reference(engine, "run", npz, opts, args.timeout)))
        for name, r in rows:
            if "error" in r:
                print(f"{n:>9} {name:<15} {r['error']}")
                continue
            agree = (
                ""
                if name == "ours"
                else (
                    " ok"
                    if r["trades"] == ours["trades"]
                    and abs(r["final_equity"] - ours["final_equity"]) < 0.01
                    else " MISMATCH"
                )
            )
            ratio = "" if name == "ours" else f"{r['seconds'] / ours['seconds']:>12.1f}x"
            print(
                f"{n:>9} {name:<15} {r['seconds']:>9.4f} {n / r['seconds']:>12,.0f} {r['trades']:>7} "
                f"{r['final_equity']:>15,.2f} {ratio:>13}{agree}"
            )

    # -- sweep ----------------------------------------------------------------------------------
    from apps.execution.costs import BpsCommission
    from backtesting.sweep import sma_sweep

    pairs = [(f, s) for f in FASTS for s in SLOWS]
    com = BpsCommission(bps=Decimal(20))
    sma_sweep(goog, pairs, cash=10_000.0, commission=com)  # warm caches, as vectorbt is warmed
    best = float("inf")
    ours_eq = None
    for _ in range(max(args.repeat, 5)):
        t = time.perf_counter()
        ours_eq = sma_sweep(goog, pairs, cash=10_000.0, commission=com)
        best = min(best, time.perf_counter() - t)
    assert ours_eq is not None
    print(f"\nsweep: {len(pairs)} (fast, slow) pairs on GOOG ({len(goog)} bars), all-in sizing")
    print(f"{'engine':<28} {'seconds':>9} {'ours x faster':>14}  equities")
    print(
        f"{'ours (sma_sweep)':<28} {best:>9.4f} {'':>14}  min {ours_eq.min():,.2f} max {ours_eq.max():,.2f}"
    )
    if not args.no_reference:
        npz = save_npz(goog, tmp / "goog.npz")
        opts = {"cash": 10_000.0, "commission": 0.002, "fasts": FASTS, "slows": SLOWS}
        for engine, label in (
            ("backtesting.py", "backtesting.py optimize"),
            ("vectorbt", "vectorbt broadcast"),
        ):
            r = run_reference(engine, "sweep", npz, opts, args.timeout)
            if "error" in r:
                print(f"{label:<28} {r['error']}")
                continue
            theirs = np.asarray(r["equities"])
            same = int(np.sum(np.abs(theirs - ours_eq) < 0.01))
            print(
                f"{label:<28} {r['seconds']:>9.4f} {r['seconds'] / best:>13.1f}x  "
                f"{same}/{len(pairs)} final equities equal (to the cent)"
            )


if __name__ == "__main__":
    main()
