"""The stages' consumer groups as Redis holds them, and the stale ones a changed split leaves.

After ``BUS_PARTITIONS`` of a stage changes, the groups of the old split (``signals`` after a split
into ``signals.0``/``signals.1``, or the partitions after going back to one) stay on the stream: no
drain reads them any more, so their lag grows (and the stream-lag alert fires). Once every process
runs the new split, ``manage.py bus_groups --drop-stale`` removes those that hold nothing pending.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import redis

from apps.bus.topology import STAGES, stage_routes
from apps.core.redis_client import redis_client, text

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GroupState:
    stream: str
    group: str
    stage: str
    current: bool  # drained under the topology this process runs
    pending: int
    lag: int | None
    last_delivered: str


def stage_groups(only: str | None = None) -> list[GroupState]:
    """Every consumer group of a stage on its stream (on stream ``only``), current or stale."""
    current = {r.group for r in stage_routes()}
    stages = {r.group: r.stream for r in STAGES}
    if only is not None and only not in stages.values():
        return []  # not a stage's stream (the probe's, a test's)
    r = redis_client()
    out: list[GroupState] = []
    for stream in [only] if only else sorted(set(stages.values())):
        try:
            infos = r.xinfo_groups(stream)
        except redis.exceptions.ResponseError:  # no such stream yet
            continue
        for info in infos:
            name = text(info["name"])
            stage = name.partition(".")[0]
            if stages.get(stage) != stream:
                continue  # not a stage's group (an API bridge, a probe)
            lag = info.get("lag")
            out.append(
                GroupState(
                    stream=stream,
                    group=name,
                    stage=stage,
                    current=name in current,
                    pending=int(info.get("pending") or 0),
                    lag=None if lag is None else int(lag),
                    last_delivered=text(info.get("last-delivered-id")),
                )
            )
    return out


def stale_groups_drop() -> tuple[list[GroupState], list[GroupState]]:
    """Destroy the stale groups that hold nothing pending. Returns (dropped, kept): a stale group
    with pending entries is kept (they would be lost); reclaim them with the old split first."""
    dropped: list[GroupState] = []
    kept: list[GroupState] = []
    r = redis_client()
    for g in stage_groups():
        if g.current:
            continue
        if g.pending:
            kept.append(g)
            continue
        r.xgroup_destroy(g.stream, g.group)
        log.warning("bus: dropped the stale group %s of %s (old split)", g.group, g.stream)
        dropped.append(g)
    return dropped, kept
