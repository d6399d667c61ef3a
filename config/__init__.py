"""Settings of hoering, read once from the environment (prefix HOERING_)."""
