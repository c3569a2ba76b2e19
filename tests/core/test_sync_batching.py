"""Flush batching: placements are announced `sending` in batches (committed before the first of
their calls), their `done`s ride in the next transaction, unsent ones go back to `queued` when
the circuit opens, and a crash mid-batch only ever leads to reconciliation, never a second call."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pos import sync, sync_batches
from pos.backends.base import BackendSettings, PlacedOrder
from pos.backends.local import LocalBackend
from pos.config import load_settings
from pos.errors import TransientError
from pos.models import Order, OrderStatus
from pos.session import PosSession, open_session


class WatchingBackend(LocalBackend):
    """Records, at each call, what another connection sees committed in pos.db."""

    def __init__(self, settings: BackendSettings, context: object, db: Path) -> None:
        super().__init__(settings, context)  # type: ignore[arg-type]
        self.db_path = db
        self.down = False
        self.down_at: int | None = None  # fail transiently from this call on
        self.calls: list[str] = []
        self.sent: list[Order] = []
        self.seen: list[dict[str, str]] = []

    def place_order(self, order: Order) -> PlacedOrder:
        if self.down or (self.down_at is not None and len(self.calls) >= self.down_at):
            raise TransientError(message="connection refused")
        self.calls.append(order.number)
        self.sent.append(order)
        with sqlite3.connect(self.db_path) as other:
            self.seen.append(dict(other.execute(
                "SELECT o.number, o.state || '/' || d.status FROM outbox o "
                "JOIN orders d ON d.number = o.number")))
        return super().place_order(order)


def queued_sales(data_dir: Path, count: int) -> tuple[PosSession, WatchingBackend, list[str]]:
    """A session whose store was down while `count` sales were made: all queued."""
    session = open_session(data_dir, "local", load_settings())
    session.backend.close()
    backend = WatchingBackend(session.backend.settings, session.backend.context,
                              session.ledger.path)
    session._backends["local"] = backend
    backend.down = True
    numbers = []
    for _ in range(count):
        co = session.checkout
        co.scan("MUG")
        co.take_payment("cash")
        session.sync.offline_targets.clear()  # each sale tries the store (and fails)
        numbers.append(co.place().number)
    backend.down = False
    session.sync.offline_targets.clear()
    return session, backend, numbers


def test_a_batch_sends_its_orders_as_stored_once_announced(data_dir: Path) -> None:
    """The orders of a batch are read in one query after its announcement: each call gets
    the stored order, `sending` with no error, as a read just before the call would."""
    session, backend, numbers = queued_sales(data_dir, 5)
    before = {n: session.ledger.orders.get(n) for n in numbers}
    assert session.ledger.orders.get_many([*numbers, "L9-999999"]) == before  # missing: left out
    session.sync.flush(now=float("inf"))
    assert [o.number for o in backend.sent] == numbers
    for order in backend.sent:
        assert order == before[order.number].model_copy(
            update={"status": OrderStatus.SENDING, "last_error": ""})
    session.close()


def test_flush_commits_sending_before_each_call_and_done_by_the_next_batch(
        data_dir: Path) -> None:
    session, backend, numbers = queued_sales(data_dir, 6)
    before = {n: session.ledger.orders.get(n) for n in numbers}
    report = session.sync.flush(now=float("inf"))
    assert report.placed == numbers
    assert backend.calls == numbers
    changed = {"status", "remote_id", "last_error"}
    for number in numbers:  # only the sync fields of the stored order changed (`set_status`)
        after = session.ledger.orders.get(number)
        assert after.model_dump(exclude=changed) == before[number].model_dump(exclude=changed)
        assert before[number].last_error and not after.last_error
        row = session.ledger.db.execute("SELECT status, remote_id, last_error FROM orders "
                                        "WHERE number = ?", [number]).fetchone()
        assert tuple(row) == ("placed", after.remote_id, "")
    # the first placement is announced alone (no call time measured yet)
    assert backend.seen[0][numbers[0]] == "sending/sending"
    assert all(backend.seen[0][n] == "queued/queued" for n in numbers[1:])
    # then the rest in one batch, whose transaction also commits the first one's `done`
    assert backend.seen[1][numbers[0]] == "done/placed"
    for i, seen in enumerate(backend.seen[1:], start=1):
        assert all(seen[n] == "sending/sending" for n in numbers[i:])  # before each call
    # the last ones are committed when the flush ends
    for number in numbers:
        order = session.ledger.orders.get(number)
        assert order.status is OrderStatus.PLACED and order.remote_id and not order.last_error
    assert session.ledger.outbox.pending_count() == 0
    entries = [e for n in numbers for e in session.ledger.outbox.for_order(n)]
    assert [e.state for e in entries] == ["done"] * 6
    assert [e.attempts for e in entries] == [2] * 6  # the failed one at sale time, then this
    assert [e[1] for e in session.ledger.orders.events(numbers[3])][-1] == "placed"
    session.close()


def test_circuit_opening_puts_announced_but_unsent_entries_back(data_dir: Path) -> None:
    session, backend, numbers = queued_sales(data_dir, 6)
    session.sync.flush(now=float("inf"))  # place the first, announce the rest
    session.close()
    session, backend, numbers = queued_sales(data_dir, 6)  # six more, then a flush that fails
    backend.down_at = 2  # the third call of the pass fails: circuit open for the pass
    report = session.sync.flush(now=float("inf"))
    assert report.placed == numbers[:2] and report.queued == [numbers[2]]
    assert backend.calls == numbers[:2]
    failed = session.ledger.outbox.for_order(numbers[2])[0]
    assert failed.state == "queued" and "connection refused" in failed.last_error
    for number in numbers[3:]:  # announced, never called: queued again, attempt uncounted
        entry = session.ledger.outbox.for_order(number)[0]
        assert (entry.state, entry.attempts) == ("queued", 1)
        assert session.ledger.orders.get(number).status is OrderStatus.QUEUED
    backend.down_at = None
    report = session.sync.flush(now=float("inf"))
    assert report.placed == numbers[2:]
    assert backend.calls == numbers  # each exactly once
    assert session.ledger.outbox.pending_count() == 0
    session.close()


CRASHING_FLUSH = """
    import os
    from pathlib import Path
    from pos.backends.local import LocalBackend
    from pos.config import load_settings
    from pos.errors import TransientError
    from pos.session import open_session

    calls = Path(os.environ["CALLS"])

    class Store(LocalBackend):
        down = True
        def place_order(self, order):
            if self.down:
                raise TransientError(message="connection refused")
            with calls.open("a") as f:  # every call that reaches the store
                f.write(order.number + "\\n")
                f.flush()
                os.fsync(f.fileno())
            placed = super().place_order(order)
            if len(calls.read_text().split()) == int(os.environ.get("DIE_AT", "0")):
                os._exit(137)  # like kill -9, mid-batch
            return placed

    s = open_session(None, "local", load_settings())
    s.backend.close()
    store = Store(s.backend.settings, s.backend.context)
    s._backends["local"] = store
    for _ in range(int(os.environ.get("SALES", "0"))):
        co = s.checkout
        co.scan("MUG")
        co.take_payment("cash")
        co.place()
    store.down = False
    s.sync.flush(now=float("inf"))
    s.close()
