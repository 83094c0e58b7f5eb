"""The bus probe: a four-stage chain of real consumers that commit a row per stage.

Used by the health check, the bus tests (with fault injection, only when
``BUS_FAULT_INJECTION`` is on) and ``bench/bus_bench.py``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.db import transaction

from apps.bus.consumer import Delivery, StreamConsumer
from apps.bus.topology import PROBE_STREAMS, probe_queue
from apps.core.clock import wall_time
from apps.core.contracts import Contract
from apps.core.models import BusPing


@dataclass(frozen=True, slots=True)
class Ping(Contract):
    TYPE = "bus.ping"
    VERSION = 1

    sent_at: float
    hops: int = 1  # how many stages the ping goes through (1..4)
    note: str = ""
    # Fault injection for tests: "", "raise", "crash_before_commit", "crash_after_commit".
    fault: str = ""
    fault_stage: int = 1


LATENCY_KEY = "bus:probe:latency"
HOP_LATENCY_KEY = "bus:probe:hop_latency"
PING_STREAMS = list(PROBE_STREAMS)


class _PingStage(StreamConsumer):
    stage: int
    savepoint_per_message = False

    def handle(self, delivery: Delivery) -> None:
        self.handle_batch([delivery])

    def handle_batch(self, deliveries: list[Delivery]) -> None:
        rows = []
        for delivery in deliveries:
            ping = delivery.message
            assert isinstance(ping, Ping)
            self._maybe_fault(ping, delivery, before_commit=True)
            rows.append(
                BusPing(
                    event_id=delivery.event_id,
                    stage=self.stage,
                    sent_at=datetime.fromtimestamp(ping.sent_at, UTC),
                    note=ping.note,
                )
            )
            if ping.hops > self.stage:
                delivery.emit(PING_STREAMS[self.stage], ping)
        BusPing.objects.bulk_create(rows)
        for delivery in deliveries:
            assert isinstance(delivery.message, Ping)
            self._maybe_fault(delivery.message, delivery, before_commit=False)

    def after_commit(self, deliveries: list[Delivery]) -> None:
        """Record end-to-end latency (publish -> ... -> commit -> ack) of pings at their last stage.

        Kept in a capped Redis list for the health check and ``bench/bus_bench.py``.
        """
        now = wall_time()
        done = [
            d for d in deliveries if isinstance(d.message, Ping) and d.message.hops == self.stage
        ]
        if done:
            pipe = self.redis.pipeline(transaction=False)
            for d in done:
                assert isinstance(d.message, Ping)
                # Since the producer began its transaction, and since the last hop's XADD.
                pipe.lpush(LATENCY_KEY, f"{now - d.message.sent_at:.6f}")
                pipe.lpush(HOP_LATENCY_KEY, f"{now - d.sent_at:.6f}")
            pipe.ltrim(LATENCY_KEY, 0, 99_999)
            pipe.ltrim(HOP_LATENCY_KEY, 0, 99_999)
            pipe.execute()

    def _maybe_fault(self, ping: Ping, delivery: Delivery, *, before_commit: bool) -> None:
        if not ping.fault or ping.fault_stage != self.stage:
            return
        if not getattr(settings, "BUS_FAULT_INJECTION", False):
            return
        if ping.fault == "raise" and before_commit:
            raise RuntimeError("injected failure (poison message)")
        crash_now = (ping.fault == "crash_before_commit" and before_commit) or (
            ping.fault == "crash_after_commit" and not before_commit
        )
        if not crash_now:
            return
        # Crash faults fire once per event, then the redelivery succeeds.
        if not self.redis.set(
            f"bus:fault:{self.group}:{delivery.event_id}", b"1", nx=True, ex=3600
        ):
            return
        if before_commit:
            os._exit(137)
        transaction.on_commit(lambda: os._exit(137))


def _stage(n: int) -> type[_PingStage]:
    cls: type[_PingStage] = type(
        f"PingStage{n}",
        (_PingStage,),
        {
            "stage": n,
            "stream": PING_STREAMS[n - 1].value,
            "group": f"probe-{n}",
            "queue": probe_queue(n),
            "__module__": __name__,
        },
    )
    return cls


PingStage1, PingStage2, PingStage3, PingStage4 = (_stage(n) for n in range(1, 5))
