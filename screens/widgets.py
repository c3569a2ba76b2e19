"""Small widgets shared by every screen: the status bar and the base screen with Esc = back."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Static

if TYPE_CHECKING:
    from screens.app import PosApp


def cursor_key(table: DataTable[str]) -> str | None:
    """The key of the row under the table's cursor (None: the table is empty)."""
    if not table.row_count:
        return None
    key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
    return str(key) if key is not None else None


class StatusBar(Static):
    """Profile, online/offline, outbox pending count, lane and cashier (no clock: snapshots)."""

    DEFAULT_CSS = """
    StatusBar { dock: top; height: 1; background: $primary-background; color: $text; }
    """

    def on_mount(self) -> None:
        self.update(cast("PosApp", self.app).status_text)


class PosScreen(Screen[None]):
    """Base of the full screens: the app's services, a status bar, Esc goes back one step."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="back"),
    ]

    @property
    def pos(self) -> PosApp:
        return cast("PosApp", self.app)

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()
