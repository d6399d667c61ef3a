#!/usr/bin/env bash
# The whole test suite: lint, the import contract (lint-imports, under a second), the type
# check (mypy), then pytest (unit, storage on SQLite and PostgreSQL, flows, integration).
# Sets up .venv on first use.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_setup.sh"
ruff check .
ruff format --check .
lint-imports --no-logo
mypy
exec python -m pytest "$@"
