"""Ctrl+Y: end of day. The X report (so far) on screen, F8 refreshes it, F9 prints what is shown;
F10 runs the Z report after a confirmation: it closes the business day (once per lane and day: a
second Z is refused with the reason)."""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Footer, Static

from pos.printing import report_job
from pos.reports import DayReport
from screens.widgets import PosScreen, StatusBar


class EndOfDayScreen(PosScreen):
    CSS_PATH = "endofday.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f8", "x_report", "X report", id="eod.x"),
        Binding("f9", "print", "Print", id="eod.print"),
        Binding("f10", "z_report", "Z report (close day)", id="eod.z"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.report: dict[str, Any] | None = None

    def compose(self) -> ComposeResult:
        yield Static("End of day", id="eod-head")
        with VerticalScroll(id="eod-scroll"):
            yield Static(id="eod-report", markup=False)
        yield Static("F8: X report again · F9: print · F10: Z report (closes the day) · "
                     "Esc: back", id="eod-hint")
        yield StatusBar()
        yield Footer()

    def on_mount(self) -> None:
        self.action_x_report()

    def action_x_report(self) -> None:
        reports = self.pos.session.reports
        self.pos.run_io(reports.x_report, self.show)

    def show(self, report: DayReport) -> None:
        session = self.pos.session
        self.report = report.to_dict()
        width = session.settings.printer.width
        what = ("Z report: the day is closed" if report.kind == "z"
                else "X report: the day so far (nothing is closed)")
        self.query_one("#eod-head", Static).update(
            f"End of day · lane {report.lane} · {report.business_day} · {what}")
        self.query_one("#eod-report", Static).update(
            report_job(self.report, session.settings.shop, width).text(width))

    def action_print(self) -> None:
        from screens.slip import print_to_printer

        if self.report is None:
            return
        session, data = self.pos.session, self.report
        job = report_job(data, session.settings.shop, session.settings.printer.width)
        name = f"{data['kind']}-{data['lane']}-{data['business_day']}"
        self.pos.run_io(lambda: print_to_printer(session, job, name),
                        lambda where: self.notify(where, title=f"{job.title} printed"))

    def action_z_report(self) -> None:
        from screens.modals import ConfirmModal

        reports = self.pos.session.reports

        def answered(yes: bool | None) -> None:
            if yes:
                self.pos.run_io(reports.z_report, self.z_done)

        self.app.push_screen(ConfirmModal(
            f"Z report: close the day for lane {self.pos.session.lane}?"), answered)

    def z_done(self, report: DayReport) -> None:
        self.show(report)
        self.notify(f"Lane {report.lane}, {report.business_day}: the day is closed.",
                    title="Z report")
