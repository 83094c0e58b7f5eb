"""No stage reads the wall clock directly: time comes from the clock port.

Market time (decisions, order and fill stamps, learning cycles, bar windows) comes from a
``Clock`` -- ``apps.market.clock.market_clock()`` in the live stages, the simulated clock in a
replay or backtest. The machine's own time (token expiry, bus bookkeeping, a poll's backoff, a
run's start) comes from ``apps.core.clock.wall_now``/``wall_time``, so that every wall-clock read
is one of those two functions and a reader sees which kind of time a line wants.

This test walks the syntax tree of every runtime module and fails on a direct read anywhere else.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("apps", "tasks", "backtesting")
CLOCK_MODULES = {Path("apps/core/clock.py"), Path("apps/market/clock.py")}
# (object, attribute) calls that read the wall clock.
READS = {
    ("timezone", "now"),
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
    ("time", "time"),
    ("time", "time_ns"),
}


def runtime_modules() -> list[Path]:
    out = []
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            rel = path.relative_to(ROOT)
            if {"tests", "migrations"} & set(rel.parts) or rel in CLOCK_MODULES:
                continue
            out.append(rel)
    return out


def direct_reads(path: Path) -> list[str]:
    tree = ast.parse((ROOT / path).read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        target = node.func.value
        name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", None)
        if (name, node.func.attr) in READS:
            found.append(f"{path}:{node.lineno}: {name}.{node.func.attr}()")
    return found


def test_the_scan_sees_the_runtime_and_catches_a_read(tmp_path) -> None:
    modules = runtime_modules()
    assert len(modules) > 150 and Path("tasks/consumers/signals.py") in modules
    assert Path("apps/core/clock.py") not in modules
    sample = ROOT / "apps" / "_clock_scan_sample.py"
    sample.write_text(
        "import time\nfrom django.utils import timezone\n"
        "a = timezone.now()\nb = time.time()\nc = time.monotonic()\n"
    )
    try:
        reads = direct_reads(sample.relative_to(ROOT))
    finally:
        sample.unlink()
    assert reads == [
        "apps/_clock_scan_sample.py:3: timezone.now()",
        "apps/_clock_scan_sample.py:4: time.time()",
    ]  # time.monotonic() measures durations: not a clock read


def test_no_runtime_module_reads_the_wall_clock_directly() -> None:
    reads = [r for path in runtime_modules() for r in direct_reads(path)]
    assert not reads, (
        "read time through the clock port (market: apps.market.clock.market_clock(); the "
        "machine's own time: apps.core.clock.wall_now()/wall_time()):\n" + "\n".join(reads)
    )
