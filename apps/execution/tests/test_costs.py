"""Commission and slippage models: Decimal, float and array paths agree; configs round-trip."""

from decimal import Decimal as D

import numpy as np
import pytest

from apps.execution.costs import (
    BpsCommission,
    BpsSlippage,
    NoCommission,
    NoSlippage,
    PerOrderCommission,
    PerShareCommission,
    SpreadSlippage,
    VolumeSlippage,
    commission_from_dict,
    commission_parse,
    slippage_from_dict,
    slippage_parse,
)

COMMISSION_CASES = [
    # model, qty, price, expected fee
    (BpsCommission(bps=D("20")), D(55), D("179.13"), D("19.7043")),  # reference trade 1 entry
    (BpsCommission(bps=D(10), minimum=D(1)), D(1), D(10), D(1)),  # minimum binds
    (PerShareCommission(), D(100), D(50), D("1.00")),  # 0.5 < 1.00 minimum
    (PerShareCommission(), D(1000), D(50), D("5.000")),  # per share
    (PerShareCommission(), D(1000), D("0.2"), D("2.0000")),  # capped at 1% of 200
    (PerOrderCommission(fee_per_order=D("4.95")), D(3), D(10), D("4.95")),
    (PerOrderCommission(), D(0), D(10), D(0)),  # nothing filled, nothing charged
    (NoCommission(), D(10), D(10), D(0)),
]


@pytest.mark.parametrize(("model", "qty", "price", "fee"), COMMISSION_CASES)
def test_commission_paths_agree(model, qty, price, fee):
    assert model.fee(qty, price) == fee
    assert isinstance(model.fee(qty, price), D)
    as_float = model.fee(float(qty), float(price))
    assert isinstance(as_float, float)
    assert as_float == pytest.approx(float(fee))
    assert model.fee_float(float(qty), float(price)) == pytest.approx(float(fee))
    arr = model.fee_array(np.array([float(qty)]), np.array([float(price)]))
    assert arr[0] == pytest.approx(float(fee))
    assert model.fee(-qty, price) == fee  # the sign of the quantity is ignored


def test_bps_float_path_is_bit_identical_to_array_path():
    m = BpsCommission(bps=D("20"))
    q = np.array([55.0, 53.0, 48.0, 10.0])
    p = np.array([179.13, 187.45, 196.96, 600.01])
    assert [m.fee_float(a, b) for a, b in zip(q, p, strict=True)] == m.fee_array(q, p).tolist()


SLIPPAGE_CASES = [
    # model, side, price, qty, volume, spread, expected fill
    (BpsSlippage(bps=D("5")), "buy", D(100), D(10), None, None, D("100.05")),
    (BpsSlippage(bps=D("5")), "sell", D(100), D(10), None, None, D("99.95")),
    (SpreadSlippage(), "buy", D(100), D(1), None, D("0.04"), D("100.02")),  # half the spread
    (SpreadSlippage(), "sell", D(100), D(1), None, None, D("99.99")),  # 2 bps default spread
    # impact 0.1 x (1,000 / 100,000)^2 = 1e-5 of the price
    (VolumeSlippage(), "buy", D(100), D(1000), D(100000), None, D("100.001")),
    # participation capped at 2.5%: 0.1 x 0.025^2 = 6.25e-5
    (VolumeSlippage(), "sell", D(100), D(10**6), D(1000), None, D("99.99375")),
    (VolumeSlippage(), "buy", D(100), D(1), None, None, D("100.00625")),  # no volume: the cap
    (NoSlippage(), "buy", D(100), D(1), None, None, D(100)),
]


@pytest.mark.parametrize(
    ("model", "side", "price", "qty", "volume", "spread", "fill"), SLIPPAGE_CASES
)
def test_slippage_paths_agree(model, side, price, qty, volume, spread, fill):
    assert model.fill_price(side, price, qty, volume=volume, spread=spread) == fill
    f = model.fill_price(
        side,
        float(price),
        float(qty),
        volume=None if volume is None else float(volume),
        spread=None if spread is None else float(spread),
    )
    assert f == pytest.approx(float(fill))
    sign = np.array([1.0 if side == "buy" else -1.0])
    arr = model.fill_price_array(
        sign,
        np.array([float(price)]),
        np.array([float(qty)]),
        volume=None if volume is None else np.array([float(volume)]),
        spread=None if spread is None else np.array([float(spread)]),
    )
    assert arr[0] == pytest.approx(float(fill))


def test_slippage_rejects_unknown_side():
    with pytest.raises(ValueError, match="side"):
        BpsSlippage().fill_price("hold", 1.0, 1.0)


@pytest.mark.parametrize(
    "model",
    [BpsCommission(bps=D("20")), PerShareCommission(), PerOrderCommission(), NoCommission()],
)
def test_commission_round_trip_and_frozen(model):
    again = commission_from_dict(model.to_dict())
    assert again == model
    assert hash(again) == hash(model)
    with pytest.raises(AttributeError):
        model.minimum = D(5)


@pytest.mark.parametrize("model", [BpsSlippage(), SpreadSlippage(), VolumeSlippage(), NoSlippage()])
def test_slippage_round_trip(model):
    assert slippage_from_dict(model.to_dict()) == model


def test_params_are_exact_decimals_and_non_negative():
    assert BpsCommission(bps=0.1).bps == D("0.1")  # via str, not binary
    with pytest.raises(ValueError, match=">= 0"):
        BpsSlippage(bps=D(-1))


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("bps:20", BpsCommission(bps=D(20))),
        ("per_share:0.01", PerShareCommission(per_share=D("0.01"))),
        ("per_order:1", PerOrderCommission(fee_per_order=D(1))),
        ("none", NoCommission()),
    ],
)
def test_commission_parse(spec, expected):
    assert commission_parse(spec) == expected


def test_slippage_parse():
    assert slippage_parse("spread:3") == SpreadSlippage(default_spread_bps=D(3))
    assert slippage_parse("volume:0.2") == VolumeSlippage(impact=D("0.2"))
    with pytest.raises(ValueError, match="unknown"):
        slippage_parse("magic")
