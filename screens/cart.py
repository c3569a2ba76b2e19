"""The home screen: scan or search into the cart, see the lines and the totals.

The scan path is kept short: Enter → one thread worker (`checkout.scan` semantics) → the table is
patched by row key (add_row / update_cell / remove_row), never rebuilt.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar, cast

from rich.table import Table
from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Input, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from pos.backends.base import Capability
from pos.cart_rules import parse_scan
from pos.models import CartLine, Product
from pos.money import format_money
from screens.key_footer import KeyFooter
from screens.widgets import StatusBar, cursor_key

if TYPE_CHECKING:
    from screens.app import PosApp

COLUMNS = (("name", "Product"), ("options", "Options"), ("qty", "Qty"), ("unit", "Unit"),
           ("total", "Total"))
SEARCH_DELAY = 0.15


class ScanInput(Input):
    """The cart input: `+`/`-` on an empty input change the selected line's quantity."""

    async def _on_key(self, event: events.Key) -> None:
        if not self.value and event.character in ("+", "-"):
            event.stop()
            event.prevent_default()
            screen = cast("CartScreen", self.screen)
            screen.action_step(1 if event.character == "+" else -1)
            return
        await super()._on_key(event)


class CartScreen(Screen[None]):
    # styled by cart.tcss, which PosApp loads with its own CSS (see PosApp.CSS_PATH)
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "move(-1)", "Up", id="cart.up", show=False),
        Binding("down", "move(1)", "Down", id="cart.down", show=False),
        Binding("f8", "delete_line", "Delete line", id="cart.delete"),
        Binding("f9", "quantity", "Quantity", id="cart.quantity"),
        Binding("ctrl+t", "price", "Price", id="cart.price", show=False),
        Binding("f10", "void", "Void cart", id="cart.void"),
        Binding("f11", "review", "Review", id="cart.review"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, tuple[str, ...]] = {}
        self.hits: list[Product] = []
        self.hit_chosen = False
        self._search_timer: Timer | None = None
        self._customer_text: str | None = None

    @property
    def pos(self) -> PosApp:
        return cast("PosApp", self.app)

    def compose(self) -> ComposeResult:
        with Horizontal(id="cart-main"):
            with Vertical(id="cart-left"):
                yield ScanInput(placeholder="Scan a barcode, type a code (3*CODE) or a name",
                                id="scan", select_on_focus=False)
                yield Static(id="cart-customer")
                table: DataTable[str] = DataTable(id="lines", cursor_type="row", zebra_stripes=True)
                for key, label in COLUMNS:
                    table.add_column(label, key=key)
                yield table
            yield Static(id="totals")
        yield StatusBar()
        yield KeyFooter()

    def on_mount(self) -> None:
        self.refresh_cart()
        self.scan_input.focus()
        self.call_after_refresh(self.pos.cart_ready)  # painted, input focused: usable

    def on_screen_resume(self) -> None:
        self.refresh_cart()

    @property
    def scan_input(self) -> Input:
        return self.query_one("#scan", Input)

    def hit_list(self) -> OptionList | None:
        """The search results, mounted under the input by the first search (None before).

        Hidden until a search finds something, so the cart's first paint goes without it.
        """
        found = self.query("#hits")
        return found.first(OptionList) if found else None

    @property
    def table(self) -> DataTable[str]:
        return cast("DataTable[str]", self.query_one("#lines", DataTable))

    # --- showing the cart --------------------------------------------------------------------

    def refresh_cart(self) -> None:
        """Patch the table to the checkout's cart by row key, then the totals."""
        checkout = self.pos.checkout
        cart, quote, cur = checkout.cart, checkout.quote, checkout.currency
        table = self.table
        wanted: dict[str, tuple[str, ...]] = {}
        for line in cart.lines:
            priced = quote.line(line.key)
            total = priced.total if priced else line.unit_price * line.quantity
            wanted[line.key] = (line.name, line.options_label, str(line.quantity),
                                format_money(line.unit_price, cur), format_money(total, cur))
        for sold in cart.sold_vouchers:
            wanted["v:" + sold.key] = (f"Gift voucher for {sold.to_name}", "", "1",
                                       format_money(sold.amount, cur),
                                       format_money(sold.amount, cur))
        for key in [k for k in self.rows if k not in wanted]:
            table.remove_row(key)
            del self.rows[key]
        touched: str | None = None  # the line just scanned (new, or one more of it)
        for key, cells in wanted.items():
            old = self.rows.get(key)
            if old is None:
                table.add_row(*cells, key=key)
                touched = key
            elif old != cells:
                for (column, _), new, was in zip(COLUMNS, cells, old, strict=True):
                    if new != was:
                        table.update_cell(key, column, new, update_width=True)
                if old[2] != cells[2]:
                    touched = key
            self.rows[key] = cells
        if touched is not None:  # selected: +, -, F8, F9 act on it
            table.move_cursor(row=table.get_row_index(touched), animate=False)
        self._show_totals()
        who = cart.customer.name if cart.customer else "Guest"
        extra = f"  · parked as {cart.label}" if cart.label else ""
        customer = f"Customer: {who}{extra}"
        if customer != self._customer_text:  # an update re-lays the screen out: only on change
            self._customer_text = customer
            self.query_one("#cart-customer", Static).update(customer)

    def _show_totals(self) -> None:
        checkout = self.pos.checkout
        totals, cur = checkout.quote.totals, checkout.currency
        grid = Table.grid(expand=True)
        grid.add_column()
        grid.add_column(justify="right")
        rows = [("Subtotal", totals.subtotal), ("Discounts", -totals.discount),
                ("Tax", totals.tax), ("Shipping", totals.shipping)]
        if totals.vouchers:
            rows.append(("Vouchers", -totals.vouchers))
        if totals.store_credit:
            rows.append(("Store credit", -totals.store_credit))
        for title, amount in rows:
            grid.add_row(title, format_money(amount, cur))
        grid.add_row("", "")
        grid.add_row(Text("TOTAL", style="bold"), Text(format_money(totals.total, cur),
                                                       style="bold"))
        if totals.tax_included:
            grid.add_row(Text("incl. tax", style="dim"),
                         Text(format_money(totals.tax_included, cur), style="dim"))
        grid.add_row("Items", str(checkout.cart.item_count))
        if (checkout.cart.lines and not checkout.quote.remote
                and checkout.backend.supports(Capability.REMOTE_PRICING)):
            # scans are priced from the catalog; the store's own figures come after a pause
            # (a cart with its discounts: `screens.store_pricing`) or at review
            asking = checkout.awaiting_store is checkout.cart
            grid.add_row(Text("Estimate", style="dim italic"),
                         Text("asking the store…" if asking else "store's at F12",
                              style="dim italic"))
        self.query_one("#totals", Static).update(grid)

    def after_change(self, _: object = None) -> None:
        self.refresh_cart()
        self.scan_input.focus()
        self.pos.store_pricing.ask_soon()

    # --- scanning and searching --------------------------------------------------------------

    @on(Input.Submitted, "#scan")
    def submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        hits = self.hit_list()
        highlighted = hits.highlighted if hits is not None else None
        chosen = self.hit_chosen and highlighted is not None and highlighted < len(self.hits)
        product = self.hits[highlighted] if chosen and highlighted is not None else None
        self.scan_input.value = ""
        self._hide_hits()
        if product is not None:
            quantity = parse_scan(text)[0]
            self.add(product, quantity)
        elif text:
            self.scan(text)

    def scan(self, text: str) -> None:
        checkout = self.pos.checkout

        def job() -> Product | None:
            quantity, code = parse_scan(text)
            product = checkout.find_typed(code)
            if product.required_options:
                return product
            checkout.add_product(product, quantity)
            return None

        def done(product: Product | None) -> None:
            if product is not None:
                self.choose_options(product, parse_scan(text)[0])
            else:
                self.after_change()

        self.pos.run_io(job, done, group="cart")

    def add(self, product: Product, quantity: int = 1) -> None:
        if product.required_options:
            self.choose_options(product, quantity)
            return
        checkout = self.pos.checkout
        self.pos.run_io(lambda: checkout.add_product(product, quantity), self.after_change,
                        group="cart")

    def choose_options(self, product: Product, quantity: int) -> None:
        from screens.modals import OptionsModal

        def chosen(options: dict[str, str] | None) -> None:
            if options is None:
                self.scan_input.focus()
                return
            checkout = self.pos.checkout
            self.pos.run_io(lambda: checkout.add_product(product, quantity, options),
                            self.after_change, group="cart")

        self.app.push_screen(OptionsModal(product), chosen)

    @on(Input.Changed, "#scan")
    def changed(self, event: Input.Changed) -> None:
        if self._search_timer is not None:
            self._search_timer.stop()
        text = parse_scan(event.value)[1]
        if len(text) < 2:
            self._hide_hits()
            return
        self._search_timer = self.set_timer(SEARCH_DELAY, lambda: self.search(text))

    @work(thread=True, exclusive=True, group="search", exit_on_error=False)
    def search(self, text: str) -> None:
        hits = self.pos.checkout.search(text, 20)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show_hits, text, hits)

    def _show_hits(self, text: str, hits: list[Product]) -> None:
        if parse_scan(self.scan_input.value)[1] != text:
            return  # a stale answer: the cashier has typed on
        self.hits = hits
        self.hit_chosen = False
        option_list = self.hit_list()
        if option_list is None:
            if not hits:
                return
            option_list = OptionList(id="hits")
            self.query_one("#cart-left").mount(option_list, after=self.scan_input)
        option_list.clear_options()
        cur = self.pos.checkout.currency
        option_list.add_options([Option(f"{p.name}  [dim]{p.sku or p.id}[/]  "
                                        f"{format_money(p.price, cur)}", id=p.id) for p in hits])
        option_list.set_class(bool(hits), "visible")
        if hits:
            option_list.highlighted = 0

    def _hide_hits(self) -> None:
        self.hits = []
        self.hit_chosen = False
        hits = self.hit_list()
        if hits is not None:
            hits.remove_class("visible")

    @on(OptionList.OptionSelected, "#hits")
    def hit_selected(self, event: OptionList.OptionSelected) -> None:
        product = self.hits[event.option_index]
        self.scan_input.value = ""
        self._hide_hits()
        self.add(product)

    def on_key(self, event: events.Key) -> None:
        """A scan lands in the cart input whichever widget has the focus."""
        if self.scan_input.has_focus or not event.is_printable or not event.character:
            return
        if self.focused is self.table and event.character in "+-":
            self.action_step(1 if event.character == "+" else -1)
        else:
            self.scan_input.focus()
            self.scan_input.insert_text_at_cursor(event.character)
        event.stop()

    # --- line actions ------------------------------------------------------------------------

    def action_move(self, step: int) -> None:
        hits = self.hit_list()
        if self.hits and hits is not None and hits.has_class("visible"):
            self.hit_chosen = True
            hits.highlighted = max(0, min(len(self.hits) - 1, (hits.highlighted or 0) + step))
            return
        table = self.table
        if table.row_count:
            table.move_cursor(row=max(0, min(table.row_count - 1, table.cursor_row + step)))

    def selected_key(self) -> str | None:
        """The selected cart line's key (None: no line, or a sold gift voucher's row)."""
        key = cursor_key(self.table)
        return key if key and not key.startswith("v:") else None

    def selected_line(self, *, say: bool = True) -> CartLine | None:
        """The selected cart line; None when no line is selected (said to the cashier, with
        `say`)."""
        key = self.selected_key()
        line = self.pos.checkout.cart.line(key) if key else None
        if line is None and say:
            self.notify("Select a line first (up/down).", title="Nothing selected")
        return line

    def action_step(self, step: int) -> None:
        line = self.selected_line(say=False)
        if line is None:
            return
        checkout = self.pos.checkout
        self.pos.run_io(lambda: checkout.set_quantity(line.key, line.quantity + step),
                        self.after_change, group="cart")

    def action_delete_line(self) -> None:
        key = self.selected_key()
        if key is None:
            self.notify("Select a line first (up/down).", title="Nothing selected")
            return
        checkout = self.pos.checkout
        self.pos.run_io(lambda: checkout.remove(key), self.after_change, group="cart")

    def ask(self, question: str, value: str, then: Callable[[str], object]) -> None:
        """A question in a prompt: `then(answer)`, unless the cashier cancels (Esc: back to the
        input)."""
        from screens.modals import PromptModal

        def answered(answer: str | None) -> None:
            if answer is None:
                self.scan_input.focus()
            else:
                then(answer)

        self.app.push_screen(PromptModal(question, value), answered)

    def action_quantity(self) -> None:
        line = self.selected_line()
        if line is None:
            return
        checkout = self.pos.checkout
        self.ask(f"Quantity of {line.name}", str(line.quantity), lambda quantity: self.pos.run_io(
            lambda: checkout.set_quantity(line.key, quantity), self.after_change, group="cart"))

    def action_price(self) -> None:
        """Change the selected line's unit price (damaged box, price match): the new price, then
        the reason, which the receipt prints under the line."""
        line = self.selected_line()
        if line is None:
            return
        checkout = self.pos.checkout

        def override(price: str, reason: str) -> None:
            self.pos.run_io(lambda: checkout.override_price(line.key, price, reason),
                            self.after_change, group="cart")

        self.ask(f"New unit price of {line.name} "
                 f"(now {format_money(line.unit_price, checkout.currency)})",
                 str(line.unit_price), lambda price: self.ask(
                     f"Why is the price of {line.name} changed? (printed on the receipt)", "",
                     lambda reason: override(price, reason)))

    def action_void(self) -> None:
        from screens.modals import ConfirmModal

        if self.pos.checkout.cart.empty:
            self.scan_input.focus()
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                checkout = self.pos.checkout
                self.pos.run_io(checkout.void, self.after_change, group="cart")
            else:
                self.scan_input.focus()

        self.app.push_screen(ConfirmModal("Void this cart? Every line is thrown away."),
                             confirmed)

    def action_review(self) -> None:
        self.app.push_screen(self.pos.make_screen("review"))
