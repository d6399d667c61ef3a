"""Persistence of hoering: SQLModel tables, sessions, the ID ledger, files."""
