from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from apps.core import codec
from apps.core.codec import ContractError
from apps.core.contracts import Contract
from apps.execution.contracts import TradeEvent
from apps.sentiment.contracts import ScoredArticle, TickerSentiment
from apps.strategies.contracts import Direction, SignalEvent, StrategyContribution

NOW = datetime(2024, 3, 1, 14, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    "message",
    [
        ScoredArticle(
            article_id=7,
            published_at=None,
            scores=(TickerSentiment("AAPL", 0.5, 0.9), TickerSentiment("MSFT", -0.25, 0.6)),
            model_used="minilm-fin@3",
        ),
        SignalEvent(
            signal_id=1,
            ticker="AAPL",
            direction=Direction.LONG,
            strength=0.42,
            contributions=(StrategyContribution("momentum", 0.8, 0.5),),
            decided_at=NOW,
            price=Decimal("187.125"),
        ),
        TradeEvent(
            trade_id=3,
            client_order_id="tb-abc",
            ticker="AAPL",
            side="buy",
            qty=Decimal("10.5"),
            status="filled",
            timestamp=NOW,
            price=Decimal("100.01"),
        ),
    ],
)
def test_round_trip_is_exact(message: Contract) -> None:
    text = codec.dumps(message)
    assert codec.loads(text) == message
    assert codec.dumps(codec.loads(text)) == text  # stable bytes


def test_decimals_travel_as_strings_never_floats() -> None:
    text = codec.dumps(
        TradeEvent(
            trade_id=1,
            client_order_id="x",
            ticker="A",
            side="buy",
            qty=Decimal("0.1"),
            status="filled",
            timestamp=NOW,
        )
    )
    assert '"qty":"0.1"' in text


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("not json", "not JSON"),
        ('{"type":"news.scored","v":99,"data":{}}', "unknown contract"),
        ('{"type":"news.scored","v":1,"data":{"article_id":"7"}}', "expected int"),
        (
            '{"type":"trades.executed","v":1,"data":{"trade_id":1,"client_order_id":"x",'
            '"ticker":"A","side":"buy","qty":0.1,"status":"f","timestamp":"2024-01-01T00:00:00+00:00"}}',
            "decimals travel as strings",
        ),
        (
            '{"type":"trades.executed","v":1,"data":{"trade_id":1,"client_order_id":"x",'
            '"ticker":"A","side":"buy","qty":"1","status":"f","timestamp":"2024-01-01T00:00:00"}}',
            "naive datetime",
        ),
        ('{"type":"news.scored","v":1,"data":{"article_id":7}}', "missing field"),
    ],
)
def test_bad_payloads_are_refused_with_a_clear_error(text: str, why: str) -> None:
    with pytest.raises(ContractError, match=why):
        codec.loads(text)


def test_naive_datetimes_cannot_be_sent() -> None:
    @dataclass(frozen=True)
    class Stamp(Contract):
        TYPE = "test.stamp"
        at: datetime

    with pytest.raises(ContractError, match="naive"):
        codec.dumps(Stamp(at=datetime(2024, 1, 1)))