"""


def test_crash_mid_batch_is_reconciled_never_sent_twice(data_dir: Path, tmp_path: Path) -> None:
    calls = tmp_path / "calls.txt"
    env = {**os.environ, "POS_DATA_DIR": str(data_dir), "CALLS": str(calls)}

    def run(**extra: str) -> int:
        return subprocess.run([sys.executable, "-c", textwrap.dedent(CRASHING_FLUSH)],
                              env={**env, **extra}, capture_output=True, text=True,
                              timeout=60).returncode

    assert run(SALES="8", DIE_AT="4") == 137  # died after the 4th call reached the store
    with sqlite3.connect(data_dir / "pos.db") as db:
        states = dict(db.execute("SELECT number, state FROM outbox"))
    assert len(states) == 8
    assert list(states.values()).count("done") <= 3
    assert "queued" not in states.values()  # the whole batch was announced before its calls
    assert run() == 0  # restart: reconcile every `sending`, send what was never sent
    sent = calls.read_text().split()
    assert sorted(sent) == sorted(states) and len(sent) == len(set(sent))  # each once
    with sqlite3.connect(data_dir / "pos.db") as db:
        assert set(db.execute("SELECT state FROM outbox")) == {("done",)}
        assert set(db.execute("SELECT status FROM orders")) == {("placed",)}
    with sqlite3.connect(data_dir / "catalog-local.db") as db:
        assert sorted(r[0] for r in db.execute("SELECT number FROM demo_orders")) == sorted(sent)


def test_slow_calls_do_not_keep_finished_sales_waiting(data_dir: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sync_batches, "DONE_WAIT_S", 0.0)  # every call counts as slow
    session, backend, numbers = queued_sales(data_dir, 5)
    session.sync.flush(now=float("inf"))
    assert backend.calls == numbers
    for i, seen in enumerate(backend.seen[1:], start=1):
        assert seen[numbers[i - 1]] == "done/placed"  # committed before the next call
        assert all(seen[n] == "sending/sending" for n in numbers[i:])
    session.close()


class HintBackend(WatchingBackend):
    """Like OpenCart: its lookup needs what `place_order` records, so no batches."""

    finds_unsent_orders = False


def test_no_batches_for_a_backend_that_cannot_find_unsent_sales(data_dir: Path) -> None:
    session = open_session(data_dir, "local", load_settings())
    session.backend.close()
    backend = HintBackend(session.backend.settings, session.backend.context, session.ledger.path)
    session._backends["local"] = backend
    backend.down = True
    numbers = []
    for _ in range(4):
        co = session.checkout
        co.scan("MUG")
        co.take_payment("cash")
        numbers.append(co.place().number)
    backend.down = False
    session.sync.flush(now=float("inf"))
    assert backend.calls == numbers
    for i, seen in enumerate(backend.seen):
        assert seen[numbers[i]] == "sending/sending"
        assert all(seen[n] == "queued/queued" for n in numbers[i + 1:])  # announced one by one
        assert all(seen[n] == "done/placed" for n in numbers[:max(0, i - 1)])
    assert {session.ledger.orders.get(n).status for n in numbers} == {OrderStatus.PLACED}
    session.close()


def test_set_statuses_patches_columns_and_stored_order_alike(data_dir: Path) -> None:
    """`OrderStore.set_statuses`: several orders in one transaction, the remote id kept when
    not given, events added; columns and the stored JSON agree (as `set_status` for each)."""
    from pos.store.db import transaction
    from pos.store.orders import StatusChange

    session, _, numbers = queued_sales(data_dir, 3)
    ledger = session.ledger
    first, second, third = numbers
    with transaction(ledger.db, ledger.path) as conn:
        ledger.orders.set_statuses(conn, [
            StatusChange(first, OrderStatus.PLACED, remote_id="R1", event="placed", detail="d1"),
            StatusChange(second, OrderStatus.SENDING),
            StatusChange(third, OrderStatus.PLACED, remote_id="R3", event="reconciled"),
        ], stamp="2026-01-01T00:00:00+00:00")
        ledger.orders.set_statuses(conn, [StatusChange(first, OrderStatus.UNKNOWN, "lost")])
    expected = {first: ("unknown", "R1", "lost"), second: ("sending", None, ""),
                third: ("placed", "R3", "")}
    for number, (status, remote_id, error) in expected.items():
        row = ledger.db.execute("SELECT status, remote_id, last_error FROM orders "
                                "WHERE number = ?", [number]).fetchone()
        order = ledger.orders.get(number)
        assert tuple(row) == (status, remote_id, error)
        assert (order.status.value, order.remote_id, order.last_error) == (status, remote_id, error)
    assert ledger.orders.events(first)[-1] == ("2026-01-01T00:00:00+00:00", "placed", "d1")
    assert ledger.orders.events(third)[-1][1:] == ("reconciled", "")
    assert ledger.orders.events(second)[-1][1] != "placed"
    session.close()


def test_a_batch_whose_orders_cannot_be_read_goes_back_to_queued(
        data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Reading a batch's orders fails after its announcement was committed: no call is made,
    and the flush puts every announced entry back to `queued`, its attempt uncounted."""
    from pos.errors import StorageError
    from pos.store.orders import OrderStore

    session, backend, numbers = queued_sales(data_dir, 3)
    session.sync._entry_s = 0.001  # batches from the first placement on

    def unreadable(self: OrderStore, numbers: object) -> dict[str, Order]:
        raise StorageError(message="disk I/O error")

    monkeypatch.setattr(OrderStore, "get_many", unreadable)
    with pytest.raises(StorageError):
        session.sync.flush(now=float("inf"))
    assert backend.calls == []
    entries = [e for n in numbers for e in session.ledger.outbox.for_order(n)]
    assert [(e.state, e.attempts) for e in entries] == [("queued", 1)] * 3
    assert {session.ledger.orders.get(n).status for n in numbers} == {OrderStatus.QUEUED}
    session.close()


