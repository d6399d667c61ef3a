"""Application services: one module per capability, called by flows and the CLI."""
