"""The Textual counter: the App and one module (+ one .tcss) per screen."""
