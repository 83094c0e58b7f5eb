"""Dashboard reads: portfolio, trades, strategies, news and sentiment, backtests, events."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from apps.api import selectors, services
from apps.api.pagination import ByCreated, ByFetched, ByMetricTime, ByTime
from apps.api.realtime.events import ID_RE, events_since
from apps.api.serializers import (
    AdjustmentSerializer,
    ArticleSerializer,
    BacktestCreateSerializer,
    BacktestDetailSerializer,
    BacktestRunSerializer,
    CatchUpSerializer,
    CompareSerializer,
    EquityPointSerializer,
    PortfolioSummarySerializer,
    PositionSerializer,
    SentimentSeriesSerializer,
    StrategyListSerializer,
    StrategyMetricSerializer,
    StrategySerializer,
    TradeDetailSerializer,
    TradeSerializer,
    WeightHistorySerializer,
)
from apps.api.views.common import AUTH_ERRORS, ERR, ApiListView, ApiView, error, parse_query
from apps.backtests.models import BacktestRun
from apps.execution.models import Trade
from apps.learning.models import LearningAdjustment, StrategyMetric
from apps.news.models import Article
from apps.strategies.models import StrategyWeightHistory

TICKER = serializers.RegexField(r"^[A-Za-z][A-Za-z0-9.\-]{0,11}$", required=False)

# --- portfolio ----------------------------------------------------------------------------------


class PortfolioView(ApiView):
    @extend_schema(tags=["portfolio"], responses={200: PortfolioSummarySerializer, **AUTH_ERRORS})
    def get(self, request: Request) -> Response:
        return Response(PortfolioSummarySerializer(selectors.portfolio_summary()).data)


class EquityQuery(serializers.Serializer):  # type: ignore[type-arg]
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)
    points = serializers.IntegerField(required=False, min_value=2, max_value=5000, default=1000)


class EquityView(ApiView):
    query_serializer = EquityQuery

    @extend_schema(
        tags=["portfolio"],
        parameters=[EquityQuery],
        responses={200: EquityPointSerializer(many=True), 400: ERR, **AUTH_ERRORS},
        summary="Equity curve from portfolio snapshots, oldest first, thinned to ?points",
    )
    def get(self, request: Request) -> Response:
        q = parse_query(EquityQuery, request)
        qs = selectors.equity_curve(since=q.get("since"), until=q.get("until"))
        n = qs.count()
        step = max(1, -(-n // q["points"]))
        rows = list(qs)[::step] if step > 1 else list(qs)
        return Response(EquityPointSerializer(rows, many=True).data)


class PositionsView(ApiView):
    @extend_schema(
        tags=["portfolio"], responses={200: PositionSerializer(many=True), **AUTH_ERRORS}
    )
    def get(self, request: Request) -> Response:
        return Response(PositionSerializer(selectors.positions_open(), many=True).data)


# --- trades -------------------------------------------------------------------------------------


class TradeQuery(serializers.Serializer):  # type: ignore[type-arg]
    ticker = TICKER
    strategy = serializers.CharField(required=False, max_length=50)
    side = serializers.ChoiceField(choices=Trade.Side.choices, required=False)
    status = serializers.ChoiceField(choices=Trade.Status.choices, required=False)
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)
    profitable = serializers.BooleanField(required=False, allow_null=True, default=None)


class TradeListView(ApiListView):
    query_serializer = TradeQuery
    serializer_class = TradeSerializer
    pagination_class = ByTime

    def get_queryset(self) -> QuerySet[Trade]:
        q = parse_query(TradeQuery, self.request)
        return selectors.trades_list(filters=selectors.TradeFilters(**q))

    @extend_schema(
        tags=["trades"],
        parameters=[TradeQuery],
        responses={200: TradeSerializer(many=True), 400: ERR, **AUTH_ERRORS},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class TradeDetailView(ApiView):
    @extend_schema(
        tags=["trades"],
        responses={200: TradeDetailSerializer, 404: ERR, **AUTH_ERRORS},
        summary="Why did we trade: signal, strategy scores and weights, articles, orders, outcome",
    )
    def get(self, request: Request, trade_id: int) -> Response:
        try:
            why = selectors.trade_why(trade_id=trade_id)
        except Trade.DoesNotExist:
            return error(404, "not_found", "No such trade.")
        return Response(
            TradeDetailSerializer(
                {
                    "trade": why.trade,
                    "signal": why.signal,
                    "contributions": why.contributions,
                    "articles": why.articles,
                    "orders": why.orders,
                    "updates": why.updates,
                    "outcome": why.outcome,
                }
            ).data
        )


# --- strategies ---------------------------------------------------------------------------------


class StrategiesView(ApiView):
    @extend_schema(
        tags=["strategies"],
        responses={200: StrategyListSerializer, **AUTH_ERRORS},
        summary="Strategies: current weights, latest metrics, learning state",
    )
    def get(self, request: Request) -> Response:
        state = selectors.learning_state()
        latest = selectors.strategy_latest_metrics()
        rows = StrategySerializer(
            selectors.strategies_current(), many=True, context={"latest": latest}
        ).data
        return Response(
            {"strategies": rows, "learning_frozen": state.frozen, "learning_reason": state.reason}
        )


class StrategyQuery(serializers.Serializer):  # type: ignore[type-arg]
    strategy = serializers.CharField(required=False, max_length=50)
    since = serializers.DateTimeField(required=False)


class StrategyMetricsView(ApiListView):
    query_serializer = StrategyQuery
    serializer_class = StrategyMetricSerializer
    pagination_class = ByMetricTime

    def get_queryset(self) -> QuerySet[StrategyMetric]:
        q = parse_query(StrategyQuery, self.request)
        return selectors.strategy_metrics(strategy=q.get("strategy", ""), since=q.get("since"))

    @extend_schema(
        tags=["strategies"],
        parameters=[StrategyQuery],
        responses={200: StrategyMetricSerializer(many=True), 400: ERR, **AUTH_ERRORS},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class StrategyNameQuery(serializers.Serializer):  # type: ignore[type-arg]
    strategy = serializers.CharField(required=False, max_length=50)


class WeightHistoryView(ApiListView):
    query_serializer = StrategyNameQuery
    serializer_class = WeightHistorySerializer
    pagination_class = ByTime

    def get_queryset(self) -> QuerySet[StrategyWeightHistory]:
        q = parse_query(StrategyNameQuery, self.request)
        return selectors.weight_history(strategy=q.get("strategy", ""))

    @extend_schema(
        tags=["strategies"],
        parameters=[StrategyNameQuery],
        responses={200: WeightHistorySerializer(many=True), 400: ERR, **AUTH_ERRORS},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class AdjustmentsView(ApiListView):
    query_serializer = StrategyNameQuery
    serializer_class = AdjustmentSerializer
    pagination_class = ByTime

    def get_queryset(self) -> QuerySet[LearningAdjustment]:
        q = parse_query(StrategyNameQuery, self.request)
        return selectors.learning_adjustments(strategy=q.get("strategy", ""))

    @extend_schema(
        tags=["strategies"],
        parameters=[StrategyNameQuery],
        responses={200: AdjustmentSerializer(many=True), 400: ERR, **AUTH_ERRORS},
        summary="The learning-adjustment log: reasons and rewards",
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


# --- news ---------------------------------------------------------------------------------------


class ArticleQuery(serializers.Serializer):  # type: ignore[type-arg]
    ticker = TICKER
    source = serializers.CharField(required=False, max_length=100)  # type: ignore[assignment]
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)


class ArticleListView(ApiListView):
    query_serializer = ArticleQuery
    serializer_class = ArticleSerializer
    pagination_class = ByFetched

    def get_queryset(self) -> QuerySet[Article]:
        q = parse_query(ArticleQuery, self.request)
        return selectors.articles_list(filters=selectors.ArticleFilters(**q))

    @extend_schema(
        tags=["news"],
        parameters=[ArticleQuery],
        responses={200: ArticleSerializer(many=True), 400: ERR, **AUTH_ERRORS},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class SentimentQuery(serializers.Serializer):  # type: ignore[type-arg]
    since = serializers.DateField(required=False)
    until = serializers.DateField(required=False)


class SentimentSeriesView(ApiView):
    query_serializer = SentimentQuery

    @extend_schema(
        tags=["news"],
        parameters=[SentimentQuery],
        responses={200: SentimentSeriesSerializer, 400: ERR, **AUTH_ERRORS},
        summary="Daily sentiment next to closes, with the correlation computed server-side",
    )
    def get(self, request: Request, ticker: str) -> Response:
        q = parse_query(SentimentQuery, request)
        series = selectors.sentiment_series(
            ticker=ticker, since=q.get("since"), until=q.get("until")
        )
        return Response(SentimentSeriesSerializer(series).data)


# --- backtests ----------------------------------------------------------------------------------


class BacktestListView(ApiListView):
    serializer_class = BacktestRunSerializer
    pagination_class = ByCreated

    def get_queryset(self) -> QuerySet[BacktestRun]:
        return selectors.backtests_list()

    @extend_schema(
        tags=["backtests"], responses={200: BacktestRunSerializer(many=True), **AUTH_ERRORS}
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        tags=["backtests"],
        request=BacktestCreateSerializer,
        responses={201: BacktestRunSerializer, 400: ERR, **AUTH_ERRORS},
        summary="Queue a backtest run (on the backtest queue)",
    )
    def post(self, request: Request) -> Response:
        s = BacktestCreateSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        config = s.validated_data["config"]
        try:
            run = services.backtest_create(
                config=config,
                name=s.validated_data["name"],
                walk_forward=s.validated_data["walk_forward"],
            )
        except (KeyError, ValueError, TypeError) as exc:
            return error(400, "invalid_config", f"Invalid backtest config: {exc!s}"[:300])
        return Response(BacktestRunSerializer(run).data, status=status.HTTP_201_CREATED)


class BacktestDetailView(ApiView):
    @extend_schema(
        tags=["backtests"], responses={200: BacktestDetailSerializer, 404: ERR, **AUTH_ERRORS}
    )
    def get(self, request: Request, run_id: int) -> Response:
        run = BacktestRun.objects.filter(pk=run_id).first()
        if run is None:
            return error(404, "not_found", "No such backtest run.")
        return Response(BacktestDetailSerializer(run).data)


class CompareQuery(serializers.Serializer):  # type: ignore[type-arg]
    ids = serializers.RegexField(
        r"^\d{1,12}(,\d{1,12}){0,19}$", help_text="comma-separated run ids (<= 20)"
    )


class BacktestCompareView(ApiView):
    query_serializer = CompareQuery

    @extend_schema(
        tags=["backtests"],
        parameters=[CompareQuery],
        responses={200: CompareSerializer, 400: ERR, **AUTH_ERRORS},
        summary="Equity curves of N runs aligned on time",
    )
    def get(self, request: Request) -> Response:
        q = parse_query(CompareQuery, request)
        ids = [int(x) for x in q["ids"].split(",")]
        return Response(CompareSerializer(selectors.backtests_compare(run_ids=ids)).data)


# --- events -------------------------------------------------------------------------------------


class EventsQuery(serializers.Serializer):  # type: ignore[type-arg]
    since = serializers.RegexField(ID_RE.pattern, required=False, help_text="last event id seen")
    limit = serializers.IntegerField(required=False, min_value=1, max_value=1000, default=500)


class EventsView(ApiView):
    query_serializer = EventsQuery

    @extend_schema(
        tags=["realtime"],
        parameters=[EventsQuery],
        responses={200: CatchUpSerializer, 400: ERR, **AUTH_ERRORS},
        summary="Events after ?since= (catch-up after a reconnect)",
    )
    def get(self, request: Request) -> Response:
        q = parse_query(EventsQuery, request)
        c = events_since(since=q.get("since", ""), limit=q["limit"])
        return Response(
            CatchUpSerializer(
                {"events": c.events, "last_id": c.last_id, "more": c.more, "reset": c.reset}
            ).data
        )


__all__ = ["OpenApiParameter"]
