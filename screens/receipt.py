"""The receipt of a sale (or of any order, from Orders): show, print to a file, next customer.

After a sale, any key that is not a binding starts a fresh cart (a printable key goes on into
the cart input, so the next customer's first scan is not lost).
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Footer, Static

from pos.models import Order
from pos.money import format_money
from pos.receipt import render_receipt
from pos.store.outbox import OutboxEntry
from screens.widgets import PosScreen, StatusBar


class ReceiptScreen(PosScreen):
    CSS_PATH = "receipt.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f9", "print", "Print", id="receipt.print"),
        Binding("ctrl+r", "refund", "Refund", id="receipt.refund"),
    ]

    def __init__(self, number: str, *, after_sale: bool = True, order: Order | None = None) -> None:
        super().__init__()
        self.number = number
        self.after_sale = after_sale
        self.order = order

    def compose(self) -> ComposeResult:
        yield Static(id="receipt-head")
        if not self.after_sale:
            yield Static(id="receipt-delivery")
        with VerticalScroll(id="receipt-scroll"):
            yield Static(id="receipt")
        hint = ("Any key: next customer · F9: print" if self.after_sale
                else "F9: print again · Ctrl+R: refund or void · Esc: back")
        yield Static(hint, id="receipt-hint")
        yield StatusBar()
        yield Footer()

    def on_mount(self) -> None:
        if self.order is not None:
            self.show(self.order)
        else:
            ledger = self.pos.session.ledger
            self.pos.run_io(lambda: ledger.orders.get(self.number), self.show)
        if not self.after_sale:
            self.load_delivery()

    def on_screen_suspend(self) -> None:
        self.left_once = True

    def on_screen_resume(self) -> None:
        if getattr(self, "left_once", False) and not self.after_sale:  # back from a refund
            ledger = self.pos.session.ledger
            self.pos.run_io(lambda: ledger.orders.get(self.number), self.show)
            self.load_delivery()

    def load_delivery(self) -> None:
        """Where the sale has gone: one line per store it is sent to (placement, mirrors)."""
        outbox = self.pos.session.ledger.outbox
        self.pos.run_io(lambda: outbox.for_order(self.number), self.show_delivery)

    def show_delivery(self, entries: list[OutboxEntry]) -> None:
        lines = [f"{e.kind} → {e.target}: {'sent' if e.state == 'done' else e.state}"
                 + (f" (id {e.remote_id})" if e.remote_id else "")
                 + (f" after {e.attempts} tries" if e.attempts > 1 else "")
                 + (f" — {e.last_error}" if e.last_error and e.state != "done" else "")
                 for e in entries]
        self.query_one("#receipt-delivery", Static).update(
            "\n".join(lines) or "Kept locally only (no store to send it to).")

    def show(self, order: Order) -> None:
        self.order = order
        cur = order.currency
        change = f" · Change {format_money(order.change, cur)}" if order.change else ""
        self.query_one("#receipt-head", Static).update(
            f"Order {order.number} · {order.status.value} · "
            f"Total {format_money(order.totals.total, cur)}{change}")
        self.query_one("#receipt", Static).update(
            render_receipt(order, self.pos.session.settings.shop,
                           self.pos.session.settings.printer.width))

    def action_print(self) -> None:
        order = self.order
        if order is None:
            return
        session = self.pos.session

        def job() -> Path:
            folder = session.data_dir / "receipts"
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"{order.number}.txt"
            path.write_text(render_receipt(order, session.settings.shop,
                                           session.settings.printer.width), encoding="utf-8")
            return path

        self.pos.run_io(job, lambda path: self.notify(str(path), title="Receipt printed"))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (action == "refund" and self.after_sale)  # refunds: from Orders

    def action_refund(self) -> None:
        from screens.refund import RefundScreen

        if not self.after_sale:
            self.app.push_screen(RefundScreen(self.number))

    def on_key(self, event: events.Key) -> None:
        if not self.after_sale or event.key == "escape" or event.key in self.app.active_bindings:
            # a bound key (F9 print, F2 customer, Ctrl+B outbox …) does what it is bound to
            if event.key == "escape" and self.after_sale:
                event.stop()
                self.pos.to_cart()
            return
        event.stop()
        self.pos.to_cart()
        if event.is_printable and event.character:
            cart = self.pos.cart_screen
            cart.scan_input.insert_text_at_cursor(event.character)
