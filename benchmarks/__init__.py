"""The project's benchmarks (issue 9): `python -m benchmarks [--quick] [--only NAME,...]`.

Each benchmark measures its reference in the same run and prints one JSON line:
`{"name", "value", "unit", "reference", "ratio", "target", "ok"}`. Data (catalog CSVs, databases)
is generated into a temporary directory and removed at the end. See docs/benchmarks.md.
"""
