#!/usr/bin/env bash
# The main job: hearing 24/750 from spec to goals in effect, day by day, on the embedded
# defaults (SQLite, the folder mail transport), exactly as staff run it with the CLI.
#
#   bash scripts/demo.sh                # starts the Prefect server if needed, stops it after
#   bash scripts/demo.sh --keep-server  # leaves the server running to look at the runs in its UI
#
# A server that was already running before the demo is left running. The demo's data
# goes to var/demo (recreated on each run, except the Prefect server's history); the
# full output of every command goes to var/demo/demo.log.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_setup.sh"

KEEP_SERVER=false
[ "${1:-}" = "--keep-server" ] && KEEP_SERVER=true
export HOERING_DATA_DIR="${HOERING_DATA_DIR:-$ROOT/var/demo}"
unset HOERING_DATABASE_URL PREFECT_API_URL
export HOERING_ACTOR="${HOERING_ACTOR:-demo}" HOERING_MAIL_TRANSPORT=folder
DATA="$HOERING_DATA_DIR"
rm -rf "$DATA/hoering.db" "$DATA/hoering.db-wal" "$DATA/hoering.db-shm" "$DATA/letters" \
  "$DATA/blobs" "$DATA/outbox-sent" "$DATA/outbox" "$DATA/publication" "$DATA/mailbox" \
  "$DATA/imports" "$DATA/demo.log"
mkdir -p "$DATA"
LOG="$DATA/demo.log"
CASE=24/750
SPEC=examples/hearings/24-750-kliniske-studier.yaml
DECISIONS=examples/hearings/24-750-vedtak.yaml

day() { printf '\n\033[1m%s\033[0m\n' "$*"; }
# run "what" hoering ARGS...: the command's output goes to the log; one line here.
run() {
  local what="$1"
  shift
  printf -- '--- %s\n' "$*" >>"$LOG"
  if ! "$@" >>"$LOG" 2>&1; then
    echo "  FAILED: $what ($*); the end of $LOG:" >&2
    tail -n 15 "$LOG" >&2
    exit 1
  fi
  echo "  $what"
}

if hoering server status >/dev/null 2>&1; then
  STARTED_SERVER=false
else
  echo "Starting the Prefect server (hoering server start) ..."
  hoering server start >>"$LOG"
  STARTED_SERVER=true
fi
finish() {
  if $STARTED_SERVER && ! $KEEP_SERVER; then
    hoering server stop >/dev/null && echo "Prefect server stopped (hoering server stop)."
  else
    hoering server status | sed 's/^/Still running: /'
    echo "Stop it with: hoering server stop"
  fi
}
trap finish EXIT

# The example responses, each in the mailbox folder of the day it arrived.
python - "$DATA/mailbox" examples/responses/24-750/*.eml <<'PY'
import shutil, sys
from email import message_from_binary_file
from email.utils import parsedate_to_datetime
from pathlib import Path

from domain.calendar import OSLO

root = Path(sys.argv[1])
for name in sys.argv[2:]:
    with open(name, "rb") as handle:
        sent = parsedate_to_datetime(message_from_binary_file(handle)["Date"])
    folder = root / sent.astimezone(OSLO).date().isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(name, folder)
PY
ARRIVALS=$(ls "$DATA/mailbox")
REMINDER_DAYS="2024-05-16 2024-05-28" # 14 and 3 days before the deadline 31 May, on working days

day "Setup"
run "database and reference data ready (hoering init)" hoering init
day "20 March 2024"
run "hearing $CASE created from its spec; learning-goal IDs reserved" \
  hoering hearing create "$SPEC" --as-of 2024-03-20
day "22 March 2024"
run "hearing circulated: høringsbrev and change sheet written, one e-mail per recipient queued" \
  hoering hearing circulate "$CASE" --as-of 2024-03-22
run "høringsbrev sent to every recipient (outbox send)" hoering outbox send --as-of 2024-03-22

# Every day with a response or a reminder, in order: reminders go out at 07:00, before
# the day's responses; the mailbox is read in the evening and the receipts go out then.
for date in $(printf '%s\n' $ARRIVALS $REMINDER_DAYS | sort -u); do
  day "$(date -d "$date" '+%-d %B %Y')"
  case " $REMINDER_DAYS " in *" $date "*)
    run "07:00 reminders to the recipients who have not answered yet, sent" \
      hoering reminders send --as-of "${date}T07:00" ;;
  esac
  if [ -d "$DATA/mailbox/$date" ]; then
    n=$(ls "$DATA/mailbox/$date" | wc -l)
    run "$n response(s) imported from the mailbox, receipts queued" \
      hoering responses import "$DATA/mailbox/$date" --as-of "${date}T23:45"
    run "receipts sent" hoering outbox send --as-of "${date}T23:50"
  fi
  if [ "$date" = 2024-05-31 ]; then
    day "1 June 2024"
    run "the deadline day has ended: hearing closed" \
      hoering hearing close "$CASE" --as-of 2024-06-01T00:05
  fi
done

day "5-10 June 2024"
run "campaigns (near-identical responses) grouped" hoering review campaigns "$CASE" --as-of 2024-06-05
run "review file applied: a stance for every response" \
  hoering review apply "$CASE" examples/hearings/24-750-review.yaml --as-of 2024-06-07
run "review marked complete" hoering hearing review-done "$CASE" --as-of 2024-06-10
day "16 September 2024"
run "decisions codified (HJS gets its ID now); orienteringsbrev queued" \
  hoering hearing codify "$CASE" "$DECISIONS" --as-of 2024-09-16
run "orienteringsbrev sent" hoering outbox send --as-of 2024-09-16
run "høringsoppsummering written (.docx and .xlsx)" \
  hoering hearing summary "$CASE" --as-of 2024-09-16
run "responses exported for publication, private persons masked" \
  hoering hearing publish "$CASE" "$DATA/publication" --as-of 2024-09-16
day "1 September 2025"
run "the new learning goals are in effect" hoering goals activate --as-of 2025-09-01

day "Summary"
hoering hearing status "$CASE" --json >"$DATA/status.json"
hoering outbox --json >"$DATA/outbox.json"
hoering goals list --specialty BLS --on 2025-09-01 --json >"$DATA/bls.json"
hoering responses list "$CASE" --json >"$DATA/responses.json"
python - "$DATA" <<'PY'
import json, sys
from collections import Counter
from pathlib import Path

data = Path(sys.argv[1])
status = json.loads((data / "status.json").read_text())
outbox = json.loads((data / "outbox.json").read_text())
goals = {g["id"]: g for g in json.loads((data / "bls.json").read_text())}
sent = Counter(m["kind"] for m in outbox if m["status"] == "sent")
answered = sum(r["answered"] for r in status["recipients"])
responses = json.loads((data / "responses.json").read_text())
late = sum(1 for r in responses if r["late"])
print(f"Hearing {status['case']} is {status['state'].replace('_', ' ')}: {len(responses)} "
      f"responses ({late} late); {answered} of the {len(status['recipients'])} recipients "
      "answered, and reminders went only to those who had not answered yet.")
print("E-mails sent: " + ", ".join(f"{n} {kind}" for kind, n in sorted(sent.items())) + ".")
new = goals.get("BLS-154")
if new:
    print(f"New goal {new['id']} in effect from {new['valid_from']}: {new['text'][:70]}...")
PY
echo "Letters: $DATA/letters/24-750   E-mails: $DATA/outbox-sent   Export: $DATA/publication"
echo "Every command's output: $LOG"
