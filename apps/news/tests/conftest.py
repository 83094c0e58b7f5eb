"""Fixtures of the news tests: stand-in servers and sources pointing at them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from apps.news.tests.standins import SHARED, StandInServer

# Stand-ins replay recorded payloads from the shared real-data folder (not redistributed in the
# repo). Without it these tests fail with that reason instead of passing silently as skips.
requires_shared_data = pytest.mark.usefixtures("shared_news_data")


@pytest.fixture(scope="session")
def shared_news_data() -> None:
    if not (SHARED / "news").is_dir():
        pytest.fail(
            f"shared real data not found at {SHARED}: these tests replay its recorded payloads "
            "(clone the project next to its shared/ folder)",
            pytrace=False,
        )


@pytest.fixture
def standin() -> Iterator[StandInServer]:
    server = StandInServer().start()
    yield server
    server.close()


@pytest.fixture
def news_settings(settings):
    """Short timeouts and no backoff jitter surprises; seeded default sources switched off."""
    settings.NEWS_HTTP_TIMEOUT_S = 1.0
    settings.NEWS_FETCH_DEADLINE_S = 5.0
    settings.NEWS_MAX_FEED_BYTES = 2 * 1024 * 1024
    settings.NEWS_BACKOFF_BASE_S = 60.0
    settings.NEWS_BACKOFF_MAX_S = 3600.0
    return settings


@pytest.fixture
def no_default_sources(db):
    from apps.news.models import NewsSource

    NewsSource.objects.update(enabled=False)


def metric(name: str, **labels: str) -> float:
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value(name, labels) or 0.0
