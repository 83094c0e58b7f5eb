"""tradebot: a self-hosted, news-aware, self-tuning trading bot for US equities."""

from tradebot.celery import app as celery_app

__all__ = ("celery_app",)
