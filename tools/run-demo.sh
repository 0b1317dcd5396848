#!/bin/sh
# `make run`: the server on its embedded defaults (HTTPS on 8443, ./data, ./recordings)
# with a demo case, and where to go: the reviewer page and the applicant's invite, also as
# a QR code that a phone on the same network can scan.
set -e
cd "$(dirname "$0")/.."
PORT="${KANYAN_PORT:-8443}"
LAN_IP="$(hostname -I 2>/dev/null | awk '{print $1}')"
HOST="${LAN_IP:-localhost}"
PUBLIC="https://$HOST:$PORT"
DEMO=DEMO-0001
LOGINS=data/demo-logins.txt
# demo accounts, each made once with a random password kept (mode 600) in data/ so each run can
# show them (an account added to this list later is made on the next run)
mkdir -p data
( umask 077; touch "$LOGINS" )
for spec in demo-reviewer:reviewer:commerce demo-fire:reviewer:fire demo-lead:lead:commerce \
            demo-auditor:auditor:audit demo-admin:admin:it demo-clerk:clerk:intake; do
  user=${spec%%:*} rest=${spec#*:}
  grep -q "^$user " "$LOGINS" && continue
  pw=$(./build/kanyan user add -u "$user" --role "${rest%%:*}" --department "${rest#*:}" | sed -n 's/^password for [^:]*: //p')
  [ -n "$pw" ] || pw=$(./build/kanyan user passwd -u "$user" | sed -n 's/^password for [^:]*: //p')
  printf '%-14s %-9s %s\n' "$user" "${rest%%:*}" "$pw" >> "$LOGINS"
done
if ./build/kanyan case list | cut -f1 | grep -qx "$DEMO"; then
  VERB=invite
  OWNER=""
else
  VERB=add
  OWNER="--owner demo-reviewer --co-reviewer demo-fire --applicant Demo-Applicant --address Demo-Road-1 --site 31.2304,121.4737"
fi
echo
echo "Kanyan — remote site inspection"
echo "================================"
# shellcheck disable=SC2086
./build/kanyan case "$VERB" --ref "$DEMO" --type fuel-retail --public-url "$PUBLIC" --qr $OWNER
echo
echo "Demo logins (user, role, password; kept in $LOGINS):"
sed 's/^/  /' "$LOGINS"
echo
echo "Reviewer page:  $PUBLIC/review/#case=$DEMO   (or https://localhost:$PORT/review/ on this machine)"
echo "                sign in as demo-reviewer (owner) or demo-fire (co-reviewer: the fire items 4 and 5 are theirs)"
echo "Applicant:      open the invite URL above on a phone, or scan the QR code."
echo "                The certificate is self-signed: accept the browser's warning once."
echo "WHIP ingest:    POST $PUBLIC/whip/$DEMO  with 'Authorization: Bearer <token above>'"
echo "Intake:         $PUBLIC/intake/   (demo-clerk: new cases, invites, their state)"
echo "Auditor:        $PUBLIC/audit/#case=$DEMO   (demo-auditor: the replay, the audit trail, the check)"
echo "Administration: $PUBLIC/admin/   (demo-admin: accounts, case types)"
echo
exec ./build/kanyan serve --port "$PORT" --public-url "$PUBLIC"
