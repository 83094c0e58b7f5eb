"""Routes of the API. Only /api/auth/* is public (besides /metrics and /healthz of the project)."""

from __future__ import annotations

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView

from apps.api.views import auth, control, data

app_name = "api"

urlpatterns = [
    # public: passkey sign-up and sign-in, refresh (cookie) and sign-out
    path("auth/register/begin", auth.RegisterBeginView.as_view(), name="register-begin"),
    path("auth/register/complete", auth.RegisterCompleteView.as_view(), name="register-complete"),
    path("auth/login/begin", auth.LoginBeginView.as_view(), name="login-begin"),
    path("auth/login/complete", auth.LoginCompleteView.as_view(), name="login-complete"),
    path("auth/refresh", auth.RefreshView.as_view(), name="refresh"),
    path("auth/refresh/sign-out", auth.SignOutView.as_view(), name="sign-out"),
    # signed in
    path("me", auth.MeView.as_view(), name="me"),
    path("passkeys", auth.PasskeyListView.as_view(), name="passkeys"),
    path("passkeys/begin", auth.PasskeyAddBeginView.as_view(), name="passkey-add-begin"),
    path("passkeys/complete", auth.PasskeyAddCompleteView.as_view(), name="passkey-add-complete"),
    path("passkeys/<int:passkey_id>", auth.PasskeyDeleteView.as_view(), name="passkey-delete"),
    path("step-up/begin", auth.StepUpBeginView.as_view(), name="step-up-begin"),
    path("step-up/complete", auth.StepUpCompleteView.as_view(), name="step-up-complete"),
    path("ws-ticket", auth.WsTicketView.as_view(), name="ws-ticket"),
    path("events", data.EventsView.as_view(), name="events"),
    path("portfolio", data.PortfolioView.as_view(), name="portfolio"),
    path("portfolio/equity", data.EquityView.as_view(), name="equity"),
    path("portfolio/positions", data.PositionsView.as_view(), name="positions"),
    path("trades", data.TradeListView.as_view(), name="trades"),
    path("trades/<int:trade_id>", data.TradeDetailView.as_view(), name="trade-detail"),
    path("strategies", data.StrategiesView.as_view(), name="strategies"),
    path("strategies/metrics", data.StrategyMetricsView.as_view(), name="strategy-metrics"),
    path("strategies/weights/history", data.WeightHistoryView.as_view(), name="weight-history"),
    path("strategies/weights/reset", control.WeightsResetView.as_view(), name="weights-reset"),
    path("strategies/adjustments", data.AdjustmentsView.as_view(), name="adjustments"),
    path(
        "strategies/learning/freeze", control.LearningFreezeView.as_view(), name="learning-freeze"
    ),
    path("news/articles", data.ArticleListView.as_view(), name="articles"),
    re_path(
        rf"^news/sentiment/(?P<ticker>{control.TICKER_PATTERN})$",
        data.SentimentSeriesView.as_view(),
        name="sentiment",
    ),
    path("backtests", data.BacktestListView.as_view(), name="backtests"),
    path("backtests/compare", data.BacktestCompareView.as_view(), name="backtests-compare"),
    path("backtests/<int:run_id>", data.BacktestDetailView.as_view(), name="backtest-detail"),
    path("control", control.ControlView.as_view(), name="control"),
    path("control/pause", control.PauseView.as_view(), name="pause"),
    path("control/resume", control.ResumeView.as_view(), name="resume"),
    path("control/kill-switch", control.KillSwitchView.as_view(), name="kill-switch"),
    re_path(
        rf"^control/positions/(?P<ticker>{control.TICKER_PATTERN})/close$",
        control.ForceCloseView.as_view(),
        name="force-close",
    ),
    path("schema", SpectacularAPIView.as_view(), name="schema"),
]
