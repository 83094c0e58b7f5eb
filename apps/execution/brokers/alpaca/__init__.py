"""The Alpaca adapter (see ``adapter.py``); ``mapping.py`` translates models and errors."""

from apps.core.alpaca import stop_stream
from apps.execution.brokers.alpaca.adapter import AlpacaBroker
from apps.execution.brokers.alpaca.mapping import (
    DuplicateClientOrderIdError,
    order_from_alpaca,
    translate_error,
    update_from_alpaca,
)

__all__ = [
    "AlpacaBroker",
    "DuplicateClientOrderIdError",
    "order_from_alpaca",
    "stop_stream",
    "translate_error",
    "update_from_alpaca",
]
