#!/usr/bin/env bash
# Chromium for tests/web/test_web_browser.py (the review desk in a real browser): Debian's
# chromium, driven by Playwright with executable_path; no browser download
# (never `playwright install`). Installs with apt-get only when missing; quiet unless it fails.
set -euo pipefail

log() { echo "[chromium] $*" >&2; }

command -v chromium >/dev/null 2>&1 && exit 0

bash "$(dirname "${BASH_SOURCE[0]}")/apt-install.sh" chromium chromium

if ! command -v chromium >/dev/null 2>&1; then
  log "chromium is still missing after installing it"
  exit 1
fi
