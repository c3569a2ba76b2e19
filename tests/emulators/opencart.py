"""An in-process OpenCart 3.0.4.1 session API (reference: opencart3-session-api.md), quirks
included: JSON bodies ignored, token only in the query, two permission-error shapes, leaked PHP
warnings, HTML 404, `[]` answers, string numbers, formatted money (UK tax before an address),
methods cleared by cart changes, session state surviving order/add, non-idempotent order/add.

    emu = make_emulator()
    client = httpx.Client(transport=httpx.MockTransport(emu.handle))
"""

from __future__ import annotations

import html
import json
import re
import secrets
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import parse_qsl

import httpx

D = Decimal
PERM = "Warning: You do not have permission to access the API!"
OBJECT_PERM = {"cart/add", "cart/products", "customer", "voucher/add", "payment/address",
               "shipping/address"}
RATES = {"USD": D("1"), "EUR": D("0.7846"), "GBP": D("0.6125")}
STOCK_MSG = "Products marked with *** are not available in the desired quantity or not in stock!"
ZONES = {223: [(3655, "NY", "New York"), (3624, "CA", "California")],
         222: [(3553, "GLD", "Greater London")], 81: [(1256, "BER", "Berlin")]}
NOT_FOUND_PAGE = ("<!DOCTYPE html><html><head><title>The page you requested cannot be found!"
                  "</title></head><body>" + "<div>" * 50 + "</body></html>")


def php_form(body: bytes) -> dict[str, Any]:
    """Parse a urlencoded body like PHP: `a[b][]=1` → {"a": {"b": ["1"]}}; values escaped."""
    out: dict[str, Any] = {}
    for key, value in parse_qsl(body.decode(), keep_blank_values=True):
        value = html.escape(value, quote=True).replace("&#x27;", "'")
        parts = re.findall(r"^[^\[]+|\[([^\]]*)\]", key)
        head = key.split("[", 1)[0]
        path = [head, *parts[1:]]
        node: Any = out
        for i, part in enumerate(path):
            last = i == len(path) - 1
            if isinstance(node, list):
                if last:
                    node.append(value)
                else:
                    node.append({})
                    node = node[-1]
                continue
            if last:
                node[part] = value
            else:
                nxt = path[i + 1]
                if part not in node or not isinstance(node[part], dict | list):
                    node[part] = [] if nxt == "" else {}
                node = node[part]
    return out


def money(amount: Decimal, code: str) -> str:
    value = (amount * RATES[code]).quantize(D("0.01"), ROUND_HALF_UP)
    sign = "-" if value < 0 else ""
    digits = f"{abs(value):,.2f}"
    return {"USD": f"${sign}{digits}", "GBP": f"£{sign}{digits}", "EUR": f"{sign}{digits}€"}[code]


def warning(key: str, route: str) -> str:
    return (f'<br />\n<b>Warning</b>:  Undefined array key "{key}" in <b>/var/www/html/catalog/'
            f'controller/api/{route}.php</b> on line <b>13</b><br />\n')


@dataclass
class User:
    key: str
    status: bool = True
    ips: tuple[str, ...] = ("127.0.0.1",)


def _products() -> dict[int, dict[str, Any]]:
    def p(name: str, price: str, **kw: Any) -> dict[str, Any]:
        return {"name": name, "model": kw.pop("model", "Product"), "price": D(price),
                "special": None, "tax_class_id": 9, "points": 0, "reward": 0, "shipping": True,
                "minimum": 1, "quantity": 100, "options": {}, **kw}
    return {
        40: p("iPhone", "101.00", model="product 11"),
        28: p("HTC Touch HD", "100.00", points=200, reward=400, model="Product 1"),
        30: p("Canon EOS 5D", "100.00", special=D("80.00"), options={
            226: {"name": "Select", "required": True,
                  "values": {15: ("Red", D("0"), 100), 16: ("Blue", D("0"), 100)}}}),
        35: p("Product 8", "100.00", shipping=False, options={
            224: {"name": "Size", "required": True, "values": {
                12: ("Small", D("0"), 0), 13: ("Medium", D("0"), 100),
                14: ("Large", D("0"), 100)}}}),
        42: p("Apple Cinema 30&quot;", "100.00", special=D("90.00"), minimum=2, options={
            oid: {"name": name, "required": True, "values": {}}
            for oid, name in ((208, "Text"), (209, "Textarea"), (217, "Select"), (218, "Radio"),
                              (219, "Date"), (220, "Date &amp; Time"), (221, "Time"),
                              (223, "Checkbox"))}),
        49: p("Samsung Galaxy Tab 10.1", "199.99", quantity=0),
    }


