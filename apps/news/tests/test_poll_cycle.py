"""One poll cycle over good and hostile sources: failures stay per source, the rest keeps flowing."""

from __future__ import annotations

import subprocess

import pytest

from apps.news.models import Article, NewsSource
from apps.news.services import source_poll, sources_claim_due
from apps.news.tests.conftest import metric, requires_shared_data
from apps.news.tests.standins import (
    Response,
    feed_handler,
    hanging,
    huge_feed,
    install_reddit,
    rss_sample,
)
from conftest import ROOT, WorkerProcess, wait_for, worker_env
from tests.workers import celery_worker_argv

pytestmark = [requires_shared_data, pytest.mark.usefixtures("news_settings", "no_default_sources")]

HOSTILE = {
    "Hangs": ("/hang.xml", "timeout"),
    "Fifty MB": ("/huge.xml", "too_large"),
    "Broken XML": ("/broken.xml", "parse"),
    "Server error": ("/error.xml", "http"),
}


def install_feeds(standin) -> None:
    standin.route(
        "GET", "/cnbc.xml", feed_handler(rss_sample("cnbc_finance_rss_snapshot_2019-08-01.xml"))
    )
    standin.route("GET", "/hang.xml", hanging(standin))
    standin.route("GET", "/huge.xml", huge_feed())
    standin.route("GET", "/broken.xml", lambda r: Response(200, b"<rss><channel><<<\x00"))
    standin.route("GET", "/error.xml", lambda r: Response(502, b"<html>Bad Gateway</html>"))


def create_sources(standin) -> dict[str, NewsSource]:
    sources = {
        name: NewsSource.objects.create(name=name, kind="rss", url=standin.url(path))
        for name, (path, _) in HOSTILE.items()
    }
    # The healthy source is polled *after* the hanging one on a solo worker (name order).
    sources["Zz CNBC"] = NewsSource.objects.create(
        name="Zz CNBC", kind="rss", url=standin.url("/cnbc.xml")
    )
    sources["Zz reddit"] = NewsSource.objects.create(
        name="Zz reddit", kind="reddit", subreddit="askreddit"
    )
    return sources


@pytest.mark.django_db
def test_one_cycle_in_process(standin, news_settings):
    install_feeds(standin)
    install_reddit(standin)
    news_settings.REDDIT_CLIENT_ID, news_settings.REDDIT_CLIENT_SECRET = "id", "secret"
    news_settings.REDDIT_OAUTH_URL = news_settings.REDDIT_URL = standin.base_url
    sources = create_sources(standin)
    before = {
        name: metric("tradebot_news_source_errors_total", source=name, kind=kind)
        for name, (_, kind) in HOSTILE.items()
    }

    claimed = sources_claim_due()
    outcomes = {o.source: o for o in (source_poll(source_id=pk) for pk in claimed)}

    assert set(outcomes) == set(sources)
    assert outcomes["Zz CNBC"].outcome == "ok" and outcomes["Zz CNBC"].stored == 30
    assert outcomes["Zz reddit"].outcome == "ok" and outcomes["Zz reddit"].stored == 100
    for name, (_, kind) in HOSTILE.items():
        assert outcomes[name].outcome == "error"
        assert outcomes[name].error.startswith(f"{kind}: ")
        assert (
            metric("tradebot_news_source_errors_total", source=name, kind=kind) == before[name] + 1
        )
        source = NewsSource.objects.get(name=name)
        assert source.consecutive_errors == 1 and source.backoff_until is not None
    assert metric("tradebot_news_articles_fetched_total", source="Zz CNBC") >= 30


@pytest.mark.slow
@pytest.mark.workers
@pytest.mark.django_db(transaction=True)
def test_one_cycle_on_a_real_worker(standin, celery_workers, redis_conn):
    install_feeds(standin)
    install_reddit(standin)
    create_sources(standin)
    worker = celery_workers(
        ["news"],
        {
            "NEWS_HTTP_TIMEOUT_S": "1",
            "NEWS_MAX_FEED_BYTES": str(2 * 1024 * 1024),
            "REDDIT_CLIENT_ID": "id",
            "REDDIT_CLIENT_SECRET": "secret",
            "REDDIT_OAUTH_URL": standin.base_url,
            "REDDIT_URL": standin.base_url,
        },
    )
    from tasks.news import dispatch

    dispatch.apply_async()

    def settled() -> bool:
        failed = NewsSource.objects.filter(name__in=HOSTILE, consecutive_errors=1).count()
        return (
            failed == len(HOSTILE) and Article.objects.filter(source__name="Zz CNBC").count() == 30
        )

    wait_for(settled, timeout=90, every=0.2)
    for name, (_, kind) in HOSTILE.items():
        assert NewsSource.objects.get(name=name).last_error.startswith(f"{kind}: "), (
            worker.output()[-3000:]
        )
    # The log lines follow the commits.
    wait_for(lambda: "news: Zz CNBC fetched 30, stored 30, duplicates 0" in worker.output(), 20)
    assert "news: Hangs failed (timeout, 1 in a row)" in worker.output()


class ThreadsWorker(WorkerProcess):
    """The news worker as the Procfile runs it: a thread pool, so polls run side by side."""

    def start(self) -> ThreadsWorker:
        self.log = open(self.log_path, "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            celery_worker_argv(self.queues, self.name, pool="threads", concurrency=4),
            cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        return self


@pytest.mark.slow
@pytest.mark.workers
@pytest.mark.django_db(transaction=True)
def test_a_hanging_source_does_not_hold_up_the_others_on_the_threaded_worker(
    standin, redis_conn, tmp_path
):
    install_feeds(standin)
    hang = NewsSource.objects.create(name="Hangs", kind="rss", url=standin.url("/hang.xml"))
    NewsSource.objects.create(name="Zz CNBC", kind="rss", url=standin.url("/cnbc.xml"))
    env = worker_env({"NEWS_HTTP_TIMEOUT_S": "30", "NEWS_FETCH_DEADLINE_S": "30"})
    worker = ThreadsWorker(["news"], env, "threads", tmp_path / "threads.log").start()
    try:
        from tasks.news import dispatch

        dispatch.apply_async()
        wait_for(lambda: Article.objects.filter(source__name="Zz CNBC").count() == 30, 60, 0.2)
        # The healthy feed is stored while the hanging one is still waiting on its server.
        assert any(r.path == "/hang.xml" for r in standin.requests)
        hang.refresh_from_db()
        assert (hang.consecutive_errors, hang.last_success_at, hang.last_error) == (0, None, "")
    finally:
        standin.stopping.set()  # release the hung request so the worker can stop
        worker.stop()