def test_a_flush_in_steps_skips_what_changed_between_them(data_dir: Path) -> None:
    """The counter's flush runs one entry per step, the cashier's work in between: a sale sent
    by hand (retry → `deliver`) or cancelled between two steps is not sent (again) by the
    flush, and every other sale is sent once."""
    from contextlib import contextmanager

    from pos.outbox_actions import OutboxActions

    session, backend, numbers = queued_sales(data_dir, 6)
    place = {n: next(e.id for e in session.ledger.outbox.for_order(n) if e.kind == "place")
             for n in numbers}
    steps = 0

    @contextmanager
    def step():  # type: ignore[no-untyped-def]
        nonlocal steps
        steps += 1
        if steps == 3:  # after the first sale went: the cashier acts in between
            session.sync.deliver(numbers[4])
            OutboxActions(session.sync).cancel(place[numbers[5]], "customer left")
        yield

    report = session.sync.flush(now=float("inf"), step=step)
    assert sorted(backend.calls) == sorted(numbers[:5])  # each once; the cancelled one never
    assert report.placed == numbers[:4]  # the fifth was placed by `deliver`
    assert steps == 1 + 6 + 1  # the due list, one per entry, the end
    statuses = {n: session.ledger.orders.get(n).status for n in numbers}
    assert statuses == {**{n: OrderStatus.PLACED for n in numbers[:5]},
                        numbers[5]: OrderStatus.CANCELED}
    assert session.ledger.outbox.pending_count() == 0
    session.close()


