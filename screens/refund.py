"""Refund or void a placed order (Ctrl+R on Orders or on an order's detail).

The lines show what was sold and what can still be refunded; `+`/`-` set the quantity to refund
on the highlighted line (Enter: type it), F9 takes everything left. The refund method and a
reason are asked on the same screen, and the amounts (`session.refunds.preview`) follow every
change. F10 refunds (after a confirmation), F8 voids the whole order (a reason, then a
confirmation); either ends on the refund slip, which F9 prints.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import DataTable, Footer, Input, Select, Static

from pos.errors import PosError
from pos.models import REFUND_METHODS, Order
from pos.money import format_money
from pos.printing import PrintJob
from pos.refunds import Refund
from screens.widgets import PosScreen, StatusBar


@dataclass(frozen=True)
class RefundDone:
    """What the refund screen hands to the slip: the refund and its printable slip."""

    refund: Refund
    job: PrintJob


class RefundScreen(PosScreen):
    CSS_PATH = "refund.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("plus", "change(1)", "+1", id="refund.more"),
        Binding("minus", "change(-1)", "-1", id="refund.less"),
        Binding("f9", "all", "All", id="refund.all"),
        Binding("f10", "refund", "Refund", id="refund.confirm"),
        Binding("f8", "void", "Void order", id="refund.void"),
    ]

    def __init__(self, number: str) -> None:
        super().__init__()
        self.number = number
        self.order: Order | None = None
        self.left: dict[str, int] = {}
        self.chosen: dict[str, int] = {}

    def compose(self) -> ComposeResult:
        yield Static(f"Refund order {self.number}", id="refund-head")
        table: DataTable[str] = DataTable(id="refund-lines", cursor_type="row")
        table.add_columns("Product", "SKU", "Sold", "Refundable", "Refund")
        yield table
        with Horizontal(id="refund-form"):
            yield Select([(m.replace("_", " "), m) for m in REFUND_METHODS], value="cash",
                         allow_blank=False, id="refund-method")
            yield Input(placeholder="Reason (required)", id="refund-reason")
        yield Static("Choose quantities: +/- on a line, F9 all.", id="refund-preview")
        yield Static("+/-/Enter: quantity · F9: all · F10: refund · F8: void the order · Esc: back",
                     id="refund-hint")
        yield StatusBar()
        yield Footer()

    def on_mount(self) -> None:
        session = self.pos.session

        def load() -> tuple[Order, dict[str, int]]:
            order = session.ledger.orders.get(self.number)
            return order, session.refunds.refundable(order)

        self.pos.run_io(load, self.show)
        self.query_one("#refund-lines", DataTable).focus()

    def show(self, loaded: tuple[Order, dict[str, int]]) -> None:
        self.order, self.left = loaded
        order = self.order
        self.query_one("#refund-head", Static).update(
            f"Refund order {order.number} · {order.status.value} · {order.customer.name} · "
            f"Total {format_money(order.totals.total, order.currency)}")
        table: DataTable[str] = self.query_one("#refund-lines", DataTable)
        table.clear()
        for line in order.lines:
            name = line.name + (f" ({line.options_label})" if line.options else "")
            table.add_row(name, line.sku, str(line.quantity), str(self.left.get(line.key, 0)),
                          str(self.chosen.get(line.key, 0)), key=line.key)

    # --- quantities --------------------------------------------------------------------------

    def _set(self, key: str, qty: int) -> None:
        qty = max(0, min(qty, self.left.get(key, 0)))
        if qty:
            self.chosen[key] = qty
        else:
            self.chosen.pop(key, None)
        table: DataTable[str] = self.query_one("#refund-lines", DataTable)
        table.update_cell(key, table.ordered_columns[4].key, str(qty), update_width=True)

    def _current_key(self) -> str | None:
        table: DataTable[str] = self.query_one("#refund-lines", DataTable)
        if self.order is None or not table.row_count:
            return None
        return self.order.lines[table.cursor_row].key

    def action_change(self, step: int) -> None:
        key = self._current_key()
        if key is None:
            return
        if step > 0 and self.chosen.get(key, 0) >= self.left.get(key, 0):
            self.notify("Nothing more to refund on this line.", title="Refund")
            return
        self._set(key, self.chosen.get(key, 0) + step)
        self.update_preview()

    def action_all(self) -> None:
        if self.order is None:
            return
        everything = {k: q for k, q in self.left.items() if q > 0}
        if everything and self.chosen == everything:  # F9 again: clear
            everything = {}
        for line in self.order.lines:
            self._set(line.key, everything.get(line.key, 0))
        self.update_preview()

    @on(DataTable.RowSelected, "#refund-lines")
    def ask_quantity(self, event: DataTable.RowSelected) -> None:
        """Enter on a line: type the quantity to refund."""
        from screens.modals import PromptModal

        key = str(event.row_key.value)
        most = self.left.get(key, 0)

        def answered(text: str | None) -> None:
            if text is None:
                return
            try:
                qty = int(text.strip() or "0")
            except ValueError:
                qty = -1
            if not 0 <= qty <= most:
                self.pos.show_error(PosError(title="Quantity", message=f"{text!r} is not a "
                                             f"quantity from 0 to {most}."))
                return
            self._set(key, qty)
            self.update_preview()

        self.app.push_screen(PromptModal(f"Quantity to refund (0 to {most})",
                                         str(self.chosen.get(key, 0))), answered)

    @property
    def method(self) -> str:
        value = self.query_one("#refund-method", Select).value
        return str(value) if value is not Select.NULL else "cash"

    @property
    def reason(self) -> str:
        return self.query_one("#refund-reason", Input).value.strip()

    @on(Select.Changed, "#refund-method")
    def method_changed(self) -> None:
        self.update_preview()

    def update_preview(self) -> None:
        preview = self.query_one("#refund-preview", Static)
        if not self.chosen:
            preview.update("Choose quantities: +/- on a line, F9 all.")
            return
        refunds, number, lines, method = (self.pos.session.refunds, self.number,
                                          dict(self.chosen), self.method)
        self.pos.run_io(lambda: refunds.preview(number, lines, method=method),
                        self.show_preview, group="refund-preview")

    def show_preview(self, refund: Refund) -> None:
        cur = refund.currency
        parts = [f"{ln.quantity} × {ln.name}: {format_money(ln.amount, cur)}"
                 for ln in refund.lines]
        if refund.shipping:
            parts.append(f"shipping: {format_money(refund.shipping, cur)}")
        what = "the whole order" if refund.full else "part of the order"
        self.query_one("#refund-preview", Static).update(
            f"Refund {format_money(refund.amount, cur)} (tax {format_money(refund.tax, cur)}) "
            f"by {refund.method.replace('_', ' ')} · {what}\n" + " · ".join(parts))

    # --- doing -------------------------------------------------------------------------------

    def _need_reason(self) -> bool:
        if self.reason:
            return False
        self.pos.show_error(PosError(title="Reason needed", message="Say why the order is "
                                     "refunded.", hint="Type it in the Reason field."))
        self.query_one("#refund-reason", Input).focus()
        return True

    def action_refund(self) -> None:
        from screens.modals import ConfirmModal

        if self.order is None:
            return
        if not self.chosen:
            self.pos.show_error(PosError(title="Nothing to refund",
                                         message="No quantity is chosen.",
                                         hint="+/- on a line, or F9 for everything."))
            return
        if self._need_reason():
            return
        lines, reason, method = dict(self.chosen), self.reason, self.method
        count = sum(lines.values())

        def answered(yes: bool | None) -> None:
            if yes:
                self._run(lambda: self.pos.session.refunds.refund(
                    self.number, lines, reason=reason, method=method))

        self.app.push_screen(ConfirmModal(
            f"Refund {count} item{'s' if count != 1 else ''} of {self.number} "
            f"by {method.replace('_', ' ')}?"), answered)

    def action_void(self) -> None:
        from screens.modals import ConfirmModal, PromptModal

        if self.order is None:
            return

        def confirmed(yes: bool | None, reason: str) -> None:
            if yes:
                self._run(lambda: self.pos.session.refunds.void(self.number, reason=reason))

        def reasoned(reason: str | None) -> None:
            reason = (reason or "").strip()
            if not reason:
                if reason is not None:
                    self.notify("Void cancelled: no reason given.", title="Void")
                return
            self.app.push_screen(
                ConfirmModal(f"Void the whole order {self.number}?"),
                lambda yes: confirmed(yes, reason))

        self.app.push_screen(PromptModal(f"Why is order {self.number} voided?", self.reason),
                             reasoned)

    def _run(self, do: Callable[[], Refund]) -> None:
        session = self.pos.session

        def job() -> RefundDone:
            refund = do()
            return RefundDone(refund, session.receipt_job(refund.number))

        self.pos.run_io(job, self.done)

    def done(self, result: RefundDone) -> None:
        from screens.slip import SlipScreen

        refund = result.refund
        note = f" {refund.note}" if refund.note else ""
        self.notify(f"{refund.number}: {format_money(refund.amount, refund.currency)} by "
                    f"{refund.method}.{note}", title="Refunded")
        self.app.pop_screen()
        self.app.push_screen(SlipScreen(
            result.job, refund.number,
            head=f"Refund {refund.number} · {format_money(refund.amount, refund.currency)} · "
                 f"{'order canceled' if refund.full else 'partial'}"))
