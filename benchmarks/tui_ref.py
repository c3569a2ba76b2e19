"""The references of the TUI benchmarks: a minimal Textual app with one DataTable.

Run as a script (`python benchmarks/tui_ref.py`) it is the start-up reference: it signals
`POS_READY_FD` exactly as `PosApp` does (after the first refresh, the table on screen) and
quits on ctrl+q. `ScanRefApp` is the scan reference: an Input and the DataTable, a scan adds the
row or bumps its quantity by row key, synchronously, from an in-memory dict.
"""

from __future__ import annotations

import os
from typing import Any

from textual.app import App, ComposeResult
from textual.widgets import DataTable, Input

COLUMNS = (("name", "Product"), ("options", "Options"), ("qty", "Qty"), ("unit", "Unit"),
           ("total", "Total"))


class RefApp(App[None]):
    """One DataTable; ready (POS_READY_FD) after the first refresh."""

    def compose(self) -> ComposeResult:
        table: DataTable[str] = DataTable(id="lines", cursor_type="row", zebra_stripes=True)
        for key, label in COLUMNS:
            table.add_column(label, key=key)
        yield table

    def on_mount(self) -> None:
        self.call_after_refresh(self.ready)

    def ready(self) -> None:
        fd = os.environ.pop("POS_READY_FD", None)
        if fd is not None:
            os.write(int(fd), b"ready\n")
            os.close(int(fd))


class ScanRefApp(App[None]):
    """An Input and the DataTable: the same scans, no domain behind them."""

    def __init__(self, products: dict[str, tuple[str, str]]) -> None:
        super().__init__()
        self.products = products  # code → (name, price)
        self.qty: dict[str, int] = {}

    def compose(self) -> ComposeResult:
        yield Input(id="scan")
        table: DataTable[str] = DataTable(id="lines", cursor_type="row", zebra_stripes=True)
        for key, label in COLUMNS:
            table.add_column(label, key=key)
        yield table

    def on_input_submitted(self, event: Input.Submitted) -> None:
        code = event.value.strip()
        event.input.value = ""
        name, price = self.products[code]
        table: DataTable[Any] = self.query_one(DataTable)
        qty = self.qty.get(code, 0) + 1
        self.qty[code] = qty
        if qty == 1:
            table.add_row(name, "", "1", price, price, key=code)
        else:
            table.update_cell(code, "qty", str(qty))
            table.update_cell(code, "total", price)


if __name__ == "__main__":
    RefApp().run()
