"""The login modal: when cashiers exist (`pos cashier add`), the counter opens on it and a name
and PIN must open the till before the cart. Wrong PINs and lockouts are reported by the service."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from pos.cashiers import Cashier
from pos.errors import PosError


class LoginModal(ModalScreen[str]):
    """Returns the name of the cashier whose PIN opened the till; cannot be dismissed otherwise
    (Ctrl+Q still quits)."""

    CSS_PATH = "login.tcss"
    BINDINGS: ClassVar[list[BindingType]] = []

    def __init__(self, names: list[str]) -> None:
        super().__init__()
        self.names = names

    def compose(self) -> ComposeResult:
        with Vertical(id="login"):
            yield Label("Open the till", classes="title")
            yield Input(placeholder="Cashier name", id="login-name")
            yield Input(placeholder="PIN", password=True, id="login-pin")
            yield Label("", id="login-error")
            yield Label("Enter: next / open the till    Ctrl+Q: quit", classes="hint")

    def on_mount(self) -> None:
        name = self.query_one("#login-name", Input)
        if len(self.names) == 1:
            name.value = self.names[0]
            self.query_one("#login-pin", Input).focus()
        else:
            name.focus()

    @on(Input.Submitted, "#login-name")
    def name_done(self) -> None:
        self.query_one("#login-pin", Input).focus()

    @on(Input.Submitted, "#login-pin")
    def pin_done(self) -> None:
        from screens.app import PosApp

        app = self.app
        assert isinstance(app, PosApp)
        name = self.query_one("#login-name", Input).value.strip()
        pin = self.query_one("#login-pin", Input).value
        if not name:
            self.query_one("#login-name", Input).focus()
            return
        session = app.session
        app.run_io(lambda: session.open_till(name, pin), self.opened, failed=self.refused)

    def opened(self, cashier: Cashier) -> None:
        self.dismiss(cashier.name)

    def refused(self, exc: PosError) -> None:
        self.query_one("#login-error", Label).update(exc.message)
        pin = self.query_one("#login-pin", Input)
        pin.value = ""
        pin.focus()
