"""``manage.py bus_groups [--drop-stale]``: the stages' consumer groups, and the old split's."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from apps.bus.groups import stage_groups, stale_groups_drop


class Command(BaseCommand):
    help = (
        "List each stage's consumer groups (partitions included) with their lag and pending "
        "entries; --drop-stale removes the groups of an old BUS_PARTITIONS split that hold nothing "
        "pending (run it once every process runs the new split)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--drop-stale", action="store_true")

    def handle(self, *args: Any, **opts: Any) -> None:
        groups = stage_groups()
        self.stdout.write(f"{'stream':<20} {'group':<14} {'state':<8} {'lag':>7} {'pending':>8}")
        for g in groups:
            lag = "-" if g.lag is None else str(g.lag)
            state = "current" if g.current else "stale"
            self.stdout.write(f"{g.stream:<20} {g.group:<14} {state:<8} {lag:>7} {g.pending:>8}")
        if not opts["drop_stale"]:
            stale = [g.group for g in groups if not g.current]
            if stale:
                self.stdout.write(f"stale groups (old split): {', '.join(stale)}; --drop-stale")
            return
        dropped, kept = stale_groups_drop()
        for g in dropped:
            self.stdout.write(f"dropped {g.group} on {g.stream}")
        for g in kept:
            self.stderr.write(
                f"kept {g.group} on {g.stream}: {g.pending} pending entries would be lost; "
                "let the old split reclaim them first"
            )
        if not dropped and not kept:
            self.stdout.write("no stale group")
