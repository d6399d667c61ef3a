#!/usr/bin/env bash
# Install Debian packages for the CI scripts: `bash .ci/apt-install.sh NAME PACKAGE...`.
# As root, or with password-less sudo; quiet unless it fails (then the tail of apt-get's
# output goes to stderr and the exit code is 1). NAME prefixes the log lines.
set -euo pipefail

name="$1"
shift
log() { echo "[$name] $*" >&2; }

SUDO=()
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
  else
    log "not root and no password-less sudo: install $* yourself" \
      "(sudo apt-get install --no-install-recommends $*)"
    exit 1
  fi
fi

output="$(mktemp)"
trap 'rm -f "$output"' EXIT
export DEBIAN_FRONTEND=noninteractive
if ! {
  "${SUDO[@]}" apt-get update -qq &&
    "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "$@"
} >"$output" 2>&1; then
  tail -n 30 "$output" >&2
  log "installing $* with apt-get failed"
  exit 1
fi
