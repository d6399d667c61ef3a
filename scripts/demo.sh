#!/usr/bin/env bash
# The main job: the whole of hearing 24/750 on the embedded defaults (SQLite, a local
# Prefect server), with simulated dates, exactly as staff would run it by hand.
# Sets up .venv on first use. Data goes to var/demo (recreated each run, except the
# Prefect server's history); letters are listed at the end.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_setup.sh"

export HOERING_DATA_DIR="${HOERING_DATA_DIR:-$ROOT/var/demo}"
unset HOERING_DATABASE_URL
export HOERING_ACTOR="${HOERING_ACTOR:-demo}"
rm -rf "$HOERING_DATA_DIR/hoering.db" "$HOERING_DATA_DIR/hoering.db-wal" \
  "$HOERING_DATA_DIR/hoering.db-shm" "$HOERING_DATA_DIR/letters" "$HOERING_DATA_DIR/blobs" \
  "$HOERING_DATA_DIR/outbox-sent"
SPEC=examples/hearings/24-750-kliniske-studier.yaml
DECISIONS=examples/hearings/24-750-vedtak.yaml

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "Database and reference data"
hoering init
step "IDs the ledger will give (before the hearing)"
for prefix in AMM BLS GER MED LUN NYR KIR NKI URO PED NEV ONC; do
  printf '%s ' "$(hoering ids next "$prefix")"
done
echo
step "20 March 2024: create the hearing from its spec (starts the local Prefect server once)"
hoering hearing create "$SPEC" --as-of 2024-03-20
step "22 March 2024: circulate"
hoering hearing circulate 24/750 --as-of 2024-03-22
if [ -d examples/responses/24-750 ]; then
  step "Responses arrive by e-mail"
  hoering responses import examples/responses/24-750 --as-of 2024-06-03
fi
if hoering reminders --help >/dev/null 2>&1; then
  step "16 and 28 May 2024: reminders to those who have not answered"
  hoering reminders send --as-of 2024-05-16
  hoering reminders send --as-of 2024-05-28
fi
step "1 June 2024: the deadline day has ended; close"
hoering hearing close 24/750 --as-of 2024-06-01
step "10 June 2024: review done"
hoering hearing review-done 24/750 --as-of 2024-06-10
step "16 September 2024: codify the decisions (HJS gets its ID now)"
hoering hearing codify 24/750 "$DECISIONS" --as-of 2024-09-16
step "1 September 2025: the goals take effect"
hoering goals activate --as-of 2025-09-01
step "Status and history"
hoering hearing status 24/750
hoering hearing history 24/750
step "BLS goals on 1 September 2025 (BLS-154 is new)"
hoering goals list --specialty BLS --on 2025-09-01 --json |
  python -c 'import json,sys; g=[x for x in json.load(sys.stdin) if x["id"]=="BLS-154"]; print(g[0]["id"], "-", g[0]["text"][:90], "...")'
step "Letters"
hoering hearing letters 24/750
echo
echo "Letters written to: $HOERING_DATA_DIR/letters/24-750"
