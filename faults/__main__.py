"""`python -m faults [--articles N] [--kills K] [--json FILE]`: run the suite, print its table.

Exit status 0 when every check held (nothing lost or duplicated, positions reconciled, nothing left
pending, dead letters only for the poison messages, the request budget held), 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from faults.suite import Config, free_port_base, run, table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m faults", description=__doc__)
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--kills", type=int, default=30)
    parser.add_argument("--data-dir", default="/tmp/tradebot-faults")
    parser.add_argument("--port-base", type=int, default=8330)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--settle-timeout", type=float, default=600.0)
    parser.add_argument("--json", default="", help="also write the report here")
    args = parser.parse_args(argv)
    cfg = Config(
        articles=args.articles,
        kills=args.kills,
        data_dir=Path(args.data_dir),
        port_base=free_port_base(args.port_base),
        seed=args.seed,
        settle_timeout_s=args.settle_timeout,
        batch=max(5, min(50, args.articles // 10)),  # ten polls at least: faults fall between
    )
    report = run(cfg, say=lambda line: print(line, flush=True))
    print(table(report), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(report.as_dict(), indent=2, default=str))
    return 0 if not report.problems() else 1


if __name__ == "__main__":
    sys.exit(main())
