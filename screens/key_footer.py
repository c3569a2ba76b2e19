"""The cart's footer drawn as one widget: the keys Textual's `Footer` shows, at a fraction of the cost.

Textual's `Footer` is a container with a widget per key (18 on the cart), each styled, mounted
and rendered on its own and all rebuilt on every change of focus: about 5 % of the counter's
start-up. `KeyFooter` draws the same line from the screen's active bindings (keys in the
footer's colours, disabled ones dimmed, the command palette's key on the right) and presses a
key when it is clicked, as the Footer does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.console import RenderableType
from rich.style import Style
from rich.text import Text
from textual import events
from textual.screen import Screen
from textual.widget import Widget


@dataclass(frozen=True)
class KeySpan:
    """Where one key is drawn (columns `start` to `end`, end excluded) and what it presses."""

    start: int
    end: int
    key: str
    enabled: bool


class KeyFooter(Widget, can_focus=False):
    """One line of keys at the bottom of a screen; a click on a key presses it."""

    ALLOW_SELECT = False
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "key-footer--key", "key-footer--description", "key-footer--hover", "key-footer--border"}
    DEFAULT_CSS = """
    KeyFooter {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
        & > .key-footer--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        & > .key-footer--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
        & > .key-footer--hover {
            background: $block-hover-background;
        }
        & > .key-footer--border {
            color: $foreground 20%;
        }
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.spans: list[KeySpan] = []
        self.hovered: str | None = None  # the key under the mouse

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        if screen is self.screen:
            self.refresh()

    def shown_keys(self) -> tuple[list[tuple[str, str, str, bool]], tuple[str, str, str, bool] | None]:
        """(key, shown key, description, enabled) of each shown binding, one per action, in
        the screen's order; and the command palette's key, drawn apart on the right."""
        app = self.app
        active = self.screen.active_bindings
        keys: list[tuple[str, str, str, bool]] = []
        actions: set[str] = set()
        for _node, binding, enabled, _tooltip in active.values():
            if binding.show and binding.action not in actions:
                actions.add(binding.action)
                keys.append((binding.key, app.get_key_display(binding), binding.description,
                             enabled))
        palette = None
        if app.ENABLE_COMMAND_PALETTE and app.COMMAND_PALETTE_BINDING in active:
            _node, binding, enabled, _tooltip = active[app.COMMAND_PALETTE_BINDING]
            palette = (binding.key, app.get_key_display(binding), binding.description, enabled)
        return keys, palette

    def _key_text(self, key: tuple[str, str, str, bool], *, compact: bool = False) -> Text:
        """` key description ` (compact: `key description`, as the Footer draws the palette's)."""
        pressed, shown, description, enabled = key
        key_style = self.get_component_rich_style("key-footer--key")
        description_style = self.get_component_rich_style("key-footer--description")
        if pressed == self.hovered:
            hover = Style(bgcolor=self.get_component_rich_style("key-footer--hover").bgcolor)
            key_style, description_style = key_style + hover, description_style + hover
        if compact:
            parts = (shown, f" {description}" if description else "")
        else:
            parts = (f" {shown} ", f"{description} " if description else "")
        text = Text.assemble((parts[0], key_style), (parts[1], description_style))
        if not enabled:
            text.stylize(Style(dim=True))
        return text

    def render(self) -> RenderableType:
        width = self.size.width
        keys, palette = self.shown_keys()
        line = Text(no_wrap=True, overflow="crop", end="")
        spans: list[KeySpan] = []
        for key in keys:
            text = self._key_text(key)
            spans.append(KeySpan(len(line), len(line) + len(text), key[0], key[3]))
            line.append_text(text)
        if palette is not None:
            border = Text("▏", style=self.get_component_rich_style("key-footer--border"))
            right = Text.assemble(border, self._key_text(palette, compact=True), " ")
            start = max(0, width - len(right))
            line.truncate(start, pad=True)
            spans = [s for s in spans if s.start < start]
            spans.append(KeySpan(start + 1, width - 1, palette[0], palette[3]))
            line.append_text(right)
        self.spans = spans
        return line

    def _span_at(self, x: int) -> KeySpan | None:
        return next((s for s in self.spans if s.start <= x < s.end), None)

    def on_mouse_move(self, event: events.MouseMove) -> None:
        span = self._span_at(event.x)
        hovered = span.key if span else None
        if hovered != self.hovered:
            self.hovered = hovered
            self.refresh()

    def on_leave(self, _: events.Leave) -> None:
        if self.hovered is not None:
            self.hovered = None
            self.refresh()

    def on_mouse_down(self, event: events.MouseDown) -> None:
        span = self._span_at(event.x)
        if span is None:
            return
        if span.enabled:
            self.app.simulate_key(span.key)
        else:
            self.app.bell()
