"""The weight update (pure, exact Decimal arithmetic, 8 decimals).

One cycle, for the *eligible* strategies ``E`` (those with enough trades; the others keep their
weight) holding the mass ``S = 1 − Σ_{j∉E} w_j``:

1. **Reward into weight space** — a softmax with a temperature ``T``::

       target_i = S · exp(r_i / T) / Σ_{j∈E} exp(r_j / T)

   The targets are positive and sum to ``S``: the best strategy gets the most weight, and ``T``
   says how much better (in reward units) it must be to get ``e`` times the weight of another.
2. **Learning rate**: ``proposal_i = (1 − lr) · w_i + lr · target_i`` (this is
   ``new = (1 − lr)·old + lr·reward_signal`` with ``reward_signal = target``).
3. **Guardrails, by projection**: the new weights are the Euclidean projection of the proposal onto

       { w : Σ_{i∈E} w_i = S,  lo_i ≤ w_i ≤ hi_i },
       lo_i = max(floor, w_i − max_shift),   hi_i = min(max(w_i + max_shift, floor), S)

   i.e. ``w_i = clip(proposal_i − τ, lo_i, hi_i)`` for the one ``τ`` that makes the sum ``S``
   (found exactly: the sum is piecewise linear in ``τ``). The set is not empty because the old
   weights lie in it, so a feasible answer always exists when the old weights were valid.
4. **Exact 8 decimals**: each weight is rounded *down* to 8 decimals (still ``≥ lo_i``, since
   ``lo_i`` is on the 8-decimal grid) and the few missing 1e-8 units go, one each, to the
   weights with the largest remainders (still ``≤ hi_i``: a weight with a remainder was below
   ``hi_i``, which is on the grid). So the result sums to ``S`` exactly, every weight is at least
   the floor, and no weight moved by more than ``max_shift``.

If the previous weights were outside the guardrails (only possible after a manual edit), the cap is
relaxed for that cycle (bounds ``[floor, S]``) and the change's reason says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from typing import Any

from apps.learning.numbers import CTX, ONE, Q8, ZERO, q8, q8_floor, to_decimal


@dataclass(frozen=True, slots=True)
class UpdateConfig:
    lr: Decimal = Decimal("0.2")
    min_trades: int = 20  # a strategy is adjusted only once it took part in this many trades
    max_shift: Decimal = Decimal("0.1")  # per cycle, in weight units (weights sum to 1)
    floor: Decimal = Decimal("0.05")
    temperature: Decimal = Decimal("0.0025")  # reward units per factor e of weight

    def __post_init__(self) -> None:
        for name in ("lr", "max_shift", "floor", "temperature"):
            object.__setattr__(self, name, q8(to_decimal(getattr(self, name))))
        if not ZERO < self.lr <= ONE:
            raise ValueError("lr must be in (0, 1]")
        if not ZERO < self.max_shift <= ONE:
            raise ValueError("max_shift must be in (0, 1]")
        if not ZERO <= self.floor < ONE:
            raise ValueError("floor must be in [0, 1)")
        if self.temperature <= ZERO:
            raise ValueError("temperature must be > 0")
        if self.min_trades < 0:
            raise ValueError("min_trades must be >= 0")

    def to_dict(self) -> dict[str, Any]:
        return {
            "lr": str(self.lr),
            "min_trades": self.min_trades,
            "max_shift": str(self.max_shift),
            "floor": str(self.floor),
            "temperature": str(self.temperature),
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> UpdateConfig:
        return cls(
            lr=Decimal(str(raw["lr"])),
            min_trades=int(raw["min_trades"]),
            max_shift=Decimal(str(raw["max_shift"])),
            floor=Decimal(str(raw["floor"])),
            temperature=Decimal(str(raw["temperature"])),
        )


@dataclass(frozen=True, slots=True)
class WeightChange:
    """One eligible strategy's adjustment in a cycle (written even when the weight did not move)."""

    strategy: str
    old: Decimal
    new: Decimal
    reward: Decimal
    target: Decimal  # the reward mapped into weight space
    proposal: Decimal  # (1 − lr)·old + lr·target, before the guardrails
    bound: str = ""  # "cap" / "floor" when a guardrail held the weight back, else ""

    @property
    def shift(self) -> Decimal:
        return self.new - self.old


