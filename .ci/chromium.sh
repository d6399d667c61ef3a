#!/usr/bin/env bash
# Chromium for tests/web/test_web_browser.py (the review desk in a real browser): Debian's
# chromium, driven by Playwright with executable_path; no browser download
# (never `playwright install`). Installs with apt-get only when missing; quiet unless it fails.
set -euo pipefail

log() { echo "[chromium] $*" >&2; }

command -v chromium >/dev/null 2>&1 && exit 0

SUDO=()
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
  else
    log "not root and no password-less sudo: install chromium yourself (sudo apt-get install chromium)"
    exit 1
  fi
fi

output="$(mktemp)"
trap 'rm -f "$output"' EXIT
export DEBIAN_FRONTEND=noninteractive
if ! {
  "${SUDO[@]}" apt-get update -qq &&
    "${SUDO[@]}" apt-get install -y -qq --no-install-recommends chromium
} >"$output" 2>&1; then
  tail -n 30 "$output" >&2
  log "installing chromium with apt-get failed"
  exit 1
fi

if ! command -v chromium >/dev/null 2>&1; then
  log "chromium is still missing after installing it"
  exit 1
fi
