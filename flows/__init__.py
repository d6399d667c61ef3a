"""Orchestration: Prefect flows and the `hoering` command line. Thin by design."""
