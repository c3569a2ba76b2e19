from pos.session import PosSession


def test_cash_sale_on_demo_store(session: PosSession) -> None:
    co = session.checkout
    co.scan("2*MUG")
    co.take_payment("cash", "50")
    order = co.place()
    assert order.status.value == "placed"
    assert order.number == "T1-000001"
    assert str(order.totals.total) == "20.57"  # 19.00 + 8.25% tax 1.5675 → 1.57
