"""Execution services (writes): orders, positions, stops, the trading switch, reconciliation."""

from apps.execution.services.context import ExecutionContext, broker_default, context_live
from apps.execution.services.control import (
    trading_control,
    trading_halt,
    trading_pause,
    trading_reset,
    trading_resume,
    trading_state,
)
from apps.execution.services.decide import (
    SignalView,
    signal_decide,
    signal_execute,
    signal_view_from_row,
    trade_send,
    trades_send_pending,
)
from apps.execution.services.orders import (
    OrderSpec,
    client_order_id_for,
    order_apply,
    order_submit,
    order_update_apply,
    orders_sync,
)
from apps.execution.services.reconcile import ReconcileReport, reconcile
from apps.execution.services.stops import stops_ensure

__all__ = [
    "ExecutionContext",
    "OrderSpec",
    "ReconcileReport",
    "SignalView",
    "broker_default",
    "client_order_id_for",
    "context_live",
    "order_apply",
    "order_submit",
    "order_update_apply",
    "orders_sync",
    "reconcile",
    "signal_decide",
    "signal_execute",
    "signal_view_from_row",
    "stops_ensure",
    "trade_send",
    "trades_send_pending",
    "trading_control",
    "trading_halt",
    "trading_pause",
    "trading_reset",
    "trading_resume",
    "trading_state",
]
