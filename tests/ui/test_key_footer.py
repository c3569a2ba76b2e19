"""The cart's one-widget footer: the keys the Footer would show, a click presses one."""

from __future__ import annotations

from screens.app import PosApp
from screens.help import HelpScreen
from screens.key_footer import KeyFooter
from tests.ui.conftest import settle


async def test_footer_lists_the_shown_keys_and_a_click_presses_one(app: PosApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        footer = app.cart_screen.query_one(KeyFooter)
        keys = [span.key for span in footer.spans]
        assert keys[:4] == ["f8", "f9", "f10", "f11"]  # the cart's own keys first
        assert "up" not in keys  # show=False bindings stay hidden
        assert keys[-1] == "ctrl+p"  # the command palette's, on the right
        assert footer.spans[-1].end == 119
        help_key = next(span for span in footer.spans if span.key == "f1")
        await pilot.hover(KeyFooter, offset=(help_key.start + 1, 0))
        assert footer.hovered == "f1"
        await pilot.click(KeyFooter, offset=(help_key.start + 1, 0))
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)


async def test_footer_follows_a_remapped_key(session: object) -> None:
    from pos.session import PosSession

    assert isinstance(session, PosSession)
    session.settings = session.settings.model_copy(update={"keys": {"help": "ctrl+g"}})
    app = PosApp(session, sync_interval=0)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        keys = [key for key, *_ in app.cart_screen.query_one(KeyFooter).shown_keys()[0]]
        assert "f1" not in keys
        assert "ctrl+g" in keys
