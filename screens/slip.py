"""A printable text (refund slip, X/Z report) on screen, and printing it from a worker.

The printer is the configured one (`[printer]`); a file printer without a path would write to
standard output, under the TUI's screen, so the counter prints to `DATA_DIR/receipts/` instead.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Footer, Static

from pos.printing import PrintJob, print_job
from pos.session import PosSession
from screens.widgets import PosScreen, StatusBar


def print_to_printer(session: PosSession, job: PrintJob, name: str) -> str:
    """Print `job` (call from a worker); returns where it went."""
    printer = session.settings.printer
    if printer.kind == "file" and not printer.path:
        folder = session.data_dir / "receipts"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.txt"
        path.write_text(job.text(printer.width), encoding="utf-8")
        return str(path)
    return print_job(job, printer)


class SlipScreen(PosScreen):
    """A refund slip (or any print job) with F9 to print it; Esc goes back."""

    CSS_PATH = "slip.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f9", "print", "Print", id="slip.print"),
    ]

    def __init__(self, job: PrintJob, name: str, *, head: str = "") -> None:
        super().__init__()
        self.job, self.slip_name, self.head = job, name, head

    def compose(self) -> ComposeResult:
        yield Static(self.head or self.job.title, id="slip-head")
        with VerticalScroll(id="slip-scroll"):
            yield Static(self.job.text(self.pos.session.settings.printer.width), id="slip",
                         markup=False)
        yield Static("F9: print · Esc: back", id="slip-hint")
        yield StatusBar()
        yield Footer()

    def action_print(self) -> None:
        session, job, name = self.pos.session, self.job, self.slip_name
        self.pos.run_io(lambda: print_to_printer(session, job, name),
                        lambda where: self.notify(where, title=f"{job.title} printed"))
