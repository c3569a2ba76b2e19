"""Wiring: settings + data dir + profile → ledger, catalog, backends, sync engine, checkout.

The single composition root used by the CLI and the TUI (which receives a `PosSession` in its
constructor): no module-level singletons anywhere.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pos.backends import create_backend
from pos.backends.base import Backend, BackendContext, Capability
from pos.checkout import Checkout
from pos.config import Settings, default_data_dir, load_settings
from pos.store import Catalog, Ledger, catalog_path
from pos.sync import SyncEngine

if TYPE_CHECKING:  # imported where used: the counter's start-up needs none of them
    from pos.cash import CashDrawer
    from pos.cashiers import Cashier, Cashiers
    from pos.catalog_refresher import CatalogRefresher
    from pos.printing import PrintJob
    from pos.refunds import RefundService
    from pos.reports import Reports

log = logging.getLogger("pos")


@dataclass
class PosSession:
    settings: Settings
    data_dir: Path
    profile: str
    ledger: Ledger
    catalog: Catalog
    transports: Mapping[str, Any] = field(default_factory=dict)  # tests: profile → emulator
    _backends: dict[str, Backend] = field(default_factory=dict)
    _checkout: Checkout | None = None
    _sync: SyncEngine | None = None
    _background_sync: SyncEngine | None = None
    # instances of their own for the counter's background work, by (role, profile)
    _own_backends: dict[tuple[str, str], Backend] = field(default_factory=dict)
    _cashier: str | None = None  # set by open_till(); else the configured cashier

    @property
    def lane(self) -> str:
        return self.settings.lane

    @property
    def cashier(self) -> str:
        return self._cashier if self._cashier is not None else self.settings.cashier

    # --- counter operations: the services the screens and the CLI call ----------------------

    def open_till(self, name: str, pin: str) -> Cashier:
        """Check the PIN and make this cashier the one recorded on sales, refunds and reports."""
        from pos.cashiers import Cashiers

        cashier = Cashiers(self.ledger).open_till(name, pin)
        self._cashier = cashier.name
        if self._checkout is not None:
            self._checkout.cashier = cashier.name
        return cashier

    @property
    def cashiers(self) -> Cashiers:
        from pos.cashiers import Cashiers

        return Cashiers(self.ledger)

    @property
    def refunds(self) -> RefundService:
        from pos.refunds import RefundService

        return RefundService(self.ledger, self.backend, lane=self.lane, cashier=self.cashier,
                             profile=self.profile, sinks=tuple(self.settings.sinks),
                             tax_classes=self.catalog.tax_classes(), deliver=self.sync.deliver,
                             backend_for=self.backend_for)

    @property
    def cash(self) -> CashDrawer:
        from pos.cash import CashDrawer

        return CashDrawer(self.ledger, lane=self.lane, cashier=self.cashier)

    def receipt_job(self, number: str) -> PrintJob:
        """A receipt (order number) or refund slip (`<order>-R<n>`), ready to print or show."""
        from pos.printing import receipt_job

        return receipt_job(self.ledger, self.refunds, number, self.settings.shop,
                           self.settings.printer.width)

    def print_receipt(self, number: str) -> str:
        """Print (or reprint) on the configured printer; returns where it went."""
        from pos.printing import print_job

        return print_job(self.receipt_job(number), self.settings.printer)

    def print_report(self, report: Mapping[str, Any]) -> str:
        """Print an X/Z report (`DayReport.to_dict()`) on the receipt printer."""
        from pos.printing import print_job, report_job

        return print_job(report_job(report, self.settings.shop, self.settings.printer.width),
                         self.settings.printer)

    @property
    def reports(self) -> Reports:
        from pos.reports import Reports

        table = self.settings.profile_table(self.profile)
        return Reports(self.ledger, lane=self.lane, cashier=self.cashier,
                       currency=str(table.get("currency", "USD")))

    def backend_for(self, profile: str) -> Backend:
        """The backend of a profile, created on first use (so an unused sink costs nothing)."""
        if profile not in self._backends:
            table = self.settings.profile_table(profile)
            if table.get("verify_tls") is False:
                log.warning("profile %s: TLS certificate verification is OFF", profile)
            self._backends[profile] = self.new_backend(profile)
        return self._backends[profile]

    def new_backend(self, profile: str) -> Backend:
        """Another instance of a profile's backend (its own client and connections), for work
        beside the counter's (the background catalog refresh); the caller closes it."""
        catalog = self.catalog if profile == self.profile else None
        context = BackendContext(
            data_dir=self.data_dir, profile=profile, lane=self.lane, cashier=self.cashier,
            tax_classes=catalog.tax_classes if catalog else dict,
            transport=self.transports.get(profile))
        return create_backend(self.settings.profile_table(profile), context)

    def catalog_refresher(self) -> CatalogRefresher | None:
        """The counter's background catalog refresh, when this profile's store has a catalog
        to pull and its `catalog_refresh_minutes` is not 0 (None otherwise): `pos catalog
        sync` in another process, with this session's data dir, profile and config file (in
        this process when the store is a test's in-process emulator)."""
        backend = self.backend
        # a store whose catalog the counter pulls has settings with this key
        # (`pos.backends.http.RemoteCatalogSettings`; the demo store's have none)
        minutes = getattr(backend.settings, "catalog_refresh_minutes", 0)
        if not backend.supports(Capability.CATALOG) or minutes <= 0:
            return None
        from pos.catalog_refresher import (
            CatalogRefresher,
            pull_in_process,
            pull_in_thread,
            sync_command,
        )

        profile = self.profile
        if self.transports.get(profile) is not None:
            pull = pull_in_thread(lambda: self.new_backend(profile), self.catalog.path)
        else:
            env = dict(os.environ)
            if self.settings.source:
                env["POS_CONFIG_FILE"] = self.settings.source
            pull = pull_in_process(sync_command(self.data_dir, profile), env)
        return CatalogRefresher(minutes * 60, self.catalog.path, pull)

    @property
    def backend(self) -> Backend:
        return self.backend_for(self.profile)

    @property
    def sync(self) -> SyncEngine:
        if self._sync is None:
            self._sync = SyncEngine(self.ledger, self.backend_for)
        return self._sync

    @property
    def background_sync(self) -> SyncEngine:
        """The counter's background flush: an engine with its own connection to the ledger and
        its own backends (a store's client and session are never shared with the cashier's
        work), so sending a backlog over a slow or hanging network never holds a scan up. It
        and `sync` exclude each other through the sync lock: a sale delivered while this one
        sends is left queued for it (`SyncEngine.deliver`)."""
        if self._background_sync is None:
            self._background_sync = SyncEngine(
                Ledger(self.data_dir), self.background_backend_for,
                offline_targets=self.sync.offline_targets)
        return self._background_sync

    def _own_backend(self, role: str, profile: str) -> Backend:
        if (role, profile) not in self._own_backends:
            self._own_backends[role, profile] = self.new_backend(profile)
        return self._own_backends[role, profile]

    def background_backend_for(self, profile: str) -> Backend:
        """The background flush's own instance of a profile's backend."""
        return self._own_backend("flush", profile)

    @property
    def pricing_backend(self) -> Backend:
        """The counter's background pricing's own instance of its backend
        (`Checkout.store_quote`: a store's session is never shared between two threads)."""
        return self._own_backend("pricing", self.profile)

    @property
    def checkout(self) -> Checkout:
        """The counter's checkout: its cart is this lane's active cart, saved on every change."""
        if self._checkout is None:
            self._checkout = self.new_checkout(persist=True)
        return self._checkout

    def new_checkout(self, persist: bool) -> Checkout:
        table = self.settings.profile_table(self.profile)
        return Checkout(
            self.ledger, self.catalog, self.backend, self.sync, lane=self.lane,
            cashier=self.cashier, profile=self.profile, sinks=tuple(self.settings.sinks),
            currency=str(table.get("currency", "USD")), persist=persist)

    @staticmethod
    def warm_up() -> None:
        """Load what the first change of a sale needs and the counter's start did not:
        pydantic and the adapters that save a cart, read a product's options and tax classes
        and write an order (≈ 0.1 s; the counter calls it in the background once the cart is
        on screen, so the first scan does not wait for it)."""
        from pos.model_base import warm_up
        from pos.models import Cart, Order, ProductOption, TaxClass

        warm_up(Cart, ProductOption, TaxClass, Order)

    def close(self) -> None:
        for backend in {*self._backends.values(), *self._own_backends.values()}:
            backend.close()
        if self._background_sync is not None:
            self._background_sync.ledger.close()
        self.catalog.close()
        self.ledger.close()


def open_session(data_dir: Path | None = None, profile: str | None = None,
                 settings: Settings | None = None,
                 transports: Mapping[str, Any] | None = None) -> PosSession:
    settings = settings or load_settings()
    data_dir = data_dir or default_data_dir()
    profile = profile or settings.default_profile
    settings.profile_table(profile)  # unknown profile → ConfigError now, not mid-sale
    ledger = Ledger(data_dir)
    catalog = Catalog(catalog_path(data_dir, profile))
    session = PosSession(settings=settings, data_dir=data_dir, profile=profile, ledger=ledger,
                         catalog=catalog, transports=dict(transports or {}))
    session.backend  # noqa: B018 - built now: a bad profile fails here; the demo store seeds
    return session
