"""Writes of the learning stage: trade outcomes, learning cycles, freeze, manual weight resets.

Every weight change goes through here and leaves an audit trail: one ``LearningCycle`` row, one
``LearningAdjustment`` per strategy it touched (reason and reward) and a ``StrategyWeightHistory``
row per weight that moved. Cycles and resets are serialised by a row lock on the learning state, so
the log's order is the order in which the changes were applied.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from django.db import transaction
from django.db.models import Max

from apps.execution.contracts import TradeEvent
from apps.execution.models import Position, Trade
from apps.learning import metrics
from apps.learning.attribution import attribution_compute, contributions_parse
from apps.learning.engine import LearningConfig, cycle_due, learning_step
from apps.learning.models import LearningAdjustment, LearningCycle, LearningState, TradeOutcome
from apps.learning.outcomes import FilledOrder, outcome_compute
from apps.learning.selectors import learning_config_get, outcomes_attributed
from apps.learning.update import weights_pin
from apps.market.clock import market_clock
from apps.strategies.models import LIVE_ACCOUNT, Strategy, StrategyWeightHistory
from apps.strategies.selectors import account_weights

log = logging.getLogger(__name__)

_FILLED = (Trade.Status.FILLED, Trade.Status.PARTIALLY_FILLED)


# ---- outcomes -----------------------------------------------------------------------------------
def outcome_record(*, event: TradeEvent, account: str = LIVE_ACCOUNT) -> TradeOutcome | None:
    """Write the outcome of the position ``event`` closed (idempotent: a second delivery of the
    same close returns the existing row). ``None`` when the event closes nothing or no entry
    trade can be found (logged). ``account`` owns the row (``live``, or a replay's label)."""
    if not event.position_closed:
        return None
    existing = TradeOutcome.objects.filter(exit_trade_id=event.trade_id).first()
    if existing is not None:
        metrics.OUTCOMES.labels("duplicate").inc()
        log.info("learning: outcome for exit trade %s already recorded", event.trade_id)
        return existing
    exit_trade = Trade.objects.get(pk=event.trade_id)  # written in the same commit as the event
    entry = _entry_trade_for(exit_trade)
    if entry is None or entry.price is None:
        metrics.OUTCOMES.labels("skipped").inc()
        log.warning(
            "learning: no filled entry trade for exit %s (%s); outcome skipped",
            exit_trade.pk,
            exit_trade.ticker,
        )
        return None
    exit_price = exit_trade.price if exit_trade.price is not None else event.price
    if exit_price is None:
        raise ValueError(f"exit trade {exit_trade.pk} has no fill price yet")
    exit_at = exit_trade.filled_at or event.timestamp
    realized = event.realized_pnl if event.realized_pnl is not None else exit_trade.pnl
    values = outcome_compute(
        entry=FilledOrder(
            side=entry.side,
            qty=entry.filled_qty or entry.qty,
            price=entry.price,
            at=entry.filled_at or entry.timestamp,
            commission=entry.commission,
        ),
        exit=FilledOrder(
            side=exit_trade.side,
            qty=exit_trade.filled_qty or event.qty,
            price=exit_price,
            at=exit_at,
            commission=exit_trade.commission,
        ),
        realized_pnl=realized,
    )
    outcome = TradeOutcome.objects.create(
        trade=entry,
        exit_trade=exit_trade,
        ticker=exit_trade.ticker,
        hold_duration=values.hold_duration,
        realized_pnl=values.realized_pnl,
        roi_pct=values.roi_pct,
        was_profitable=values.was_profitable,
        attribution=_attribution_for(entry),
        closed_at=exit_at,
        account=account,
    )
    metrics.OUTCOMES.labels("win" if values.was_profitable else "loss").inc()
    return outcome


def _entry_trade_for(exit_trade: Trade) -> Trade | None:
    """The entry this exit closed: the position's entry trade when it is still on record, else
    the latest filled entry on the same broker/ticker, opposite side, filled no later than the
    exit, not yet closed by an outcome."""
    unclosed = Trade.objects.filter(
        broker=exit_trade.broker,
        ticker=exit_trade.ticker,
        status__in=_FILLED,
        outcome__isnull=True,
    ).exclude(side=exit_trade.side)
    pos = (
        Position.objects.filter(broker=exit_trade.broker, ticker=exit_trade.ticker)
        .exclude(entry_trade=None)
        .first()
    )
    if pos is not None and pos.entry_trade_id is not None:
        # The execution stage keeps the round trip's opening trade on the (now flat) position,
        # whatever its purpose (an entry, or a position adopted from the broker).
        entry = unclosed.filter(pk=pos.entry_trade_id).first()
        if entry is not None:
            return entry
    cutoff = exit_trade.filled_at or exit_trade.timestamp
    return (
        unclosed.filter(purpose=Trade.Purpose.ENTRY, timestamp__lte=cutoff)
        .select_related("signal")
        .order_by("-filled_at", "-timestamp", "-id")
        .first()
    )


def _attribution_for(entry: Trade) -> dict[str, float]:
    """Shares from the signal that opened the trade; without a signal (an adopted position) the
    dominant strategy recorded on the trade takes it all, else nobody does."""
    signal = entry.signal
    if signal is not None:
        shares = attribution_compute(
            direction=signal.direction,
            contributions=contributions_parse(signal.strategy_sources or []),
        )
        if shares:
            return shares
        log.warning("learning: signal %s of trade %s has nothing to attribute", signal.pk, entry.pk)
    if entry.strategy:
        return {entry.strategy: 1.0}
    log.warning("learning: trade %s has no signal and no strategy; not attributed", entry.pk)
    return {}


# ---- learning cycles ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CycleReport:
    outcome: str  # applied | frozen | no_new_outcomes | no_eligible | infeasible
    cycle: str = ""
    weights: dict[str, Decimal] = field(default_factory=dict)
    changed: int = 0
    notes: tuple[str, ...] = ()


def _state_locked(account: str = LIVE_ACCOUNT) -> LearningState:
    # Keyed by account, never by an explicit pk: a row inserted with pk=1 leaves the id sequence
    # behind, and the next account's row would then collide with it.
    LearningState.objects.get_or_create(account=account)
    return LearningState.objects.select_for_update().get(account=account)


def _market_now() -> datetime:
    return market_clock().now()


def _cycle_id(now: datetime) -> str:
    return f"{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"


def learning_cycle_run(
    *,
    now: datetime | None = None,
    config: LearningConfig | None = None,
    trigger: str = "beat",
    force: bool = False,
    account: str = LIVE_ACCOUNT,
) -> CycleReport:
    """Run one guarded update over every outcome so far and write its audit trail.

    ``account`` scopes everything: its outcomes, its state and its weights (live: the strategies'
    weights; a replay: its own weight history, starting from the live weights), and every row
    written carries it, so a replay's learning never moves the live weights.

    Skipped (and logged) when learning is frozen, when no outcome arrived since the last applied
    cycle (``force`` overrides: re-applying the same evidence would keep pushing the weights), or
    when no strategy has reached the minimum number of trades.
    """
    now = now or _market_now()
    config = config or learning_config_get()
    with transaction.atomic():
        state = _state_locked(account)
        metrics.FROZEN.set(1 if state.frozen else 0)
        if state.frozen:
            metrics.CYCLES.labels("frozen").inc()
            log.info("learning: frozen (%s); cycle skipped", state.reason or "no reason given")
            return CycleReport(outcome="frozen")
        newest = TradeOutcome.objects.filter(account=account).aggregate(m=Max("id"))["m"] or 0
        if newest <= state.last_outcome_id and not force:
            metrics.CYCLES.labels("no_new_outcomes").inc()
            log.info("learning: no new outcome since #%s; cycle skipped", state.last_outcome_id)
            return CycleReport(outcome="no_new_outcomes")
        if not force and not cycle_due(
            last_cycle_at=state.last_cycle_at, now=now, min_interval_s=config.min_interval_s
        ):
            metrics.CYCLES.labels("too_soon").inc()
            log.info("learning: last cycle at %s; next one due later", state.last_cycle_at)
            return CycleReport(outcome="too_soon")
        strategies = {
            s.name: s
            for s in Strategy.objects.select_for_update().filter(active=True).order_by("name")
        }
        weights = account_weights(strategies=list(strategies.values()), account=account)
        step = learning_step(
            weights=weights,
            outcomes=outcomes_attributed(upto_id=newest, account=account),
            config=config,
        )
        if not step.update.applied:
            outcome = "infeasible" if step.eligible else "no_eligible"
            metrics.CYCLES.labels(outcome).inc()
            log.info(
                "learning: cycle skipped (%s); trades per strategy %s, %s needed",
                "; ".join(step.update.notes),
                step.trade_counts,
                config.update.min_trades,
            )
            return CycleReport(outcome=outcome, weights=weights, notes=step.update.notes)
        cycle_id = _cycle_id(now)
        waiting = (
            f"waiting for {config.update.min_trades} trades: {', '.join(step.waiting)}"
            if step.waiting
            else ""
        )
        note = "; ".join(p for p in (f"trigger {trigger}", *step.update.notes, waiting) if p)
        LearningCycle.objects.create(
            cycle=cycle_id,
            kind=LearningCycle.Kind.UPDATE,
            timestamp=now,
            config=config.to_dict(),
            universe=sorted(weights),
            outcomes_upto=newest,
            note=note[:300],
            account=account,
        )
        changed = 0
        for change in step.update.changes:
            strategy = strategies[change.strategy]
            reason = step.reason(change, config.reward.kind)
            LearningAdjustment.objects.create(
                strategy=strategy,
                old_weight=change.old,
                new_weight=change.new,
                reason=reason,
                reward_signal=float(change.reward),
                cycle=cycle_id,
                timestamp=now,
                account=account,
            )
            if change.new != change.old:
                changed += 1
                text = f"learning {cycle_id}: {reason}"
                _weight_write(strategy, change.old, change.new, text, now, account)
        state.last_outcome_id = newest
        state.last_cycle_at = now
        state.save(update_fields=["last_outcome_id", "last_cycle_at", "changed_at"])
        changes = step.update.changes
        if account == LIVE_ACCOUNT:  # the gauges describe the live weights only
            transaction.on_commit(lambda: _observe(changes, "update", step.rewards))
    metrics.CYCLES.labels("applied").inc()
    log.info("learning: cycle %s applied, %d weight(s) moved: %s", cycle_id, changed, note)
    return CycleReport(
        outcome="applied",
        cycle=cycle_id,
        weights=step.update.weights,
        changed=changed,
        notes=step.update.notes,
    )


def _weight_write(  # noqa: PLR0917 (old/new/reason/time of one history row)
    strategy: Strategy,
    old: Decimal,
    new: Decimal,
    reason: str,
    now: datetime,
    account: str = LIVE_ACCOUNT,
) -> None:
    StrategyWeightHistory.objects.create(
        strategy=strategy,
        old_weight=old,
        new_weight=new,
        reason=reason[:200],
        timestamp=now,
        account=account,
    )
    if account == LIVE_ACCOUNT:  # another account's weight is its latest history row
        strategy.weight = new
        strategy.save(update_fields=["weight", "updated_at"])


class _Change(Protocol):
    @property
    def strategy(self) -> str: ...
    @property
    def old(self) -> Decimal: ...
    @property
    def new(self) -> Decimal: ...


def _observe(
    changes: Iterable[_Change], kind: str, rewards: dict[str, Decimal] | None = None
) -> None:
    for change in changes:
        metrics.ADJUSTMENTS.labels(change.strategy, kind).inc()
        metrics.WEIGHT_DRIFT.labels(change.strategy).observe(float(abs(change.new - change.old)))
        metrics.WEIGHT_DRIFT_LAST.labels(change.strategy).set(float(change.new - change.old))
        metrics.WEIGHT.labels(change.strategy).set(float(change.new))
    for name, reward in (rewards or {}).items():
        metrics.REWARD.labels(name).set(float(reward))


# ---- freeze and manual resets --------------------------------------------------------------------
def learning_freeze(*, frozen: bool, reason: str = "") -> LearningState:
    """Freeze (outcomes are still recorded, weights stay put) or unfreeze learning."""
    with transaction.atomic():
        state = _state_locked()
        state.frozen = frozen
        state.reason = reason[:300]
        state.save(update_fields=["frozen", "reason", "changed_at"])
    metrics.FROZEN.set(1 if frozen else 0)
    log.warning("learning: %s (%s)", "frozen" if frozen else "unfrozen", reason or "no reason")
    return state


@dataclass(frozen=True, slots=True)
class _Manual:
    strategy: str
    old: Decimal
    new: Decimal


def weights_reset(
    *,
    strategy: str | None = None,
    to: Decimal | None = None,
    reason: str = "manual reset",
    now: datetime | None = None,
) -> dict[str, Decimal]:
    """Without ``strategy``: every active strategy back to its initial weight. With ``strategy``:
    that one to ``to`` (default: its initial weight) and the others rescaled to keep the sum at 1,
    each above the floor. Logged as a ``reset`` cycle. Returns the new weights."""
    if strategy is None and to is not None:
        raise ValueError("--to needs a STRATEGY")
    now = now or market_clock().now()
    floor = learning_config_get().update.floor
    with transaction.atomic():
        _state_locked()
        strategies = {
            s.name: s
            for s in Strategy.objects.select_for_update().filter(active=True).order_by("name")
        }
        current = {n: s.weight for n, s in strategies.items()}
        if strategy is None:
            new = {n: s.initial_weight for n, s in strategies.items()}
        else:
            if strategy not in strategies:
                raise ValueError(f"no active strategy {strategy!r}; known: {sorted(strategies)}")
            value = to if to is not None else strategies[strategy].initial_weight
            new = weights_pin(weights=current, strategy=strategy, value=value, floor=floor)
        moved = [_Manual(n, current[n], new[n]) for n in sorted(new) if new[n] != current[n]]
        cycle_id = _cycle_id(now)
        target = strategy or "all strategies"
        LearningCycle.objects.create(
            cycle=cycle_id,
            kind=LearningCycle.Kind.RESET,
            timestamp=now,
            universe=sorted(strategies),
            note=f"{reason}: {target}" + (f" to {to}" if to is not None else " to initial"),
        )
        for m in moved:
            text = f"{reason} ({target})"
            LearningAdjustment.objects.create(
                strategy=strategies[m.strategy],
                old_weight=m.old,
                new_weight=m.new,
                reason=text[:300],
                reward_signal=0.0,
                cycle=cycle_id,
                timestamp=now,
            )
            _weight_write(strategies[m.strategy], m.old, m.new, text, now)
        transaction.on_commit(lambda: _observe(moved, "reset"))
    log.warning("learning: weights reset (%s): %s", target, {m.strategy: str(m.new) for m in moved})
    return {n: new.get(n, current[n]) for n in current}


# ---- a replay's learning ------------------------------------------------------------------------
class ReplayLearning:
    """Learning for an in-process replay (``replay_trading(learner=...)``), under the replay's own
    account: the round trips its broker closed become its outcomes (what the learning consumer
    does live on ``trades.executed``), and after new outcomes one cycle runs when the shared
    cadence rule allows (the debounced trigger), on the replay's clock."""

    def __init__(
        self,
        *,
        account: str,
        broker: str,
        enabled: bool = True,
        config: LearningConfig | None = None,
    ) -> None:
        if account == LIVE_ACCOUNT:
            raise ValueError("a replay learns under an account of its own, never the live one")
        self.account, self.broker, self.enabled = account, broker, enabled
        self.config = config or learning_config_get()

    def reset(self) -> None:
        """Forget the account's outcomes, cycles, adjustments, weight history and state."""
        TradeOutcome.objects.filter(account=self.account).delete()
        LearningAdjustment.objects.filter(account=self.account).delete()
        LearningCycle.objects.filter(account=self.account).delete()
        StrategyWeightHistory.objects.filter(account=self.account).delete()
        LearningState.objects.filter(account=self.account).delete()

    def after_fills(self, now: datetime) -> tuple[int, str | None]:
        if not self.enabled:
            return 0, None
        recorded = self._outcomes_record(now)
        if not recorded:
            return 0, None
        report = learning_cycle_run(
            now=now, config=self.config, trigger="replay", account=self.account
        )
        return recorded, report.outcome

    def _outcomes_record(self, now: datetime) -> int:
        recorded = TradeOutcome.objects.filter(account=self.account).values("exit_trade_id")
        closing = (
            Trade.objects.filter(
                broker=self.broker,
                purpose__in=[Trade.Purpose.EXIT, Trade.Purpose.STOP_LOSS],
                status=Trade.Status.FILLED,
                filled_at__lte=now,
            )
            .exclude(pk__in=recorded)
            .order_by("filled_at", "id")
        )
        n = 0
        for t in closing:
            event = TradeEvent(
                trade_id=t.pk,
                client_order_id=t.client_order_id,
                ticker=t.ticker,
                side=str(t.side),
                qty=t.filled_qty or t.qty,
                status=str(t.status),
                timestamp=t.filled_at or now,
                price=t.price,
                position_closed=True,
                # the round trip's net P&L, as the closing fill reports it live (the position
                # keeps it until it reopens, which no fill of the same morning does)
                realized_pnl=Position.objects.filter(broker=self.broker, ticker=t.ticker)
                .values_list("realized_pnl", flat=True)
                .first(),
            )
            if outcome_record(event=event, account=self.account) is not None:
                n += 1
        return n
