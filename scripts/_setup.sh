# Sourced by the other scripts: make sure .venv exists with hoering installed.
# Re-installs only when pyproject.toml changed since the last install.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv"

pick_python() {
  for candidate in "${HOERING_PYTHON:-}" python3.13 python3.12 python3.11 python3; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  echo "hoering: error: Python 3.11 or newer is needed; install it or set HOERING_PYTHON" >&2
  return 2
}

if [ ! -x "$VENV/bin/python" ]; then
  PY="$(pick_python)"
  echo "Setting up $VENV with $("$PY" --version) ..." >&2
  "$PY" -m venv "$VENV"
fi

STAMP="$VENV/.hoering-installed"
WANT="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$WANT" ]; then
  echo "Installing hoering and its dependencies into .venv (log: .venv/install.log) ..." >&2
  if ! { "$VENV/bin/python" -m pip install --upgrade pip &&
    "$VENV/bin/python" -m pip install -e ".[dev]"; } >"$VENV/install.log" 2>&1; then
    tail -n 30 "$VENV/install.log" >&2
    echo "hoering: error: installing dependencies failed; see .venv/install.log" >&2
    exit 2
  fi
  echo "$WANT" >"$STAMP"
fi
export PATH="$VENV/bin:$PATH"
