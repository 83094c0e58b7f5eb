"""Thin Celery tasks. Each decodes, calls one service, and encodes; no business rules live here."""

from tasks import bus as bus
from tasks import learning as learning
from tasks import news as news
