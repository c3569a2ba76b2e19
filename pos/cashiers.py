"""Cashiers: named people with a PIN that opens the till.

The PIN is never stored: only a random salt and `hashlib.scrypt(pin, salt)`, compared in constant
time. After `MAX_FAILURES` wrong PINs in a row a cashier is locked out for `LOCKOUT_SECONDS`
(counted in the database, so restarting the program does not reset it).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass

from pos.errors import InputError, NotFoundError, RuleError
from pos.store import Ledger
from pos.store.db import transaction
from pos.store.orders import now_iso

MAX_FAILURES = 3
LOCKOUT_SECONDS = 60.0
PIN_PATTERN = re.compile(r"^\d{4,12}$")
NAME_PATTERN = re.compile(r"^[\w][\w .'-]{0,39}$")
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}


@dataclass(frozen=True)
class Cashier:
    name: str
    created_at: str
    active: bool = True


class PinError(RuleError):
    title = "Wrong PIN"


def hash_pin(pin: str, salt: bytes) -> str:
    return hashlib.scrypt(pin.encode("utf-8"), salt=salt, **_SCRYPT).hex()


class Cashiers:
    def __init__(self, ledger: Ledger, *, max_failures: int = MAX_FAILURES,
                 lockout_seconds: float = LOCKOUT_SECONDS) -> None:
        self.ledger = ledger
        self.max_failures = max_failures
        self.lockout_seconds = lockout_seconds

    def add(self, name: str, pin: str) -> Cashier:
        name = name.strip()
        if not NAME_PATTERN.match(name):
            raise InputError(message=f"{name!r} is not a cashier name.",
                             hint="1 to 40 letters, digits, spaces, dots or dashes.")
        if not PIN_PATTERN.match(pin):
            raise InputError(message="A PIN is 4 to 12 digits.")
        salt = secrets.token_bytes(16)
        stamp = now_iso()
        with transaction(self.ledger.db, self.ledger.path) as conn:
            if conn.execute("SELECT 1 FROM cashiers WHERE name = ?", [name]).fetchone():
                raise RuleError(message=f"There is already a cashier named {name}.",
                                field="cashier")
            conn.execute("INSERT INTO cashiers (name, salt, pin_hash, created_at) "
                         "VALUES (?, ?, ?, ?)", [name, salt.hex(), hash_pin(pin, salt), stamp])
        return Cashier(name=name, created_at=stamp)

    def list(self) -> list[Cashier]:
        rows = self.ledger.db.execute(
            "SELECT name, created_at, active FROM cashiers ORDER BY name COLLATE NOCASE")
        return [Cashier(name=r[0], created_at=r[1], active=bool(r[2])) for r in rows]

    def open_till(self, name: str, pin: str, now: float | None = None) -> Cashier:
        """Check a cashier's PIN. Raises `NotFoundError`, `PinError` (wrong, or locked out)."""
        now = time.time() if now is None else now
        row = self.ledger.db.execute(
            "SELECT name, salt, pin_hash, created_at, failures, locked_until, active "
            "FROM cashiers WHERE name = ?", [name.strip()]).fetchone()
        if row is None or not row[6]:
            raise NotFoundError(message=f"There is no cashier named {name.strip()!r}.",
                                hint="`pos cashier add NAME` adds one.")
        real, salt, stored, created, failures, locked_until, _ = row
        if locked_until > now:
            raise PinError(message=f"{real} is locked out for {int(locked_until - now) + 1} s "
                                   "after repeated wrong PINs.", field="pin")
        if hmac.compare_digest(hash_pin(pin, bytes.fromhex(salt)), stored):
            if failures:
                with transaction(self.ledger.db, self.ledger.path) as conn:
                    conn.execute("UPDATE cashiers SET failures = 0, locked_until = 0 "
                                 "WHERE name = ?", [real])
            return Cashier(name=real, created_at=created)
        failures += 1
        lock = failures >= self.max_failures
        with transaction(self.ledger.db, self.ledger.path) as conn:
            conn.execute("UPDATE cashiers SET failures = ?, locked_until = ? WHERE name = ?",
                         [0 if lock else failures, now + self.lockout_seconds if lock else 0,
                          real])
        if lock:
            raise PinError(message=f"Wrong PIN for {real}: locked out for "
                                   f"{int(self.lockout_seconds)} s.", field="pin")
        left = self.max_failures - failures
        raise PinError(message=f"Wrong PIN for {real} ({left} tr{'y' if left == 1 else 'ies'} "
                               "left).", field="pin")
