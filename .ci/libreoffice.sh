#!/usr/bin/env bash
# LibreOffice for tests/rendering/test_letters_pdf.py: Debian's libreoffice-writer-nogui (soffice)
# and fonts-liberation (Liberation Sans has Arial's metrics, the letters' font).
#
# Installs with apt-get only what is missing; with both present it does nothing.
# Quiet unless it fails (then the tail of apt-get's output goes to stderr).
set -euo pipefail

log() { echo "[libreoffice] $*" >&2; }

has_liberation_sans() {
  if command -v fc-list >/dev/null 2>&1; then
    fc-list ':family=Liberation Sans' | grep -q .
  else
    dpkg-query -W -f='${Status}' fonts-liberation 2>/dev/null | grep -q 'install ok installed'
  fi
}

missing=()
command -v soffice >/dev/null 2>&1 || missing+=(libreoffice-writer-nogui)
has_liberation_sans || missing+=(fonts-liberation)
[[ ${#missing[@]} -eq 0 ]] && exit 0

bash "$(dirname "${BASH_SOURCE[0]}")/apt-install.sh" libreoffice "${missing[@]}"

if ! command -v soffice >/dev/null 2>&1; then
  log "soffice is still missing after installing ${missing[*]}"
  exit 1
fi
