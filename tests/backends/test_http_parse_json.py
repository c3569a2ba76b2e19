"""`pos.backends.http.parse_json`: UTF-8 answers parsed from their bytes, every other answer the
text way, as before (declared charset, bytes that are not UTF-8, leaked text, not JSON)."""

from __future__ import annotations

import httpx
import pytest

from pos.backends.http import parse_json
from pos.errors import PermanentError


def answer(body: bytes, ctype: str = "application/json") -> httpx.Response:
    return httpx.Response(200, headers={"Content-Type": ctype}, content=body,
                          request=httpx.Request("GET", "https://shop.test/api?token=SECRET"))


@pytest.mark.parametrize("ctype", ["application/json", "application/json; charset=UTF-8",
                                   "application/json;charset=utf8", "text/plain"])
def test_utf8_answers(ctype: str) -> None:
    assert parse_json(answer('{"name": "Crème brûlée"}'.encode(), ctype), "shop") == {
        "name": "Crème brûlée"}


def test_a_declared_charset_is_honoured() -> None:
    body = '{"name": "Crème"}'.encode("latin-1")
    assert parse_json(answer(body, "application/json; charset=iso-8859-1"), "shop") == {
        "name": "Crème"}


def test_bytes_that_are_not_utf8_are_decoded_as_before() -> None:
    # no charset: UTF-8 with replacement characters, as `response.text` does
    assert parse_json(answer(b'{"name": "Cr\xe8me"}'), "shop") == {"name": "Cr\ufffdme"}


def test_leaked_text_and_garbage() -> None:
    leaked = b'<b>Warning</b>: PHP notice\n{"ok": true}'
    assert parse_json(answer(leaked, "text/html"), "shop", lenient=True) == {"ok": True}
    with pytest.raises(PermanentError) as caught:
        parse_json(answer(leaked, "text/html"), "shop")
    assert "HTML" in caught.value.message and "SECRET" not in caught.value.message
    with pytest.raises(PermanentError, match="empty answer"):
        parse_json(answer(b""), "shop")
