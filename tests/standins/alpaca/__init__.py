"""A local stand-in for Alpaca's Trading API, Market Data API and their WebSocket streams.

Tests: the ``alpaca_standin`` fixture (``tests/standins/alpaca/fixtures.py``).
Standalone: ``python -m tests.standins.alpaca --port 8765`` (see docs/alpaca.md).
"""

from tests.standins.alpaca.server import KEY, SECRET, AlpacaStandIn, Fault

__all__ = ["KEY", "SECRET", "AlpacaStandIn", "Fault"]
