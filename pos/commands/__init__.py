"""Subcommands of `pos` that grew beyond a few lines, one module per group."""
