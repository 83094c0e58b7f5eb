"""News sources, articles and their per-ticker sentiment."""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class NewsSource(models.Model):
    """A configured feed, subreddit, X account or the Alpaca news API, polled by beat."""

    class Kind(models.TextChoices):
        RSS = "rss", "RSS / Atom"
        REDDIT = "reddit", "Reddit"
        X = "x", "X (Twitter)"
        ALPACA = "alpaca", "Alpaca News"
        REPLAY = "replay", "Replayed data set"

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    url = models.URLField(max_length=500, blank=True, help_text="RSS/Atom feed URL")
    subreddit = models.CharField(max_length=100, blank=True)
    account = models.CharField(max_length=100, blank=True, help_text="X account or query")
    poll_interval_s = models.PositiveIntegerField(default=300)
    enabled = models.BooleanField(default=True)
    # Conditional GET and error backoff state.
    etag = models.CharField(max_length=300, blank=True)
    last_modified = models.CharField(max_length=100, blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    consecutive_errors = models.PositiveIntegerField(default=0)
    backoff_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    # Where the last poll stopped (X since_id, Alpaca last created_at, replay line number).
    cursor = models.CharField(max_length=200, blank=True)
    # Kind-specific knobs, e.g. {"dataset": "stocknet", "batch": 25} or {"symbols": ["AAPL"]}.
    options = models.JSONField(default=dict, blank=True)

    class Meta:
        db_table = "news_sources"
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"


class Article(models.Model):
    source = models.ForeignKey(NewsSource, on_delete=models.PROTECT, related_name="articles")
    url = models.URLField(max_length=1000, blank=True, help_text="normalised URL")
    title = models.TextField()
    summary = models.TextField(blank=True)
    published_at = models.DateTimeField(null=True, blank=True, db_index=True)
    fetched_at = models.DateTimeField(db_index=True)
    content_hash = models.CharField(max_length=64, unique=True)
    tickers = models.JSONField(default=list, blank=True)

    class Meta:
        db_table = "articles"
        ordering = ["-fetched_at"]
        constraints = [
            models.UniqueConstraint(fields=["url"], condition=~Q(url=""), name="uniq_article_url")
        ]

    def __str__(self) -> str:
        return self.title[:80]


class ArticleSentiment(models.Model):
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="sentiments")
    ticker = models.CharField(max_length=12, db_index=True)
    score = models.FloatField(help_text="p(positive) - p(negative), in [-1, 1]")
    confidence = models.FloatField()
    model_used = models.CharField(max_length=120, help_text="model name@version")
    tier = models.PositiveSmallIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    # The article's point-in-time stamp (published_at, else fetched_at), copied here so a decision
    # reads a ticker's visible sentiment with one index range scan instead of a join per row. The
    # database keeps it: a trigger sets it on every insert (whatever the writer passes) and another
    # follows an article's published_at/fetched_at when they change (migration news/0004).
    visible_at = models.DateTimeField(
        null=True,
        editable=False,
        help_text="the article's published_at (else fetched_at); kept by a database trigger",
    )

    class Meta:
        db_table = "article_sentiments"
        constraints = [
            models.UniqueConstraint(
                fields=["article", "ticker", "model_used"],
                name="uniq_sentiment_article_ticker_model",
            )
        ]
        indexes = [
            models.Index(fields=["ticker", "created_at"]),
            models.Index(fields=["ticker", "visible_at"], name="sentiment_ticker_visible"),
        ]

    def __str__(self) -> str:
        return f"{self.ticker} {self.score:+.2f} ({self.model_used})"
