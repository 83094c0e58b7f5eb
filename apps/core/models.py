"""Bus bookkeeping: the transactional outbox and per-consumer-group receipts."""

from __future__ import annotations

from django.db import models


class OutboxMessage(models.Model):
    """A stream message written in the same transaction as the change that caused it.

    It is published after commit and then deleted; rows left by a crash are re-published by the relay.
    """

    stream = models.CharField(max_length=100)
    event_id = models.UUIDField(unique=True)
    payload = models.TextField()
    trace = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        db_table = "bus_outbox"

    def __str__(self) -> str:
        return f"{self.stream} {self.event_id}"


class ProcessedMessage(models.Model):
    """Receipt: consumer group ``group`` has committed the effect of event ``event_id``.

    Written in the stage's own transaction, so a redelivered message is recognised and skipped.
    """

    group = models.CharField(max_length=100)
    stream = models.CharField(max_length=100)
    event_id = models.UUIDField()
    message_id = models.CharField(max_length=40)
    # What the stage emitted for this event: re-sent if the event is redelivered, because a crash
    # may have come between the commit and the XADD (this is the consumers' outbox).
    outputs = models.JSONField(default=list, blank=True)
    processed_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        db_table = "bus_receipts"
        constraints = [
            models.UniqueConstraint(fields=["group", "event_id"], name="uniq_receipt_group_event")
        ]

    def __str__(self) -> str:
        return f"{self.group} {self.event_id}"


class BusPing(models.Model):
    """Effect of the bus probe consumers: one row per stage a ping went through (health, bench)."""

    event_id = models.UUIDField()
    stage = models.PositiveSmallIntegerField()
    sent_at = models.DateTimeField()
    committed_at = models.DateTimeField(auto_now_add=True)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        db_table = "bus_pings"
        # Deliberately no unique constraint: a double-applied effect must show up as two rows,
        # so the exactly-once tests test the receipts, not a constraint.
        indexes = [models.Index(fields=["event_id", "stage"])]

    def __str__(self) -> str:
        return f"ping {self.event_id} stage {self.stage}"
