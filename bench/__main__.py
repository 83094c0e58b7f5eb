"""`python -m bench`: run every benchmark in turn (each prints its own table)."""

from __future__ import annotations

import importlib
import sys

BENCHES = [
    "bench.bus_bench",
    "bench.pipeline_bench",
    "bench.sentiment_bench",
    "bench.backtest_bench",
    "bench.api_bench",
]


def main() -> None:
    for name in BENCHES:
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            print(f"{name}: not available ({exc})")
            continue
        print(f"\n===== {name} =====", flush=True)
        saved = sys.argv
        sys.argv = [name]
        try:
            module.main()
        finally:
            sys.argv = saved


if __name__ == "__main__":
    main()
