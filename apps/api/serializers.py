"""Input and output shapes of the API (output serializers are read-only)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from apps.api.auth.passkeys import StepUpAction
from apps.api.fields import (
    KEY_PATTERN,
    ScalarField,
    StrictBooleanField,
    StrictCharField,
    StrictDecimalField,
    StrictFloatField,
    StrictRegexField,
)
from apps.api.realtime.events import EventType
from apps.backtests.models import BacktestRun
from apps.execution.models import Position, Trade, TradeUpdate, TradingControl
from apps.learning.models import LearningAdjustment, PortfolioSnapshot, StrategyMetric, TradeOutcome
from apps.news.models import Article, ArticleSentiment
from apps.strategies.models import Strategy, StrategyWeightHistory
from apps.strategies.registry import STRATEGIES
from backtesting.config import ExitRule, SizingKind


class ErrorSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """Every error of the API: a message, a stable code, and per-field messages when invalid."""

    detail = serializers.CharField()
    code = serializers.CharField()
    errors = serializers.DictField(  # type: ignore[assignment]
        child=serializers.JSONField(), required=False, help_text="field -> messages (code=invalid)"
    )

    class Meta:
        ref_name = "Error"


# --- auth ----------------------------------------------------------------------------------------


class UserSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    username = serializers.CharField()
    is_staff = serializers.BooleanField()


class CeremonyOptionsSerializer(serializers.Serializer):  # type: ignore[type-arg]
    ceremony_id = serializers.CharField(help_text="send back with the credential")
    options = serializers.JSONField(
        help_text="PublicKeyCredential{Creation,Request}OptionsJSON for @simplewebauthn/browser"
    )


class RegisterBeginSerializer(serializers.Serializer):  # type: ignore[type-arg]
    token = StrictCharField(max_length=100, help_text="the token of the registration link")


class CredentialCompleteSerializer(serializers.Serializer):  # type: ignore[type-arg]
    ceremony_id = StrictCharField(max_length=100)
    credential = serializers.DictField(
        help_text="the JSON object from startRegistration/startAuthentication"
    )


class RegisterCompleteSerializer(CredentialCompleteSerializer):
    name = StrictCharField(max_length=64, required=False, allow_blank=True, default="")


class SessionSerializer(serializers.Serializer):  # type: ignore[type-arg]
    access = serializers.CharField(help_text="Bearer access token: keep it in memory only")
    access_expires_at = serializers.DateTimeField()
    user = UserSerializer()


class StepUpBeginSerializer(serializers.Serializer):  # type: ignore[type-arg]
    action = serializers.ChoiceField(choices=[a.value for a in StepUpAction])
    target = StrictCharField(
        max_length=40,
        required=False,
        allow_blank=True,
        default="",
        help_text="optional: bind the grant to one target too (e.g. the ticker of a force-close)",
    )


class StepUpGrantSerializer(serializers.Serializer):  # type: ignore[type-arg]
    step_up_token = serializers.CharField(help_text="send as the X-Step-Up header, once")
    action = serializers.CharField()
    target = serializers.CharField()
    expires_in = serializers.IntegerField()


class PasskeySerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    name = serializers.CharField()
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True)
    discoverable = serializers.BooleanField(allow_null=True)
    backup_eligible = serializers.BooleanField()


class WsTicketSerializer(serializers.Serializer):  # type: ignore[type-arg]
    ticket = serializers.CharField()
    expires_in = serializers.IntegerField()
    url = serializers.CharField(help_text="path to open: /ws/?ticket=…")


# --- portfolio -----------------------------------------------------------------------------------


class PortfolioSummarySerializer(serializers.Serializer):  # type: ignore[type-arg]
    as_of = serializers.DateTimeField(allow_null=True)
    value = serializers.DecimalField(max_digits=20, decimal_places=4)
    cash = serializers.DecimalField(max_digits=20, decimal_places=4)
    exposure = serializers.DecimalField(max_digits=20, decimal_places=4)
    daily_pnl = serializers.DecimalField(max_digits=20, decimal_places=4)
    drawdown = serializers.FloatField()
    roi = serializers.FloatField(help_text="fraction since the initial capital")
    sharpe = serializers.FloatField(allow_null=True)
    win_rate = serializers.FloatField(allow_null=True)
    trades_closed = serializers.IntegerField()
    realized_pnl = serializers.DecimalField(max_digits=20, decimal_places=4)
    unrealized_pnl = serializers.DecimalField(max_digits=20, decimal_places=4)
    initial_cash = serializers.DecimalField(max_digits=20, decimal_places=4)


class EquityPointSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = PortfolioSnapshot
        fields = ("time", "value", "cash", "exposure", "daily_pnl", "drawdown")


class PositionSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = Position
        fields = (
            "ticker",
            "qty",
            "avg_entry",
            "last_price",
            "unrealized_pnl",
            "realized_pnl",
            "stop_loss",
            "opened_at",
            "updated_at",
        )


# --- trades --------------------------------------------------------------------------------------


class OutcomeSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    hold_seconds = serializers.SerializerMethodField()

    class Meta:
        model = TradeOutcome
        fields = (
            "trade",
            "exit_trade",
            "hold_seconds",
            "realized_pnl",
            "roi_pct",
            "was_profitable",
            "attribution",
            "closed_at",
        )

    def get_hold_seconds(self, obj: TradeOutcome) -> float:
        return obj.hold_duration.total_seconds()


class TradeSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    profitable = serializers.SerializerMethodField()

    class Meta:
        model = Trade
        fields = (
            "id",
            "ticker",
            "side",
            "qty",
            "filled_qty",
            "price",
            "order_type",
            "stop_price",
            "purpose",
            "status",
            "strategy",
            "signal",
            "timestamp",
            "submitted_at",
            "filled_at",
            "pnl",
            "commission",
            "broker",
            "client_order_id",
            "profitable",
        )

    def get_profitable(self, obj: Trade) -> bool | None:
        outcome = getattr(obj, "outcome", None)
        return None if outcome is None else bool(outcome.was_profitable)


class TradeUpdateSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = TradeUpdate
        fields = ("trade", "event", "status", "filled_qty", "price", "at")


class ContributionSerializer(serializers.Serializer):  # type: ignore[type-arg]
    strategy = serializers.CharField()
    score = serializers.FloatField()
    weight = serializers.FloatField()


class SignalSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    ticker = serializers.CharField()
    direction = serializers.CharField()
    strength = serializers.FloatField()
    sentiment_score = serializers.FloatField(allow_null=True)
    price = serializers.DecimalField(max_digits=20, decimal_places=6, allow_null=True)
    decided_at = serializers.DateTimeField()


class WhyArticleSerializer(serializers.Serializer):  # type: ignore[type-arg]
    article_id = serializers.IntegerField()
    title = serializers.CharField()
    url = serializers.CharField()
    source = serializers.CharField()  # type: ignore[assignment]
    published_at = serializers.DateTimeField()
    score = serializers.FloatField()
    confidence = serializers.FloatField()
    tier = serializers.IntegerField()
    model = serializers.CharField()


class TradeDetailSerializer(serializers.Serializer):  # type: ignore[type-arg]
    trade = TradeSerializer()
    signal = SignalSerializer(allow_null=True)
    contributions = ContributionSerializer(many=True)
    articles = WhyArticleSerializer(many=True)
    orders = TradeSerializer(many=True)
    updates = TradeUpdateSerializer(many=True)
    outcome = OutcomeSerializer(allow_null=True)


# --- strategies ----------------------------------------------------------------------------------


class StrategySerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    latest = serializers.SerializerMethodField()

    class Meta:
        model = Strategy
        fields = (
            "id",
            "name",
            "description",
            "weight",
            "initial_weight",
            "active",
            "params",
            "latest",
        )

    def get_latest(self, obj: Strategy) -> dict[str, Any] | None:
        m = (self.context.get("latest") or {}).get(obj.pk)
        if m is None:
            return None
        return {
            "time": m.time.isoformat(),
            "trades": m.trades,
            "win_rate": m.win_rate,
            "pnl": str(m.pnl),
            "sharpe": m.sharpe,
        }


class StrategyListSerializer(serializers.Serializer):  # type: ignore[type-arg]
    strategies = StrategySerializer(many=True)
    learning_frozen = serializers.BooleanField()
    learning_reason = serializers.CharField()


class StrategyMetricSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    strategy = serializers.CharField(source="strategy.name")

    class Meta:
        model = StrategyMetric
        fields = ("id", "strategy", "time", "trades", "win_rate", "pnl", "sharpe", "weight")


class WeightHistorySerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    strategy = serializers.CharField(source="strategy.name")

    class Meta:
        model = StrategyWeightHistory
        fields = ("id", "strategy", "old_weight", "new_weight", "reason", "timestamp")


class AdjustmentSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    strategy = serializers.CharField(source="strategy.name")

    class Meta:
        model = LearningAdjustment
        fields = (
            "id",
            "strategy",
            "old_weight",
            "new_weight",
            "reason",
            "reward_signal",
            "cycle",
            "timestamp",
        )


class FreezeSerializer(serializers.Serializer):  # type: ignore[type-arg]
    frozen = StrictBooleanField()
    reason = StrictCharField(max_length=300, required=False, allow_blank=True, default="")


class FreezeResultSerializer(serializers.Serializer):  # type: ignore[type-arg]
    frozen = serializers.BooleanField()
    reason = serializers.CharField()


class WeightsResetSerializer(serializers.Serializer):  # type: ignore[type-arg]
    strategy = StrictCharField(max_length=50, required=False, allow_null=True, default=None)
    to = StrictDecimalField(
        max_digits=10,
        decimal_places=8,
        min_value=0,
        max_value=1,
        required=False,
        allow_null=True,
        default=None,
    )
    reason = StrictCharField(max_length=200, required=False, allow_blank=True, default="")


class WeightsResultSerializer(serializers.Serializer):  # type: ignore[type-arg]
    weights = serializers.DictField(child=serializers.CharField())


# --- news ----------------------------------------------------------------------------------------


class ArticleSentimentSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    model = serializers.CharField(source="model_used")

    class Meta:
        model = ArticleSentiment
        fields = ("ticker", "score", "confidence", "model", "tier", "created_at")


class ArticleSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    source = serializers.CharField(source="source.name")  # type: ignore[assignment]
    sentiments = ArticleSentimentSerializer(many=True)

    class Meta:
        model = Article
        fields = (
            "id",
            "title",
            "summary",
            "url",
            "source",
            "published_at",
            "fetched_at",
            "tickers",
            "sentiments",
        )


class SentimentDaySerializer(serializers.Serializer):  # type: ignore[type-arg]
    day = serializers.DateField()
    sentiment = serializers.FloatField(allow_null=True)
    articles = serializers.IntegerField()
    close = serializers.DecimalField(max_digits=20, decimal_places=6, allow_null=True)


class SentimentSeriesSerializer(serializers.Serializer):  # type: ignore[type-arg]
    ticker = serializers.CharField()
    days = SentimentDaySerializer(many=True)
    correlation = serializers.FloatField(
        allow_null=True, help_text="Pearson r: a day's sentiment vs the next day's return"
    )
    correlation_same_day = serializers.FloatField(allow_null=True)
    pairs = serializers.IntegerField()


# --- backtests -----------------------------------------------------------------------------------


class BacktestRunSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = BacktestRun
        fields = (
            "id",
            "name",
            "status",
            "progress",
            "config",
            "metrics",
            "data_hash",
            "error",
            "created_at",
            "started_at",
            "finished_at",
        )


class BacktestDetailSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = BacktestRun
        fields = (
            *BacktestRunSerializer.Meta.fields,
            "trades",
            "equity_curve",
            "weight_history",
            "attribution",
        )


class ParamSerializer(serializers.Serializer):  # type: ignore[type-arg]
    name = StrictRegexField(KEY_PATTERN)
    value = ScalarField()


class StrategySpecSerializer(serializers.Serializer):  # type: ignore[type-arg]
    name = serializers.ChoiceField(choices=sorted(STRATEGIES))
    weight = StrictFloatField(
        min_value=0,
        max_value=1000,
        required=False,
        allow_null=True,
        default=None,
        help_text="starting weight (all strategies equal when none is given)",
    )
    params = serializers.ListField(
        child=ParamSerializer(),
        max_length=50,
        required=False,
        default=list,
        help_text="the strategy's config; its defaults for what is not given",
    )


class BacktestConfigSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """A ``BacktestConfig`` (backtesting/config.py); costs in their CLI form (``bps:20``)."""

    symbols = serializers.ListField(
        child=StrictRegexField(r"^[A-Z][A-Z0-9.\-]{0,11}$"), min_length=1, max_length=50
    )
    strategies = serializers.ListField(child=StrategySpecSerializer(), min_length=1, max_length=10)
    start = serializers.DateTimeField(required=False, allow_null=True, default=None)
    end = serializers.DateTimeField(required=False, allow_null=True, default=None)
    timeframe = serializers.ChoiceField(
        choices=["1Min", "5Min", "15Min", "1Hour", "1Day"], default="1Day"
    )
    initial_capital = StrictFloatField(min_value=1, max_value=1e12, default=100_000.0)
    commission = StrictRegexField(
        r"^(none|bps|per_share|per_order)(:\d{1,6}(\.\d{1,6})?)?$", default="none"
    )
    slippage = StrictRegexField(
        r"^(none|bps|spread|volume)(:\d{1,6}(\.\d{1,6})?)?$", default="none"
    )
    learning = StrictBooleanField(default=False)
    long_threshold = StrictFloatField(min_value=0, max_value=1, default=0.15)
    short_threshold = StrictFloatField(min_value=0, max_value=1, default=0.15)
    min_coverage = StrictFloatField(min_value=0, max_value=1, default=0.3)
    allow_short = StrictBooleanField(default=False)
    exit_rule = serializers.ChoiceField(
        choices=[e.value for e in ExitRule], default=ExitRule.OPPOSITE.value
    )
    sizing = serializers.ChoiceField(
        choices=[k.value for k in SizingKind], default=SizingKind.RISK.value
    )
    sizing_value = StrictFloatField(min_value=0, max_value=1e9, default=0.1)
    whole_shares = StrictBooleanField(default=True)
    stop_loss_pct = StrictFloatField(
        min_value=0, max_value=1, required=False, allow_null=True, default=None
    )
    news_latency_s = StrictFloatField(min_value=0, max_value=86400 * 30, default=60.0)


class BacktestCreateSerializer(serializers.Serializer):  # type: ignore[type-arg]
    name = StrictCharField(max_length=200, required=False, allow_blank=True, default="")
    config = BacktestConfigSerializer()
    walk_forward = StrictRegexField(
        r"^([2-9]|[1-9]\d{1,5}):([2-9]|[1-9]\d{1,5})(:[1-9]\d{0,5})?$",
        required=False,
        allow_null=True,
        default=None,
        help_text="TRAIN:TEST[:STEP] bars",
    )


class CompareRunSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    name = serializers.CharField()
    status = serializers.CharField()
    metrics = serializers.JSONField()


class ComparePointSerializer(serializers.Serializer):  # type: ignore[type-arg]
    time = serializers.CharField()
    values = serializers.ListField(child=serializers.FloatField(allow_null=True))


class CompareSerializer(serializers.Serializer):  # type: ignore[type-arg]
    runs = CompareRunSerializer(many=True)
    missing = serializers.ListField(child=serializers.IntegerField())
    points = ComparePointSerializer(many=True)


# --- control -------------------------------------------------------------------------------------


class ControlStateSerializer(serializers.Serializer):  # type: ignore[type-arg]
    state = serializers.ChoiceField(choices=TradingControl.State.choices)
    reason = serializers.CharField()
    changed_at = serializers.DateTimeField(allow_null=True)
    kill_switch = serializers.BooleanField()
    learning_frozen = serializers.BooleanField()


class ControlResultSerializer(ControlStateSerializer):
    canceled_orders = serializers.ListField(child=serializers.CharField())


class ReasonSerializer(serializers.Serializer):  # type: ignore[type-arg]
    reason = StrictCharField(max_length=300, required=False, allow_blank=True, default="")


class OrderRefSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    client_order_id = serializers.CharField()
    ticker = serializers.CharField()
    side = serializers.CharField()
    qty = serializers.CharField()
    status = serializers.CharField()


class ForceCloseResultSerializer(serializers.Serializer):  # type: ignore[type-arg]
    order = OrderRefSerializer()


# --- events --------------------------------------------------------------------------------------


class EventSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.CharField(help_text="stream id, ordered; pass the last one as ?since=")
    type = serializers.ChoiceField(choices=[t.value for t in EventType])
    at = serializers.CharField()
    data = serializers.JSONField()  # type: ignore[assignment]


class CatchUpSerializer(serializers.Serializer):  # type: ignore[type-arg]
    events = EventSerializer(many=True)
    last_id = serializers.CharField()
    more = serializers.BooleanField(
        help_text="more events after these: ask again with since=last_id"
    )
    reset = serializers.BooleanField(help_text="history was trimmed past `since`: reload all data")