@dataclass
class OpenCartEmulator:
    client_ip: str = "127.0.0.1"
    users: dict[str, User] = field(default_factory=lambda: {
        "Default": User("test-key"), "NoIp": User("noip-key", ips=()),
        "Disabled": User("off-key", status=False)})
    products: dict[int, dict[str, Any]] = field(default_factory=_products)
    customers: dict[int, dict[str, Any]] = field(default_factory=lambda: {
        1: {"firstname": "Jane", "lastname": "Doe", "points": 1000, "credit": D("0")},
        2: {"firstname": "John", "lastname": "Smith", "points": 0, "credit": D("25.00")}})
    vouchers: dict[str, Decimal] = field(default_factory=lambda: {
        "GIFT10": D("10"), "GIFT50": D("50"), "GIFT200": D("200")})
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    orders: dict[int, dict[str, str]] = field(default_factory=dict)
    next_order_id: int = 1
    calls: list[str] = field(default_factory=list)
    next_cart_id: int = 1

    # --- test hooks ----------------------------------------------------------------------------

    def expire_tokens(self) -> None:
        """Every live token is deleted (the 1-hour api_session clean-up)."""
        self.sessions.clear()

    def expire_session_data(self) -> None:
        """Tokens stay, their session data is gone (PHP's 24-minute gc): `api_id` missing."""
        for token in self.sessions:
            self.sessions[token] = {"customer_id": 0, "carts": {}, "currency": "USD"}

    # --- HTTP --------------------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        request.read()
        query = dict(request.url.params)
        route = query.get("route", "").replace("%2F", "/")
        self.calls.append(route)
        ctype = request.headers.get("Content-Type", "")
        post = php_form(request.content) if "x-www-form-urlencoded" in ctype else {}
        if route == "checkout/checkout/country":
            cid = int(query.get("country_id", "0") or 0)
            if cid not in ZONES:
                return self._json([])
            return self._json({"country_id": str(cid), "name": "", "status": "1", "zone": [
                {"zone_id": str(z), "country_id": str(cid), "name": n, "code": c, "status": "1"}
                for z, c, n in ZONES[cid]]})
        if not route.startswith("api/"):
            return self._not_found()
        name = route[4:]
        if name == "login":
            return self._json(self._login(post))
        handler = getattr(self, "r_" + name.replace("/", "_"), None)
        if handler is None:
            return self._not_found()
        if name == "cart/add" and "option" in post and not isinstance(post["option"], dict):
            return httpx.Response(200, headers={"Content-Type": "text/html; charset=UTF-8"},
                                  text="<br />\n<b>Fatal error</b>:  Uncaught TypeError: "
                                       "array_filter(): Argument #1 must be of type array")
        s = self._session(query.get("api_token", ""))
        if s is None:
            if name == "shipping/address":
                return self._json([])  # the permission check sits in the "needs shipping" branch
            return self._json({"error": {"warning": PERM}} if name in OBJECT_PERM
                              else {"error": PERM})
        result = handler(s, post, query)
        if isinstance(result, tuple):
            prefix, body = result
            return httpx.Response(200, headers={"Content-Type": "application/json"},
                                  content=(prefix + json.dumps(body)).encode())
        return self._json(result)

    def _json(self, body: Any) -> httpx.Response:
        return httpx.Response(200, headers={"Content-Type": "application/json",
                                            "Set-Cookie": "currency=USD; path=/"},
                              content=json.dumps(body).encode())

    def _not_found(self) -> httpx.Response:
        return httpx.Response(404, headers={"Content-Type": "text/html; charset=utf-8"},
                              text=NOT_FOUND_PAGE)

    def _login(self, post: dict[str, Any]) -> Any:
        user = self.users.get(post.get("username", "Default"))
        if user is None or not user.status or post.get("key") != user.key:
            return []
        if self.client_ip not in user.ips:
            return {"error": {"ip": f"Warning: Your IP {self.client_ip} is not allowed to "
                                    "access this API!", "key": "Warning: Incorrect API Key!"}}
        token = secrets.token_hex(13)
        self.sessions[token] = {"api_id": user.key, "customer_id": 0, "carts": {},
                                "currency": "USD"}
        return {"success": "Success: API session successfully started!", "api_token": token}

    def _session(self, token: str) -> dict[str, Any] | None:
        """The session of a token that is live, of an enabled user, from an allowed IP."""
        s = self.sessions.get(token) if token else None
        if s is None or "api_id" not in s:
            return None
        user = next((u for u in self.users.values() if u.key == s["api_id"]), None)
        if user is None or not user.status or self.client_ip not in user.ips:
            return None
        return s

    # --- cart model --------------------------------------------------------------------------

    def _cart(self, s: dict[str, Any]) -> list[dict[str, Any]]:
        carts: dict[int, list[dict[str, Any]]] = s["carts"]
        return carts.setdefault(s["customer_id"], [])

    def _needs_shipping(self, s: dict[str, Any]) -> bool:
        return any(self.products[r["product_id"]]["shipping"] for r in self._cart(s))

    def _clear(self, s: dict[str, Any], *what: str) -> None:
        for key in what:
            s.pop(key, None)

    def _unit(self, row: dict[str, Any]) -> Decimal:
        p = self.products[row["product_id"]]
        price: Decimal = p["special"] if p["special"] is not None else p["price"]
        for oid, vid in row["option"].items():
            values = p["options"].get(int(oid), {}).get("values", {})
            if str(vid).isdigit() and int(vid) in values:
                price += values[int(vid)][1]
        return price

    def _taxed(self, s: dict[str, Any]) -> bool:
        addr = s.get("shipping_address")
        return addr is None or addr["country_id"] in ("222",)

    def _tax(self, s: dict[str, Any], row: dict[str, Any]) -> tuple[Decimal, Decimal]:
        """(VAT, eco) per unit."""
        if not self._taxed(s) or self.products[row["product_id"]]["tax_class_id"] != 9:
            return D("0"), D("0")
        return (self._unit(row) * D("0.2")).quantize(D("0.01"), ROUND_HALF_UP), D("2.00")

    def _totals(self, s: dict[str, Any]) -> list[tuple[str, Decimal, str]]:
        rows = self._cart(s)
        sub = sum((self._unit(r) * r["quantity"] for r in rows), D("0"))
        sub += sum((v["amount"] for v in s.get("sold", [])), D("0"))
        out: list[tuple[str, Decimal, str]] = [("Sub-Total", sub, "sub_total")]
        total = sub
        points = s.get("reward", 0)
        if points:
            pmax = sum(self.products[r["product_id"]]["points"] * r["quantity"] for r in rows)
            disc = sum((self._unit(r) * r["quantity"] * D(points) / D(pmax)
                        for r in rows if self.products[r["product_id"]]["points"]), D("0"))
            out.append((f"Reward Points ({points})", -disc.quantize(D("0.01")), "reward"))
            total -= disc.quantize(D("0.01"))
        method = s.get("shipping_method")
        if method:
            cost = D("0") if s.get("coupon") == "3333" else method["cost"]
            out.append((method["title"], cost, "shipping"))
            total += cost
        coupon = s.get("coupon")
        if coupon in ("1111", "2222"):
            disc = D("10.00") if coupon == "1111" else (sub * D("0.1")).quantize(D("0.01"))
            out.append((f"Coupon ({coupon})", -disc, "coupon"))
            total -= disc
        vat = sum((self._tax(s, r)[0] * r["quantity"] for r in rows), D("0"))
        eco = sum((self._tax(s, r)[1] * r["quantity"] for r in rows), D("0"))
        if eco:
            out.append(("Eco Tax (-2.00)", eco, "tax"))
        if vat:
            out.append(("VAT (20%)", vat, "tax"))
        total += vat + eco
        credit = self.customers.get(s["customer_id"], {}).get("credit", D("0"))
        if credit and total > 0:
            used = min(credit, total)
            out.append(("Store Credit", -used, "credit"))
            total -= used
        code = s.get("voucher")
        if code and total > 0:
            used = min(self.vouchers[code], total)
            out.append((f"Gift Certificate ({code})", -used, "voucher"))
            total -= used
        out.append(("Total", total, "total"))
        return out

    def _grand(self, s: dict[str, Any]) -> Decimal:
        return self._totals(s)[-1][1]

    def _problems(self, s: dict[str, Any]) -> tuple[bool, list[str]]:
        rows = self._cart(s)
        stock_ok = True
        for r in rows:
            if not self._line_stock(r):
                stock_ok = False
        per: dict[int, int] = {}
        for r in rows:
            per[r["product_id"]] = per.get(r["product_id"], 0) + r["quantity"]
        minimum = [f"Minimum order amount for {self.products[pid]['name']} is "
                   f"{self.products[pid]['minimum']}!"
                   for pid, q in per.items() if q < self.products[pid]["minimum"]]
        return stock_ok, minimum

    def _line_stock(self, r: dict[str, Any]) -> bool:
        p = self.products[r["product_id"]]
        if r["quantity"] > p["quantity"]:
            return False
        for oid, vid in r["option"].items():
            values = p["options"].get(int(oid), {}).get("values", {})
            if str(vid).isdigit() and int(vid) in values and values[int(vid)][2] < r["quantity"]:
                return False
        return True

    # --- routes ------------------------------------------------------------------------------

    def r_currency(self, s: dict[str, Any], post: dict[str, Any], q: Any) -> Any:
        if "currency" not in post:
            return warning("currency", "currency"), {"error": "Warning: Currency code is invalid!"}
        if post["currency"] not in RATES:
            return {"error": "Warning: Currency code is invalid!"}
        s["currency"] = post["currency"]
        self._clear(s, "shipping_method", "shipping_methods")
        return {"success": "Success: Your currency has been changed!"}

    def r_customer(self, s: dict[str, Any], post: dict[str, Any], q: Any) -> Any:
        cid = int(post.get("customer_id") or 0)
        if cid and cid not in self.customers:
            return {"error": {"warning": "You must select a customer!"}}
        errors = {}
        for f, lo, hi in (("firstname", 1, 32), ("lastname", 1, 32), ("telephone", 3, 32)):
            if not lo <= len(post.get(f, "").strip()) <= hi:
                errors[f] = f"{f.title()} must be between {lo} and {hi} characters!"
        if "@" not in post.get("email", ""):
            errors["email"] = "E-Mail Address does not appear to be valid!"
        if errors:
            return {"error": errors}
        if cid:
            s["customer_id"] = cid  # sticks: a later guest call does not log out
        s["customer"] = {k: post.get(k, "") for k in ("firstname", "lastname", "email",
                                                      "telephone")}
        return {"success": "You have successfully modified customers"}

    def r_cart_add(self, s: dict[str, Any], post: dict[str, Any], q: Any) -> Any:
        if "product" in post:
            rows = []
            for item in (post["product"].values() if isinstance(post["product"], dict) else []):
                pid = int(item.get("product_id", 0) or 0)
                qty = int(item.get("quantity", 0) or 0)
                if pid in self.products and qty > 0:
                    rows.append(self._row(pid, qty, item.get("option", {})))
            s["carts"][s["customer_id"]] = rows
        elif "product_id" in post:
            pid = int(post["product_id"] or 0)
            p = self.products.get(pid)
            if p is None:
                return {"error": {"store": "Product can not be bought from the store you have "
                                           "choosen!"}}
            option = post.get("option", {})
            missing = {str(oid): f"{o['name']} required!" for oid, o in p["options"].items()
                       if o["required"] and not option.get(str(oid))}
            if missing:
                return {"error": {"option": missing}}
            try:
                qty = int(D(post.get("quantity", "1") or "0"))
            except ArithmeticError:
                qty = 0
            for r in self._cart(s):
                if r["product_id"] == pid and r["option"] == option:
                    r["quantity"] += qty
                    break
            else:
                if qty:
                    self._cart(s).append(self._row(pid, qty, option))
        else:
            return []
        self._clear(s, "shipping_method", "shipping_methods", "payment_method",
                    "payment_methods")
        return {"success": "Success: You have modified your shopping cart!"}

    def r_cart_edit(self, s: dict[str, Any], post: dict[str, Any], q: Any) -> Any:
        prefix = "".join(warning(k, "cart") for k in ("key", "quantity") if k not in post)
        qty = int(post.get("quantity") or 0)
        rows = self._cart(s)
        for r in list(rows):
            if str(r["cart_id"]) == post.get("key"):
                if qty > 0:
                    r["quantity"] = qty
                else:
                    rows.remove(r)
        self._clear(s, "shipping_method", "shipping_methods", "payment_method",
                    "payment_methods", "reward")
        body = {"success": "Success: You have modified your shopping cart!"}
        return (prefix, body) if prefix else body

    def r_cart_remove(self, s: dict[str, Any], post: dict[str, Any], q: Any) -> Any:
        if "key" not in post:
            return []
        rows = self._cart(s)
        rows[:] = [r for r in rows if str(r["cart_id"]) != post["key"]]
        s["sold"] = [v for v in s.get("sold", []) if v["code"] != post["key"]]
        self._clear(s, "shipping_method", "shipping_methods", "payment_method",
                    "payment_methods", "reward")
        return {"success": "Success: You have modified your shopping cart!"}

    def _row(self, pid: int, qty: int, option: dict[str, Any]) -> dict[str, Any]:
        self.next_cart_id += 1
        return {"cart_id": self.next_cart_id, "product_id": pid, "quantity": qty,
                "option": dict(option)}

    def r_cart_products(self, s: dict[str, Any], post: dict[str, Any], q: Any) -> Any:
        cur = s["currency"]
        products = []
        for r in self._cart(s):
            p = self.products[r["product_id"]]
            vat, eco = self._tax(s, r)
            unit = self._unit(r) + vat + eco
            options = []
            for oid, vid in r["option"].items():
                vals = p["options"].get(int(oid), {}).get("values", {})
                options.append({"product_option_id": str(oid),
                                "product_option_value_id": str(vid) if vals else "",
                                "name": p["options"].get(int(oid), {}).get("name", ""),
                                "value": vals[int(vid)][0] if str(vid).isdigit()
                                and int(vid) in vals else vid, "type": "select"})
            products.append({"cart_id": str(r["cart_id"]), "product_id": str(r["product_id"]),
                             "name": p["name"], "model": p["model"], "option": options,
                             "quantity": str(r["quantity"]), "stock": self._line_stock(r),
                             "shipping": "1" if p["shipping"] else "0",
                             "price": money(unit, cur), "total": money(unit * r["quantity"], cur),
                             "reward": p["reward"] * r["quantity"]})
        body: dict[str, Any] = {}
        stock_ok, minimum = self._problems(s)
        error: dict[str, Any] = {}
        if not stock_ok:
            error["stock"] = STOCK_MSG
        if minimum:
            error["minimum"] = minimum
        if error:
            body["error"] = error
        body["products"] = products
        body["vouchers"] = [{"code": v["code"], "description": v["description"],
                             "price": money(v["amount"], cur), "amount": int(v["amount"])}
                            for v in s.get("sold", [])]
        body["totals"] = [{"title": t, "text": money(a, cur)} for t, a, _ in self._totals(s)]
        return body

    def r_voucher_add(self, s: dict[str, Any], post: dict[str, Any], q: Any) -> Any:
        errors = {}
        for f in ("from_name", "to_name"):
            if not 1 <= len(post.get(f, "")) <= 64:
                errors[f] = "Name must be between 1 and 64 characters!"
        for f in ("from_email", "to_email"):
            if "@" not in post.get(f, ""):
                errors[f] = "E-Mail Address does not appear to be valid!"
        amount = D(post.get("amount") or "0")
        if not D("1") <= amount <= D("1000"):
            errors["amount"] = "Amount must be between $1.00 and $1,000.00!"
        if errors:
            return {"error": errors}
        s.setdefault("sold", []).append({"code": str(secrets.randbelow(10**9)),
                                         "description": f"{money(amount, 'USD')} Gift Certificate",
                                         "amount": amount})
        self._clear(s, "shipping_method", "shipping_methods", "payment_method",
                    "payment_methods")
        return {"success": "Success: You have modified your shopping cart!"}

    def r_coupon(self, s: dict[str, Any], post: dict[str, Any], q: Any) -> Any:
        s.pop("coupon", None)
        if post.get("coupon") not in ("1111", "2222", "3333"):
            return {"error": "Warning: Coupon is either invalid, expired or reached it's usage "
                             "limit!"}
        s["coupon"] = post["coupon"]
        return {"success": "Success: Your coupon discount has been applied!"}

    def r_voucher(self, s: dict[str, Any], post: dict[str, Any], q: Any) -> Any:
        s.pop("voucher", None)
        code = post.get("voucher", "").upper()
        if self.vouchers.get(code, D("0")) <= 0:
            return {"error": "Warning: Gift Voucher is either invalid or the balance has been "
                             "used up!"}
        s["voucher"] = code
        return {"success": "Success: Your gift voucher discount has been applied!"}

    def r_reward_maximum(self, s: dict[str, Any], post: dict[str, Any], q: Any) -> Any:
        return {"maximum": sum(self.products[r["product_id"]]["points"] * r["quantity"]
                               for r in self._cart(s))}

    def r_reward_available(self, s: dict[str, Any], post: dict[str, Any], q: Any) -> Any:
        points = self.customers.get(s["customer_id"], {}).get("points", 0)
        return {"points": str(points) if points else None}

    def r_reward(self, s: dict[str, Any], post: dict[str, Any], q: Any) -> Any:
        s.pop("reward", None)
        prefix = "" if "reward" in post else warning("reward", "reward") * 2
        points = int(post.get("reward") or 0)
        have = self.customers.get(s["customer_id"], {}).get("points", 0)
        pmax = self.r_reward_maximum(s, post, q)["maximum"]
        error = ""
        if not points:
            error = "Warning: Please enter the amount of reward points to use!"
        if points > have:
            error = f"Warning: You don't have {points} reward points!"
        if points > pmax:
            error = f"Warning: The maximum number of points that can be applied is {pmax}!"
        if error:
            return prefix, {"error": error}
        s["reward"] = points
        return {"success": "Success: Your reward points discount has been applied!"}

    def _address(self, post: dict[str, Any], city_max: int) -> dict[str, str]:
        errors = {}
        for f, lo, hi in (("firstname", 1, 32), ("lastname", 1, 32), ("address_1", 3, 128),
                          ("city", 2, city_max)):
            if not lo <= len(post.get(f, "").strip()) <= hi:
                errors[f] = f"{f} must be between {lo} and {hi} characters!"
        if post.get("country_id") in ("222", "81") and not 2 <= len(post.get("postcode", "")) <= 10:
            errors["postcode"] = "Postcode must be between 2 and 10 characters!"
        if not post.get("country_id"):
            errors["country"] = "Please select a country!"
        if not post.get("zone_id"):
            errors["zone"] = "Please select a region / state!"
        return errors

    def r_shipping_address(self, s: dict[str, Any], post: dict[str, Any], q: Any) -> Any:
        self._clear(s, "shipping_address", "shipping_method", "shipping_methods")
        if not self._needs_shipping(s):
            return []
        errors = self._address(post, 128)
        if errors:
            return {"error": errors}
        s["shipping_address"] = dict(post)
        return {"success": "Success: Shipping address has been set!"}

    def r_shipping_methods(self, s: dict[str, Any], post: dict[str, Any], q: Any) -> Any:
        s.pop("shipping_method", None)
        if not self._needs_shipping(s):
            return {"shipping_methods": []}
        addr = s.get("shipping_address")
        if addr is None:
            return {"error": "Warning: Shipping address required!"}
        if addr["country_id"] not in ("222", "223"):
            s["shipping_methods"] = {}
            return {"shipping_methods": [], "error": "Warning: No Shipping options are available!"}
        cur = s["currency"]
        methods = {
            "flat": {"title": "Flat Rate", "quote": {"flat": {
                "code": "flat.flat", "title": "Flat Shipping Rate", "cost": "5.00",
                "tax_class_id": "0", "text": money(D("5"), cur)}}, "sort_order": "1",
                "error": False},
            "pickup": {"title": "Pickup From Store", "quote": {"pickup": {
                "code": "pickup.pickup", "title": "Pickup From Store", "cost": 0,
                "tax_class_id": 0, "text": money(D("0"), cur)}}, "sort_order": "2",
                "error": False}}
        s["shipping_methods"] = methods
        return {"shipping_methods": methods}

    def r_shipping_method(self, s: dict[str, Any], post: dict[str, Any], q: Any) -> Any:
        if not self._needs_shipping(s):
            return []
        methods = s.get("shipping_methods")
        if not methods:
            return {"error": "Warning: No Shipping options are available!"}
        ext, _, key = post.get("shipping_method", "").partition(".")
        quote = methods.get(ext, {}).get("quote", {}).get(key)
        if quote is None:
            return {"error": "Warning: Shipping method required!"}
        s["shipping_method"] = {"code": quote["code"], "title": quote["title"],
                                "cost": D(str(quote["cost"]))}
        return {"success": "Success: Shipping method has been set!"}

    def r_payment_address(self, s: dict[str, Any], post: dict[str, Any], q: Any) -> Any:
        self._clear(s, "payment_address", "payment_method", "payment_methods")
        errors = self._address(post, 32)
        if errors:
            return {"error": errors}
        s["payment_address"] = dict(post)
        return {"success": "Success: Payment address has been set!"}

    def r_payment_methods(self, s: dict[str, Any], post: dict[str, Any], q: Any) -> Any:
        s.pop("payment_method", None)
        if "payment_address" not in s:
            return {"error": "Warning: Payment address required!"}
        total = self._grand(s)
        methods = {"bank_transfer": {"code": "bank_transfer", "title": "Bank Transfer",
                                     "terms": "", "sort_order": "3"}}
        if self._needs_shipping(s) and total >= D("0.01"):
            methods["cod"] = {"code": "cod", "title": "Cash On Delivery", "terms": "",
                              "sort_order": "5"}
        if total <= 0:
            methods["free_checkout"] = {"code": "free_checkout", "title": "Free Checkout",
                                        "terms": "", "sort_order": "1"}
        s["payment_methods"] = methods
        return {"payment_methods": methods}

    def r_payment_method(self, s: dict[str, Any], post: dict[str, Any], q: Any) -> Any:
        if not s.get("payment_methods"):
            return {"error": "Warning: No Payment options are available!"}
        if post.get("payment_method") not in s["payment_methods"]:
            return {"error": "Warning: Payment method required!"}
        s["payment_method"] = post["payment_method"]
        return {"success": "Success: Payment method has been set!"}

    def r_order_add(self, s: dict[str, Any], post: dict[str, Any], q: Any) -> Any:
        if post.get("payment_method") in (s.get("payment_methods") or {}):
            s["payment_method"] = post["payment_method"]
        if post.get("shipping_method") and s.get("shipping_methods"):
            self.r_shipping_method(s, {"shipping_method": post["shipping_method"]}, q)
        error = ""
        if "customer" not in s:
            error = "Warning: Customer details needs to be set!"
        if "payment_address" not in s:
            error = "Warning: Payment address required!"
        if not s.get("payment_methods"):
            error = "Warning: No Payment options are available!"
        elif not s.get("payment_method"):
            error = "Warning: Payment method required!"
        if self._needs_shipping(s):
            if "shipping_address" not in s:
                error = "Warning: Shipping address required!"
            elif not s.get("shipping_methods"):
                error = "Warning: No Shipping options are available!"
            elif not s.get("shipping_method"):
                error = "Warning: Shipping method required!"
        else:
            self._clear(s, "shipping_address", "shipping_method", "shipping_methods")
        stock_ok, minimum = self._problems(s)
        if (not self._cart(s) and not s.get("sold")) or not stock_ok:
            error = "Warning: " + STOCK_MSG
        if minimum:
            error = "Warning: " + minimum[-1]
        if error:
            return {"error": error}
        order_id = self.next_order_id
        self.next_order_id += 1
        totals = self._totals(s)
        cust = s["customer"]
        self.orders[order_id] = {
            "order_id": str(order_id), "store_id": "0", "customer_id": str(s["customer_id"]),
            **cust, "comment": post.get("comment", ""), "total": f"{totals[-1][1]:.4f}",
            "order_status_id": post.get("order_status_id", "1"),
            "order_status": {"1": "Pending", "2": "Processing", "5": "Complete"}.get(
                post.get("order_status_id", "1"), ""),
            "payment_code": s["payment_method"],
            "shipping_code": (s.get("shipping_method") or {}).get("code", ""),
            "currency_code": s["currency"], "currency_value": str(RATES[s["currency"]]),
            "date_added": "2026-11-23 12:00:00", "products": json.dumps(
                [[r["product_id"], r["quantity"]] for r in self._cart(s)])}
        for r in self._cart(s):
            self.products[r["product_id"]]["quantity"] -= r["quantity"]
        for title, amount, code in totals:
            if code == "voucher":
                vcode = title.split("(")[1].rstrip(")")
                self.vouchers[vcode] += amount
        if s.get("reward") and s["customer_id"] in self.customers:
            self.customers[s["customer_id"]]["points"] -= s["reward"]
        s["carts"][s["customer_id"]] = []  # only the cart is emptied
        return {"success": "Success: You have modified orders!", "order_id": order_id}

    def _order(self, q: dict[str, str]) -> int | None:
        oid = q.get("order_id", "")
        return int(oid) if oid.isdigit() and int(oid) in self.orders else None

    def r_order_info(self, s: dict[str, Any], post: dict[str, Any], q: dict[str, str]) -> Any:
        oid = self._order(q)
        if oid is None:
            return {"error": "Warning: Order could not be found!"}
        row = {k: v for k, v in self.orders[oid].items() if k != "products"}
        return {"order": row, "success": "Success: You have modified orders!"}

    def r_order_history(self, s: dict[str, Any], post: dict[str, Any], q: dict[str, str]) -> Any:
        oid = self._order(q)
        if oid is None:
            return {"error": "Warning: Order could not be found!"}
        status = post.get("order_status_id", "0") or "0"
        self.orders[oid]["order_status_id"] = status
        self.orders[oid]["order_status"] = {"1": "Pending", "2": "Processing", "5": "Complete",
                                            "7": "Canceled"}.get(status)  # type: ignore[assignment]
        return {"success": "Success: You have modified orders!"}

    def r_order_delete(self, s: dict[str, Any], post: dict[str, Any], q: dict[str, str]) -> Any:
        oid = self._order(q)
        if oid is None:
            return {"error": "Warning: Order could not be found!"}
        del self.orders[oid]
        return {"success": "Success: You have modified orders!"}


def make_emulator() -> OpenCartEmulator:
    return OpenCartEmulator()
