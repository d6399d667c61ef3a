"""Pure domain rules of hoering: values and rules, no I/O, no Prefect, no database."""
