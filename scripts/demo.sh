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
  "$HOERING_DATA_DIR/outbox-sent" "$HOERING_DATA_DIR/outbox" "$HOERING_DATA_DIR/publication"
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
step "16 and 28 May 2024: reminders to recipients who have not answered (sent to a folder)"
hoering reminders send --as-of 2024-05-16
hoering reminders send --as-of 2024-05-28
step "1 June 2024: the deadline day has ended; close"
hoering hearing close 24/750 --as-of 2024-06-01
step "3 June 2024: the post room's mailbox is imported (responses, receipts queued; late ones flagged)"
hoering responses import examples/responses/24-750 --as-of 2024-06-03
hoering responses list 24/750
step "5-10 June 2024: review: a stance for every response (the campaign reviewed as one group)"
hoering review campaigns 24/750
hoering review apply 24/750 examples/hearings/24-750-review.yaml
hoering hearing review-done 24/750 --as-of 2024-06-10
step "16 September 2024: codify the decisions (HJS gets its ID now)"
hoering hearing codify 24/750 "$DECISIONS" --as-of 2024-09-16
step "1 September 2025: the goals take effect"
hoering goals activate --as-of 2025-09-01
step "The hearing summary (høringsoppsummering) and the publication export"
hoering hearing summary 24/750 --as-of 2024-09-16
hoering hearing publish 24/750 "$HOERING_DATA_DIR/publication" --as-of 2024-09-16
step "Send the outbox (letters, receipts, orienteringsbrev) to the folder transport"
hoering outbox send --as-of 2024-09-16
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
echo "E-mails sent (folder transport): $HOERING_DATA_DIR/outbox-sent"
echo "Publication export: $HOERING_DATA_DIR/publication"
