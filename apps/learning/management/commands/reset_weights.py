"""``manage.py reset_weights [STRATEGY] [--to W]``: put weights back by hand, with an audit trail."""

from __future__ import annotations

from argparse import ArgumentParser
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from apps.learning.services import weights_reset


class Command(BaseCommand):
    help = (
        "Without STRATEGY: every active strategy back to its initial weight. With STRATEGY: that "
        "one to W (default: its initial weight), the others rescaled so the weights sum to 1."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("strategy", nargs="?", default=None)
        parser.add_argument("--to", dest="to", default=None, help="the new weight, e.g. 0.5")
        parser.add_argument("--reason", default="manual reset")

    def handle(self, *args: Any, **opts: Any) -> None:
        to: Decimal | None = None
        if opts["to"] is not None:
            try:
                to = Decimal(opts["to"])
            except InvalidOperation:
                raise CommandError(f"--to {opts['to']!r} is not a number") from None
        try:
            weights = weights_reset(strategy=opts["strategy"], to=to, reason=opts["reason"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        for name, weight in sorted(weights.items()):
            self.stdout.write(f"  {name:<20} {weight}")
        self.stdout.write(f"weights reset; sum {sum(weights.values(), Decimal(0))}")