@dataclass(frozen=True, slots=True)
class WeightUpdate:
    weights: dict[str, Decimal]  # every strategy passed in, new weights
    changes: tuple[WeightChange, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def applied(self) -> bool:
        return bool(self.changes)


def reward_targets(
    *, rewards: Mapping[str, Decimal], mass: Decimal, temperature: Decimal
) -> dict[str, Decimal]:
    """Softmax of ``rewards / temperature`` scaled to ``mass`` (full precision, not rounded)."""
    if not rewards:
        return {}
    with localcontext(CTX):
        top = max(rewards.values())
        exps = {n: ((r - top) / temperature).exp() for n, r in sorted(rewards.items())}
        total = sum(exps.values(), ZERO)
        return {n: mass * e / total for n, e in exps.items()}


def weights_project(
    *,
    proposal: Mapping[str, Decimal],
    lower: Mapping[str, Decimal],
    upper: Mapping[str, Decimal],
    total: Decimal,
) -> dict[str, Decimal]:
    """The closest point to ``proposal`` with ``lower ≤ w ≤ upper`` and ``Σ w = total``, exactly
    on the 8-decimal grid (see the module doc). ``lower``, ``upper`` and ``total`` must be on the
    grid. Raises ``ValueError`` when the bounds cannot hold ``total``."""
    names = sorted(proposal)
    if not names:
        if total != ZERO:
            raise ValueError("no weights to hold a non-zero total")
        return {}
    with localcontext(CTX):
        if (
            sum((lower[n] for n in names), ZERO) > total
            or sum((upper[n] for n in names), ZERO) < total
        ):
            raise ValueError("bounds cannot hold the total")
        for n in names:
            if lower[n] > upper[n]:
                raise ValueError(f"empty bounds for {n}")

        def at(tau: Decimal) -> dict[str, Decimal]:
            return {n: min(upper[n], max(lower[n], proposal[n] - tau)) for n in names}

        def level(tau: Decimal) -> Decimal:
            return sum(at(tau).values(), ZERO)

        points = sorted(
            {proposal[n] - upper[n] for n in names} | {proposal[n] - lower[n] for n in names}
        )
        levels = [level(t) for t in points]
        tau = points[0]
        for k in range(len(points) - 1):
            fa, fb = levels[k], levels[k + 1]
            if fa >= total >= fb:
                a, b = points[k], points[k + 1]
                # The level is linear between two breakpoints, so interpolation is exact.
                tau = a if fa == fb else a + (fa - total) * (b - a) / (fa - fb)
                break
        exact = at(tau)

        floored = {n: q8_floor(exact[n]) for n in names}
        units = int((total - sum(floored.values(), ZERO)) / Q8)
        order = sorted(names, key=lambda n: (-(exact[n] - floored[n]), n))
        while units > 0:
            moved = False
            for n in order:
                if units == 0:
                    break
                if floored[n] + Q8 <= upper[n]:
                    floored[n] += Q8
                    units -= 1
                    moved = True
            if not moved:  # cannot happen when Σ upper ≥ total (checked above)
                raise ArithmeticError("no room left to place the rounding remainder")
        return floored


def weights_update(
    *, weights: Mapping[str, Decimal], rewards: Mapping[str, Decimal], config: UpdateConfig
) -> WeightUpdate:
    """One update cycle. ``weights``: every active strategy's current weight (8 decimals);
    ``rewards``: the reward of each *eligible* strategy only (the caller applied ``min_trades``).
    Strategies without a reward keep their weight exactly."""
    unknown = set(rewards) - set(weights)
    if unknown:
        raise ValueError(f"rewards for unknown strategies: {sorted(unknown)}")
    old = {n: q8(to_decimal(w)) for n, w in weights.items()}
    if not rewards:
        return WeightUpdate(weights=dict(old), notes=("no eligible strategy",))
    with localcontext(CTX):
        eligible = sorted(rewards)
        mass = ONE - sum((w for n, w in old.items() if n not in rewards), ZERO)
        notes: list[str] = []
        if config.floor * len(eligible) > mass:
            note = (
                f"infeasible: {len(eligible)} strategies cannot each keep {config.floor} of {mass}"
            )
            return WeightUpdate(weights=dict(old), notes=(note,))
        targets = reward_targets(rewards=rewards, mass=mass, temperature=config.temperature)
        proposal = {n: (ONE - config.lr) * old[n] + config.lr * targets[n] for n in eligible}
        lower = {n: max(config.floor, old[n] - config.max_shift) for n in eligible}
        upper = {n: min(max(old[n] + config.max_shift, config.floor), mass) for n in eligible}
        if (
            any(lower[n] > upper[n] for n in eligible)
            or sum(lower.values(), ZERO) > mass
            or sum(upper.values(), ZERO) < mass
        ):
            lower = {n: config.floor for n in eligible}
            upper = {n: mass for n in eligible}
            notes.append("max-shift cap relaxed: the previous weights were outside the guardrails")
        new = weights_project(proposal=proposal, lower=lower, upper=upper, total=mass)
        changes = []
        for n in eligible:
            bound = ""
            if new[n] == upper[n] and proposal[n] > upper[n]:
                bound = "cap"
            elif new[n] == lower[n] and proposal[n] < lower[n]:
                bound = "floor" if lower[n] == config.floor else "cap"
            changes.append(
                WeightChange(
                    strategy=n,
                    old=old[n],
                    new=new[n],
                    reward=q8(to_decimal(rewards[n])),
                    target=q8(targets[n]),
                    proposal=q8(proposal[n]),
                    bound=bound,
                )
            )
    result = dict(old)
    result.update(new)
    return WeightUpdate(weights=result, changes=tuple(changes), notes=tuple(notes))


def weights_pin(
    *, weights: Mapping[str, Decimal], strategy: str, value: Decimal, floor: Decimal
) -> dict[str, Decimal]:
    """Set one strategy's weight by hand; the others share ``1 − value`` in proportion to their
    current weights, each kept at or above ``floor``, summing to exactly 1 (manual resets are
    not bound by the per-cycle cap)."""
    if strategy not in weights:
        raise ValueError(f"unknown strategy {strategy!r}")
    with localcontext(CTX):
        value = q8(to_decimal(value))
        others = sorted(n for n in weights if n != strategy)
        rest = ONE - value
        lowest, highest = (floor if others else ZERO), ONE - floor * len(others)
        if not others and value != ONE:
            raise ValueError("a single strategy's weight must be 1")
        if not (lowest <= value <= highest):
            raise ValueError(
                f"weight must be between {lowest} and {highest} with {len(others)} others"
            )
        current = {n: q8(to_decimal(weights[n])) for n in others}
        held = sum(current.values(), ZERO)
        if held > ZERO:
            proposal = {n: current[n] * rest / held for n in others}
        else:
            proposal = {n: rest / len(others) for n in others}
        new = weights_project(
            proposal=proposal,
            lower={n: floor for n in others},
            upper={n: rest for n in others},
            total=rest,
        )
    return {**new, strategy: value}


def guardrails_check(
    *,
    old: Mapping[str, Decimal],
    new: Mapping[str, Decimal],
    eligible: set[str],
    config: UpdateConfig,
) -> list[str]:
    """Every guardrail an update broke (empty when all hold); used by tests and the replay."""
    problems: list[str] = []
    for n, w in new.items():
        if w != q8(w):
            problems.append(f"{n}: {w} is not on the 8-decimal grid")
        if n not in eligible and w != old[n]:
            problems.append(f"{n}: not eligible but moved {old[n]} -> {w}")
        if n in eligible:
            if w < config.floor:
                problems.append(f"{n}: {w} below the floor {config.floor}")
            if abs(w - old[n]) > config.max_shift and old[n] >= config.floor:
                problems.append(f"{n}: moved {w - old[n]} > {config.max_shift}")
    if eligible and sum(new.values(), ZERO) != ONE:
        problems.append(f"weights sum to {sum(new.values(), ZERO)}, not 1")
    return problems
