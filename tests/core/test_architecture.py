"""Dependencies point one way: nothing in pos/ imports Textual or screens."""

import ast
from pathlib import Path

POS = Path(__file__).resolve().parents[2] / "pos"


def test_pos_never_imports_textual_or_screens() -> None:
    offenders = []
    for path in POS.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                if top == "textual" or (top == "screens" and path.name != "cli.py"):
                    offenders.append(f"{path.relative_to(POS)}: {name}")
    assert offenders == []


def test_importing_pos_cli_does_not_load_textual() -> None:
    import subprocess
    import sys

    code = "import sys, pos.cli, pos.session, pos.checkout; print('textual' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
