"""Ctrl+B: the outbox — every sale, mirror and status change that has not reached its store yet.

Each entry shows its sale, what it carries (place, mirror, status), where to (the profile), its
state (queued, sending, unknown, failed), how many tries, and the last error. The cashier can:

* F9 retry now (an `unknown` entry is still checked with the store first: never sent twice);
* F10 edit and retry a sale the store refused (`failed` placement): the sale goes back into the
  cart with its number and payments; fix it and pay (F12) to send it again;
* F11 cancel an entry, with a reason (a cancelled placement cancels the sale);
* Ctrl+R / Ctrl+N resolve an `unknown` sale after checking the store: placed there (under which
  id) or not placed (then it is sent again);
* Ctrl+S send every open entry now (those waiting out a back-off too).
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Static

from pos.models import Cart, Order
from pos.outbox_actions import OutboxActions
from pos.store.outbox import OutboxEntry
from pos.sync import SENDING_ELSEWHERE, SENDING_HERE, SyncReport
from screens.widgets import PosScreen, StatusBar, cursor_key

HINTS = {
    "queued": "Waiting to be sent (F9: now). F11 cancels it.",
    "sending": "A call was under way when the counter stopped: it is checked with the store "
               "before anything is sent again (F9).",
    "unknown": "No answer came back: the store may have it. F9 asks the store; or check "
               "yourself, then Ctrl+R (placed, with its id) or Ctrl+N (not placed).",
    "failed": "The store refused it. F10 takes the sale back into the cart to fix it, F9 sends "
              "it unchanged, F11 cancels it (with a reason).",
}


class OutboxScreen(PosScreen):
    CSS_PATH = "outbox.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f9", "retry", "Retry", id="outbox.retry"),
        Binding("f10", "edit", "Edit & retry", id="outbox.edit"),
        Binding("f11", "cancel_entry", "Cancel entry", id="outbox.cancel"),
        Binding("ctrl+r", "resolve(True)", "Placed there", id="outbox.placed"),
        Binding("ctrl+n", "resolve(False)", "Not placed", id="outbox.not_placed"),
        Binding("ctrl+s", "send_all", "Send all now", id="outbox.send"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[str, OutboxEntry] = {}

    def compose(self) -> ComposeResult:
        yield Static("Outbox: what has not reached its store yet", id="outbox-title")
        table: DataTable[str] = DataTable(id="outbox", cursor_type="row")
        table.add_columns("#", "Sale", "What", "To", "State", "Tries", "Last error")
        yield table
        yield Static(id="outbox-detail")
        yield StatusBar()
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#outbox", DataTable).focus()
        self.load()

    @property
    def actions(self) -> OutboxActions:
        return OutboxActions(self.pos.session.sync)

    def load(self) -> None:
        outbox = self.pos.session.ledger.outbox
        self.pos.run_io(outbox.open_entries, self.show, group="outbox")

    def show(self, entries: list[OutboxEntry]) -> None:
        table: DataTable[str] = self.query_one("#outbox", DataTable)
        keep = self.selected()
        table.clear()
        self.entries = {str(e.id): e for e in entries}
        for e in entries:
            error = e.last_error if len(e.last_error) <= 60 else e.last_error[:59] + "…"
            table.add_row(str(e.id), e.number, e.kind, e.target, e.state, str(e.attempts),
                          error, key=str(e.id))
        if keep is not None and str(keep.id) in self.entries:
            table.move_cursor(row=table.get_row_index(str(keep.id)))
        self.describe()

    def selected(self) -> OutboxEntry | None:
        key = cursor_key(self.query_one("#outbox", DataTable))
        return self.entries.get(key) if key is not None else None

    @on(DataTable.RowHighlighted, "#outbox")
    def describe(self) -> None:
        entry = self.selected()
        detail = self.query_one("#outbox-detail", Static)
        if entry is None:
            detail.update("The outbox is empty: every sale has reached its store.")
            return
        error = f"\nLast error: {entry.last_error}" if entry.last_error else ""
        detail.update(f"Entry {entry.id} · sale {entry.number} · {entry.kind} → {entry.target}"
                      f" · {entry.state}{error}\n{HINTS.get(entry.state, '')}")

    def _entry_or_say(self, title: str) -> OutboxEntry | None:
        entry = self.selected()
        if entry is None:
            self.notify("The outbox is empty.", title=title)
        return entry

    def _done(self, order: Order) -> None:
        self.notify(order.outcome, title="Outbox")
        self.load()

    # --- actions -----------------------------------------------------------------------------

    def action_retry(self) -> None:
        entry = self._entry_or_say("Retry")
        if entry is not None:
            actions = self.actions
            self.pos.run_io(lambda: actions.retry(entry.id), self._done,
                            failed=lambda _: self.load())

    def action_edit(self) -> None:
        entry = self._entry_or_say("Edit & retry")
        if entry is None:
            return
        if entry.kind != "place" or entry.state != "failed":
            self.notify("Only a sale the store refused (a failed placement) can be edited.",
                        title="Edit & retry")
            return
        checkout = self.pos.checkout

        def reopened(cart: Cart) -> None:
            self.pos.to_cart()
            self.notify(f"Sale {cart.number} is back in the cart: fix it, then pay (F12) to "
                        "send it again. The cart you had is parked (F6).",
                        title="Edit & retry", timeout=10)

        self.pos.run_io(lambda: checkout.reopen(entry.number), reopened)

    def action_cancel_entry(self) -> None:
        from screens.modals import PromptModal

        entry = self._entry_or_say("Cancel entry")
        if entry is None:
            return
        what = "the sale" if entry.kind == "place" else f"this {entry.kind}"
        actions = self.actions

        def answer(reason: str | None) -> None:
            if reason is None:
                return
            if not reason.strip():
                self.notify("Say why it is cancelled.", title="Cancel entry", severity="warning")
                return
            self.pos.run_io(lambda: actions.cancel(entry.id, reason.strip()), self._done)

        self.app.push_screen(PromptModal(
            f"Cancel {what} {entry.number} → {entry.target}: why? (Esc: keep it)"), answer)

    def action_resolve(self, placed: bool) -> None:
        from screens.modals import ConfirmModal, PromptModal

        entry = self._entry_or_say("Resolve")
        if entry is None:
            return
        actions = self.actions
        if placed:
            def with_id(remote_id: str | None) -> None:
                if remote_id and remote_id.strip():
                    self.pos.run_io(lambda: actions.resolve(entry.id, remote_id.strip()),
                                    self._done)

            self.app.push_screen(PromptModal(
                f"Sale {entry.number} is in {entry.target} under which order id?"), with_id)
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.pos.run_io(lambda: actions.resolve(entry.id, None), self._done)

        self.app.push_screen(ConfirmModal(
            f"You checked {entry.target}: sale {entry.number} is NOT there, send it again?"),
            confirmed)

    def action_send_all(self) -> None:
        def sent(report: SyncReport) -> None:
            done = len(report.placed) + len(report.mirrored)
            left = len(report.queued) + len(report.unknown) + len(report.failed)
            busy = [e for e in report.errors if e in (SENDING_HERE, SENDING_ELSEWHERE)]
            self.notify(" ".join([f"{done} sent, {left} still open.", *busy]), title="Outbox")
            self.load()

        self.pos.send_all(sent)  # back-off waits too; in the background, scanning goes on
