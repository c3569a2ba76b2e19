"""Modal dialogs with typed results: confirm (bool), prompt (str | None), options (dict | None)."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from pos.models import Product


class ConfirmModal(ModalScreen[bool]):
    CSS_PATH = "modals.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y,enter", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.question, classes="title")
            yield Label("[b]y[/]/Enter: yes    [b]n[/]/Esc: no", classes="hint")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class PromptModal(ModalScreen[str | None]):
    CSS_PATH = "modals.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="prompt.cancel"),
    ]

    def __init__(self, question: str, value: str = "") -> None:
        super().__init__()
        self.question, self.value = question, value

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.question, classes="title")
            yield Input(self.value, id="prompt")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class OptionsModal(ModalScreen[dict[str, str] | None]):
    """Ask for a product's required options one after the other; returns option id → value."""

    CSS_PATH = "modals.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="options.cancel"),
    ]

    def __init__(self, product: Product) -> None:
        super().__init__()
        self.product = product
        self.chosen: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.product.name, classes="title")
            for option in self.product.required_options:
                yield Label(option.name)
                if option.values:
                    yield OptionList(*[
                        Option(v.name + ("  (out of stock)" if v.stock is not None and v.stock <= 0
                                         else ""), id=v.id)
                        for v in option.values], id=f"opt-{option.id}")
                else:
                    yield Input(placeholder=option.name, id=f"opt-{option.id}")
            yield Label("Enter chooses, Esc cancels", classes="hint")

    def on_mount(self) -> None:
        self.focus_next()

    def _record(self, widget_id: str | None, value: str) -> None:
        if not widget_id:
            return
        self.chosen[widget_id.removeprefix("opt-")] = value
        if all(o.id in self.chosen for o in self.product.required_options):
            self.dismiss(dict(self.chosen))
        else:
            self.focus_next()

    @on(OptionList.OptionSelected)
    def option_selected(self, event: OptionList.OptionSelected) -> None:
        self._record(event.option_list.id, event.option.id or "")

    @on(Input.Submitted)
    def text_submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self._record(event.input.id, event.value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)
