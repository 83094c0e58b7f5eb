"""Input and output shapes of the API (output serializers are read-only)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from apps.api.auth.passkeys import StepUpAction
from apps.api.realtime.events import EventType
from apps.backtests.models import BacktestRun
from apps.execution.models import Position, Trade, TradeUpdate, TradingControl
from apps.learning.models import LearningAdjustment, PortfolioSnapshot, StrategyMetric, TradeOutcome
from apps.news.models import Article, ArticleSentiment
from apps.strategies.models import Strategy, StrategyWeightHistory


class ErrorSerializer(serializers.Serializer):  # type: ignore[type-arg]
    detail = serializers.CharField()
    code = serializers.CharField(required=False)


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
    token = serializers.CharField(max_length=100, help_text="the token of the registration link")


class CredentialCompleteSerializer(serializers.Serializer):  # type: ignore[type-arg]
    ceremony_id = serializers.CharField(max_length=100)
    credential = serializers.JSONField(
        help_text="the JSON from startRegistration/startAuthentication"
    )

    def validate_credential(self, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise serializers.ValidationError("must be an object")
        return value


class RegisterCompleteSerializer(CredentialCompleteSerializer):
    name = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


class SessionSerializer(serializers.Serializer):  # type: ignore[type-arg]
    access = serializers.CharField(help_text="Bearer access token: keep it in memory only")
    access_expires_at = serializers.DateTimeField()
    user = UserSerializer()


class StepUpBeginSerializer(serializers.Serializer):  # type: ignore[type-arg]
    action = serializers.ChoiceField(choices=[a.value for a in StepUpAction])
    target = serializers.CharField(  # type: ignore[assignment]
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
    frozen = serializers.BooleanField()
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class FreezeResultSerializer(serializers.Serializer):  # type: ignore[type-arg]
    frozen = serializers.BooleanField()
    reason = serializers.CharField()


class WeightsResetSerializer(serializers.Serializer):  # type: ignore[type-arg]
    strategy = serializers.CharField(max_length=50, required=False, allow_null=True, default=None)
    to = serializers.DecimalField(
        max_digits=10,
        decimal_places=8,
        min_value=0,
        max_value=1,
        required=False,
        allow_null=True,
        default=None,
    )
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


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


class BacktestCreateSerializer(serializers.Serializer):  # type: ignore[type-arg]
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    config = serializers.JSONField(help_text="a BacktestConfig (backtesting/config.py) as JSON")
    walk_forward = serializers.RegexField(
        r"^\d+:\d+(:\d+)?$",
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
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


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