def test_a_flush_stops_between_steps_and_leaves_the_rest_queued(data_dir: Path) -> None:
    session, backend, numbers = queued_sales(data_dir, 5)
    report = session.sync.flush(now=float("inf"), stop=lambda: len(backend.calls) >= 2)
    assert report.placed == numbers[:2] and backend.calls == numbers[:2]
    rest = [e for n in numbers[2:] for e in session.ledger.outbox.for_order(n)]
    assert [e.state for e in rest] == ["queued"] * 3  # announced ones withdrawn, not `sending`
    assert session.sync.flush(now=float("inf")).placed == numbers[2:]
    session.close()


def test_a_second_flush_during_one_says_so_and_sends_nothing(data_dir: Path) -> None:
    from contextlib import contextmanager

    session, backend, numbers = queued_sales(data_dir, 3)
    inner: list[sync.SyncReport] = []

    @contextmanager
    def step():  # type: ignore[no-untyped-def]
        if len(backend.calls) == 1 and not inner:  # a second tick, or "send all", meanwhile
            inner.append(session.sync.flush(now=float("inf")))
        yield

    report = session.sync.flush(now=float("inf"), step=step)
    assert inner[0].errors == ["This counter is already sending its sales."]
    assert not inner[0].placed and report.placed == numbers and backend.calls == numbers
    session.close()
