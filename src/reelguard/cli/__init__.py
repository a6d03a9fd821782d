"""Command-line shell: one module per command group."""
