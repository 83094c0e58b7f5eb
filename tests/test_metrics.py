"""The web process serves Prometheus metrics, including the bus and queue gauges read from Redis."""

from __future__ import annotations

import time

import pytest
from django.db import transaction
from django.test import Client

from apps.bus import outbox
from apps.bus.probe import Ping


@pytest.mark.django_db(transaction=True)
def test_metrics_endpoint_reports_stream_and_queue_gauges(client: Client, redis_conn) -> None:
    with transaction.atomic():
        outbox.publish("bus:ping:1", Ping(sent_at=time.time()))
    body = client.get("/metrics").content.decode()
    assert 'tradebot_stream_length{stream="bus:ping:1"} 1.0' in body
    assert 'tradebot_queue_depth{queue="default"} 1.0' in body  # the drain task it queued
    assert 'tradebot_bus_published_total{stream="bus:ping:1"}' in body


@pytest.mark.django_db
def test_healthz(client: Client, redis_conn) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "postgres": "ok", "redis": "ok"}
