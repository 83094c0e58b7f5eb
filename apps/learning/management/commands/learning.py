"""``manage.py learning freeze|unfreeze|status|cycle|replay``."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from apps.learning.models import LearningCycle, TradeOutcome
from apps.learning.selectors import audit_replay, learning_config_get, learning_state_get
from apps.learning.services import learning_cycle_run, learning_freeze
from apps.strategies.models import LIVE_ACCOUNT, Strategy


class Command(BaseCommand):
    help = "Freeze, unfreeze or inspect the learning engine; run a cycle; replay the audit log."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("action", choices=["freeze", "unfreeze", "status", "cycle", "replay"])
        parser.add_argument("--reason", default="", help="why (freeze/unfreeze)")
        parser.add_argument(
            "--force", action="store_true", help="cycle: run even without new outcomes"
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        action = opts["action"]
        if action in ("freeze", "unfreeze"):
            reason = opts["reason"] or f"{action} from the command line"
            learning_freeze(frozen=action == "freeze", reason=reason)
            self.stdout.write(f"learning {action}d: {reason}")
        elif action == "cycle":
            report = learning_cycle_run(trigger="manual", force=opts["force"])
            self.stdout.write(f"cycle: {report.outcome} {report.cycle}".rstrip())
            for name, weight in sorted(report.weights.items()):
                self.stdout.write(f"  {name:<20} {weight}")
        elif action == "replay":
            audit = audit_replay()
            for name in sorted(audit.current):
                self.stdout.write(
                    f"  {name:<20} current {audit.current[name]}  replayed {audit.replayed.get(name)}"
                )
            if not audit.ok:
                raise CommandError("replay differs:\n" + "\n".join(audit.problems))
            self.stdout.write(f"replay of {audit.cycles} cycle(s) reproduces the current weights")
        else:
            self._status()

    def _status(self) -> None:
        state = learning_state_get()
        config = learning_config_get()
        self.stdout.write(
            f"learning: {'FROZEN' if state.frozen else 'active'}"
            + (f" ({state.reason})" if state.reason else "")
        )
        self.stdout.write(
            f"last cycle: {state.last_cycle_at or 'never'}; outcomes: "
            f"{TradeOutcome.objects.filter(account=LIVE_ACCOUNT).count()}; cycles logged: "
            f"{LearningCycle.objects.filter(account=LIVE_ACCOUNT).count()}"
        )
        self.stdout.write(f"config: {config.to_dict()}")
        for s in Strategy.objects.order_by("name"):
            flag = "" if s.active else " (inactive)"
            self.stdout.write(f"  {s.name:<20} {s.weight}  initial {s.initial_weight}{flag}")
