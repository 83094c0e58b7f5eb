"""Thin Celery tasks. Each decodes, calls one service, and encodes; no business rules live here."""

from tasks import backtest as backtest
from tasks import bus as bus
from tasks import execution as execution
from tasks import learning as learning
from tasks import market as market
from tasks import news as news
from tasks import sentiment as sentiment
from tasks import signals as signals
