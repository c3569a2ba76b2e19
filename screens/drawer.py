"""Ctrl+O: the cash drawer of this lane today: opening float, cash in/out, the count.

Type an amount (and, for cash in/out, a reason), then F8 opens the drawer with it as the float,
F9 puts cash in, F10 takes cash out, F11 records the count. The summary shows what the drawer
should hold (float + cash sales − cash refunds + in − out), what was counted and the difference.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import DataTable, Footer, Input, Static

from pos.cash import CashMovement, CashSummary
from pos.money import ZERO, format_money
from screens.widgets import PosScreen, StatusBar

KINDS = {"float": "Opening float", "in": "Cash in", "out": "Cash out", "count": "Count"}


@dataclass(frozen=True)
class DrawerState:
    summary: CashSummary
    movements: list[CashMovement]


class DrawerScreen(PosScreen):
    CSS_PATH = "drawer.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f8", "move('float')", "Open (float)", id="drawer.open"),
        Binding("f9", "move('in')", "Cash in", id="drawer.in"),
        Binding("f10", "move('out')", "Cash out", id="drawer.out"),
        Binding("f11", "move('count')", "Count", id="drawer.count"),
    ]

    def compose(self) -> ComposeResult:
        yield Static("Cash drawer", id="drawer-head")
        with Horizontal(id="drawer-body"):
            yield Static(id="drawer-summary")
            table: DataTable[str] = DataTable(id="drawer-moves", cursor_type="row")
            table.add_columns("Time", "What", "Amount", "Reason", "Cashier")
            yield table
        with Horizontal(id="drawer-form"):
            yield Input(placeholder="Amount", id="drawer-amount")
            yield Input(placeholder="Reason (cash in/out)", id="drawer-reason")
        yield Static("Amount, then F8: open with float · F9: cash in · F10: cash out · "
                     "F11: count · Esc: back", id="drawer-hint")
        yield StatusBar()
        yield Footer()

    @property
    def currency(self) -> str:
        return self.pos.checkout.currency

    def on_mount(self) -> None:
        self.query_one("#drawer-amount", Input).focus()
        self.load()

    def load(self) -> None:
        cash = self.pos.session.cash
        self.pos.run_io(lambda: DrawerState(cash.summary(), cash.movements()), self.show)

    def show(self, state: DrawerState) -> None:
        s, cur = state.summary, self.currency

        def money(value: Decimal | None) -> str:
            return "-" if value is None else format_money(value, cur)

        rows: list[tuple[str, str]] = [
                ("Opening float", money(s.opening_float)), ("Cash sales", money(s.cash_sales)),
                ("Cash refunds", money(-s.cash_refunds)), ("Cash in", money(s.cash_in)),
                ("Cash out", money(-s.cash_out)), ("", ""), ("Expected", money(s.expected)),
                ("Counted", money(s.counted)), ("Difference", money(s.difference))]
        text = "\n".join(f"{k:<14}{v:>14}" if k else "─" * 28 for k, v in rows)
        if s.difference is not None and s.difference != 0:
            text += "\n[red]cash missing[/]" if s.difference < 0 else "\n[yellow]cash over[/]"
        self.query_one("#drawer-head", Static).update(
            f"Cash drawer · lane {s.lane} · {s.business_day}")
        self.query_one("#drawer-summary", Static).update(text)
        table: DataTable[str] = self.query_one("#drawer-moves", DataTable)
        table.clear()
        for m in state.movements:
            table.add_row(m.at[11:16], KINDS.get(m.kind, m.kind), money(m.amount), m.reason,
                          m.cashier)

    def action_move(self, kind: str) -> None:
        amount = self.query_one("#drawer-amount", Input).value.strip()
        reason = self.query_one("#drawer-reason", Input).value.strip()
        if not amount:
            self.notify("Type the amount first.", title=KINDS[kind], severity="warning")
            self.query_one("#drawer-amount", Input).focus()
            return
        cash = self.pos.session.cash

        def job() -> DrawerState:
            if kind == "float":
                cash.open(amount)
            elif kind == "in":
                cash.cash_in(amount, reason)
            elif kind == "out":
                cash.cash_out(amount, reason)
            else:
                cash.count(amount)
            return DrawerState(cash.summary(), cash.movements())

        def done(state: DrawerState) -> None:
            self.query_one("#drawer-amount", Input).value = ""
            self.query_one("#drawer-reason", Input).value = ""
            self.query_one("#drawer-amount", Input).focus()
            self.show(state)
            message = (f"{KINDS[kind]}: {format_money(state.summary.expected, self.currency)}"
                       " expected in the drawer")
            if kind == "count" and state.summary.difference is not None:
                message = (f"Counted {format_money(state.summary.counted or ZERO, self.currency)}"
                           f", difference {format_money(state.summary.difference, self.currency)}")
            self.notify(message, title=KINDS[kind])

        self.pos.run_io(job, done)
