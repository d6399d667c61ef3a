#!/usr/bin/env bash
# A private Dovecot IMAP server on loopback for the intake tests (tests/mail/test_imap_dovecot.py).
#
# Installs dovecot-imapd when missing, writes its own configuration under $STATE (not
# /etc/dovecot), one test user with a static password and Maildir storage, listens on
# 127.0.0.1:10143 (IMAP, STARTTLS offered, plaintext login allowed on loopback) and
# 127.0.0.1:10993 (IMAPS) with a self-signed certificate for localhost/127.0.0.1, starts
# it and waits until it answers. Safe to run again: a running instance is left alone.
# Prints the variables the tests read (they default to the same values) on stdout:
#   eval "$(.ci/dovecot.sh)"
# Stop it with: .ci/dovecot.sh stop
set -euo pipefail

STATE="${HOERING_DOVECOT_DIR:-/tmp/hoering-dovecot}"
IMAP_PORT="${HOERING_DOVECOT_IMAP_PORT:-10143}"
IMAPS_PORT="${HOERING_DOVECOT_IMAPS_PORT:-10993}"
USER_NAME="hoering-test"
PASSWORD="hoering-test-password"
CONF="$STATE/dovecot.conf"

log() { echo "[dovecot] $*" >&2; }

answers() {  # true when the IMAP port sends a greeting
  local greeting
  greeting=$(timeout 3 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1 && head -c 4 <&3" 2>/dev/null || true)
  [[ "$greeting" == "* OK" ]]
}

answers_tls() {  # the same through TLS (the IMAPS port)
  local greeting
  greeting=$( (sleep 1) | timeout 4 openssl s_client -quiet -connect "127.0.0.1:$1" 2>/dev/null |
    head -c 4 || true)
  [[ "$greeting" == "* OK" ]]
}

print_env() {
  cat <<EOF
export HOERING_TEST_IMAP_URL=imap://$USER_NAME@127.0.0.1:$IMAP_PORT/INBOX
export HOERING_TEST_IMAPS_URL=imaps://$USER_NAME@127.0.0.1:$IMAPS_PORT/INBOX
export HOERING_TEST_IMAP_PASSWORD=$PASSWORD
export HOERING_TEST_IMAP_CA_FILE=$STATE/cert.pem
EOF
}

if [[ "${1:-}" == "stop" ]]; then
  if [[ -f "$CONF" ]]; then
    dovecot -c "$CONF" stop 2>/dev/null || true
    log "stopped"
  fi
  exit 0
fi

if ! command -v dovecot >/dev/null 2>&1 || [[ ! -x /usr/lib/dovecot/imap ]]; then
  log "installing dovecot-imapd"
  if [[ $(id -u) -ne 0 ]]; then
    log "not root: install dovecot-imapd yourself (sudo apt-get install dovecot-imapd)"
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends dovecot-imapd >&2
fi

if [[ -f "$CONF" ]] && answers "$IMAP_PORT" && answers_tls "$IMAPS_PORT"; then
  log "already running (config $CONF)"
  print_env
  exit 0
fi

mkdir -p "$STATE/run" "$STATE/home"
chmod 755 "$STATE"

if [[ $(id -u) -eq 0 ]]; then
  MAIL_USER=nobody
  MAIL_GROUP=$(id -gn nobody)
  LOGIN_USER=dovenull
  INTERNAL_USER=dovecot
else
  MAIL_USER=$(id -un)
  MAIL_GROUP=$(id -gn)
  LOGIN_USER=$MAIL_USER
  INTERNAL_USER=$MAIL_USER
fi
MAIL_UID=$(id -u "$MAIL_USER")
MAIL_GID=$(getent group "$MAIL_GROUP" | cut -d: -f3)
chown "$MAIL_USER:$MAIL_GROUP" "$STATE/home"

if [[ ! -s "$STATE/cert.pem" || ! -s "$STATE/key.pem" ]]; then
  log "creating a self-signed certificate for localhost / 127.0.0.1"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout "$STATE/key.pem" -out "$STATE/cert.pem" 2>/dev/null
  chmod 600 "$STATE/key.pem"
  chmod 644 "$STATE/cert.pem"
fi

echo "$USER_NAME:{PLAIN}$PASSWORD" >"$STATE/users"
chmod 644 "$STATE/users"

DH_LINE=""
if [[ -f /usr/share/dovecot/dh.pem ]]; then
  DH_LINE="ssl_dh = </usr/share/dovecot/dh.pem"
fi

cat >"$CONF" <<EOF
# Written by .ci/dovecot.sh for hoering's tests. Not a production configuration.
base_dir = $STATE/run
state_dir = $STATE/state
log_path = $STATE/dovecot.log
protocols = imap
listen = 127.0.0.1
default_login_user = $LOGIN_USER
default_internal_user = $INTERNAL_USER
first_valid_uid = 1
ssl = yes
ssl_cert = <$STATE/cert.pem
ssl_key = <$STATE/key.pem
$DH_LINE
disable_plaintext_auth = no
auth_mechanisms = plain login
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $STATE/users
}
userdb {
  driver = static
  args = uid=$MAIL_UID gid=$MAIL_GID home=$STATE/home/%u
}
mail_location = maildir:~/Maildir
namespace inbox {
  inbox = yes
  separator = .
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $IMAP_PORT
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $IMAPS_PORT
    ssl = yes
  }
}
service anvil {
  chroot =
}
service imap-login {
  chroot =
}
EOF
mkdir -p "$STATE/state"

# An instance with an older configuration: stop it first.
dovecot -c "$CONF" stop >/dev/null 2>&1 || true
for _ in $(seq 1 20); do
  answers "$IMAP_PORT" || break
  sleep 0.5
done

log "starting (config $CONF, log $STATE/dovecot.log)"
dovecot -c "$CONF"
for _ in $(seq 1 60); do
  if answers "$IMAP_PORT" && answers_tls "$IMAPS_PORT"; then
    log "answering on 127.0.0.1:$IMAP_PORT (imap) and 127.0.0.1:$IMAPS_PORT (imaps)"
    print_env
    exit 0
  fi
  sleep 0.5
done
log "did not answer within 30 s; see $STATE/dovecot.log"
tail -n 20 "$STATE/dovecot.log" >&2 || true
exit 1
