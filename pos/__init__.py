"""pos: a keyboard-driven point of sale for the terminal (the domain; no Textual here)."""

__version__ = "0.1.0"
