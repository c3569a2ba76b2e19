"""A sale interrupted by killing the process at any point is never lost nor doubled.

Each case runs `pos checkout` in a subprocess with POS_CRASH_AT set (the process dies with
os._exit, like kill -9: no cleanup), then restarts `pos sync` and checks the local ledger and the
embedded store's own order table: every recorded sale exactly once in both.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

SALE = {"items": [{"code": "MUG", "quantity": 2}], "tendered": "50"}


def pos(data_dir: Path, *args: str, crash: str | None = None,
        stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "POS_DATA_DIR": str(data_dir)}
    env.pop("POS_CRASH_AT", None)
    if crash:
        env["POS_CRASH_AT"] = crash
    return subprocess.run([sys.executable, "-m", "pos.cli", *args], env=env, input=stdin,
                          capture_output=True, text=True, timeout=60)


def remote_numbers(data_dir: Path) -> list[str]:
    with sqlite3.connect(data_dir / "catalog-local.db") as db:
        return [r[0] for r in db.execute("SELECT number FROM demo_orders ORDER BY number")]


def local_orders(data_dir: Path) -> dict[str, str]:
    out = pos(data_dir, "orders", "list", "--json", "--limit", "1000")
    assert out.returncode == 0, out.stderr
    return {o["number"]: o["status"] for o in json.loads(out.stdout)}


@pytest.mark.parametrize("point", ["after_reserve", "after_record", "after_sending",
                                   "after_remote", "before_done"])
def test_kill_at_each_point_then_restart(data_dir: Path, point: str) -> None:
    first = pos(data_dir, "checkout", "-", "--json", crash=point, stdin=json.dumps(SALE))
    assert first.returncode == 137, first.stderr
    # a second sale after the restart, then a sync pass
    second = pos(data_dir, "checkout", "-", "--json", stdin=json.dumps(SALE))
    assert second.returncode == 0, second.stderr
    synced = pos(data_dir, "sync", "--json")
    assert synced.returncode == 0, synced.stderr
    orders = local_orders(data_dir)
    assert all(status == "placed" for status in orders.values()), orders
    remote = remote_numbers(data_dir)
    assert sorted(orders) == remote  # each recorded sale exactly once on the store
    assert len(remote) == len(set(remote))
    expected = 1 if point == "after_reserve" else 2  # before recording, the sale never existed
    assert len(orders) == expected
    numbers = sorted(orders)
    assert numbers[-1] == "T1-000002"  # the reserved number is never reused


def test_many_sales_killed_in_a_loop(data_dir: Path) -> None:
    points = ["after_record", "after_sending", "after_remote", "before_done", None] * 3
    for point in points:
        pos(data_dir, "checkout", "-", "--json", crash=point, stdin=json.dumps(SALE))
        if point == "after_sending":
            pos(data_dir, "sync", crash="after_sending")  # and die again while flushing
    assert pos(data_dir, "sync").returncode == 0
    orders = local_orders(data_dir)
    assert len(orders) == len(points)
    assert set(orders.values()) == {"placed"}
    assert sorted(orders) == remote_numbers(data_dir)


def test_cart_in_progress_and_parked_carts_survive_a_kill(data_dir: Path) -> None:
    script = (
        "from pos.session import open_session\n"
        "import os\n"
        "s = open_session()\n"
        "co = s.checkout\n"
        "co.scan('BANANA'); co.park('for later')\n"
        "co.scan('2*MUG'); co.set_customer(co.search_customers('jane')[0])\n"
        "os._exit(137)\n"
    )
    env = {**os.environ, "POS_DATA_DIR": str(data_dir)}
    run = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 137, run.stderr
    from pos.config import load_settings
    from pos.session import open_session

    session = open_session(data_dir, "local", load_settings())
    try:
        cart = session.checkout.cart
        assert [(ln.sku, ln.quantity) for ln in cart.lines] == [("MUG", 2)]
        assert cart.customer is not None and cart.customer.firstname == "Jane"
        parked = session.checkout.parked()
        assert [c.label for c in parked] == ["for later"]
    finally:
        session.close()
