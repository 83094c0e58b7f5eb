"""pytest fixtures for the Alpaca stand-in.

Use from a test module with ``from tests.standins.alpaca.fixtures import alpaca_standin  # noqa: F401``
(or list this module in the root conftest's ``pytest_plugins``).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.standins.alpaca.server import AlpacaStandIn


@pytest.fixture
def alpaca_standin(settings) -> Iterator[AlpacaStandIn]:  # type: ignore[no-untyped-def]
    """A running stand-in (HTTP + WebSocket on free ports) with the Alpaca settings pointed at it."""
    with AlpacaStandIn() as standin:
        for name, value in standin.env().items():
            if name == "BROKER":
                settings.BROKER_KIND = value
            else:
                setattr(settings, name, value)
        yield standin
