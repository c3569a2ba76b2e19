"""Paying a sale by payment link (a bitcoin invoice, a Stripe checkout ...), without any UI.

The payment screen and `pos checkout` call these functions; a backend only has to implement
`create_payment_link` / `payment_link_status`.

    link = start_link_payment(checkout, "bitcoin")      # number reserved, invoice created,
                                                        # pending Payment saved in the cart
    show_qr(link.url)
    final = poll_link(checkout, link, on_status=redraw)  # re-reads the link with back-off
    order = finish_link(checkout, final)                 # paid → placed order; else None

A restart while waiting resumes: the pending payment (with the link id as `reference` and its
URL) is saved in the lane's active cart before the QR code is shown, so `resume_link(checkout)`
finds it and the wait goes on. Only the backend's answer to `payment_link_status` (a fresh read
of the remote invoice) ever marks a payment paid — never a callback/IPN on its own.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable

from pos.backends.base import Capability, PaymentLink
from pos.checkout import Checkout
from pos.errors import RuleError, TransientError
from pos.models import Order, PaymentMethod

FIRST_DELAY = 2.0
MAX_DELAY = 15.0


def link_methods(checkout: Checkout) -> list[PaymentMethod]:
    """The payment methods of this sale that are paid through a link (QR code)."""
    if not checkout.backend.supports(Capability.PAYMENT_LINK):
        return []
    return [m for m in checkout.payment_methods() if m.kind == "link"]


def start_link_payment(checkout: Checkout, method_code: str) -> PaymentLink:
    """Reserve the number, create the link, store it as a pending payment; return the link.

    If a link for the same method is already pending (a second press, a restart), that link is
    returned instead of creating another one.
    """
    method = next((m for m in link_methods(checkout) if m.code == method_code), None)
    if method is None:
        offered = ", ".join(m.code for m in link_methods(checkout)) or "none"
        raise RuleError(message=f"{method_code!r} is not a payment link method for this sale.",
                        hint=f"Link methods: {offered}.", field="payment_method")
    existing = resume_link(checkout)
    if existing is not None:
        pending = checkout.pending_payment()
        if pending is not None and pending.method == method_code:
            return existing
        raise RuleError(message=f"Another payment link ({existing.id}) is still waiting.",
                        hint="Wait for it or cancel it first.", field="payment_method")
    remaining = checkout.remaining()
    if remaining <= 0:
        raise RuleError(message="Nothing is left to pay.", field="payment_method")
    order = checkout.draft_order()  # reserves the number durably before any network call
    if order.totals.total != remaining:  # part already paid: the link asks for the rest
        order = order.model_copy(update={
            "totals": order.totals.model_copy(update={"total": remaining})})
    link = checkout.backend.create_payment_link(order, method)
    checkout.add_pending_payment(method.code, link.id, url=link.url, amount=remaining)
    return link


def resume_link(checkout: Checkout) -> PaymentLink | None:
    """The link still waiting in this lane's cart (after a restart), or None."""
    pending = checkout.pending_payment()
    if pending is None:
        return None
    return PaymentLink(id=pending.reference, url=pending.url, status="pending",
                       amount=pending.amount, detail=pending.title)


def check_link(checkout: Checkout, link: PaymentLink) -> PaymentLink:
    """Read the link's status once (a fresh read from the backend)."""
    return checkout.backend.payment_link_status(link)


def poll_link(checkout: Checkout, link: PaymentLink, *,
              sleep: Callable[[float], None] = time.sleep,
              timeout: float = 900.0, clock: Callable[[], float] = time.monotonic,
              first_delay: float = FIRST_DELAY, max_delay: float = MAX_DELAY,
              on_status: Callable[[PaymentLink], bool | None] | None = None) -> PaymentLink:
    """Re-read the link until it is no longer pending or `timeout` seconds passed.

    Back-off: `first_delay`, growing ×1.5 up to `max_delay`. A transient error (network down)
    just waits longer. `on_status` sees every answer; returning True stops the wait (the
    cashier pressed Escape). Returns the last status read; a still-pending link stays stored
    in the cart (resume it later with `resume_link`).
    """
    deadline = clock() + timeout
    delay = first_delay
    current = link
    while True:
        try:
            current = check_link(checkout, link)
        except TransientError:
            current = link
        if current.status != "pending":
            return current
        if on_status is not None and on_status(current):
            return current
        if clock() + delay > deadline:
            return current
        sleep(delay)
        delay = min(max_delay, delay * 1.5)


def finish_link(checkout: Checkout, link: PaymentLink) -> Order | None:
    """Act on a link's final status: paid → mark the payment paid and place the sale (returns
    the order); canceled/failed → drop the pending payment, the sale stays open (None).
    A pending link changes nothing (None)."""
    if link.status == "pending":
        return None
    if link.status == "paid":
        checkout.settle_payment(link.id, paid=True)
        return checkout.place()
    checkout.settle_payment(link.id, paid=False)
    return None


def cancel_link(checkout: Checkout, *, force: bool = False) -> Order | None:
    """The cashier gives up waiting. The link is read once more first: if the customer paid in
    the meantime the sale is placed (returns the order); otherwise the pending payment is
    dropped and the sale stays open for another tender. (Align Commerce has no call to void an
    invoice: an abandoned invoice simply stays unpaid.)

    When the store cannot be reached the read raises `TransientError`; `force=True` (the cashier
    confirmed) drops the pending payment anyway — check the link later by its reference."""
    link = resume_link(checkout)
    if link is None:
        return None
    try:
        current = check_link(checkout, link)
    except TransientError:
        if not force:
            raise
        checkout.settle_payment(link.id, paid=False)
        return None
    if current.status == "paid":
        return finish_link(checkout, current)
    checkout.settle_payment(link.id, paid=False)
    return None


def qr_text(url: str, border: int = 2) -> str:
    """The link as a QR code drawn with half blocks (two modules per character row), for a
    terminal or a Textual `Static`. Dark-on-light: show it with a light background."""
    import segno

    out = io.StringIO()
    segno.make(url, error="m").terminal(out=out, compact=True, border=border)
    return out.getvalue()
