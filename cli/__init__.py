"""The `hoering` command line (Typer): parse, call a service or a flow, print."""
