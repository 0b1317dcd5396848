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
if ./build/kanyan case list | cut -f1 | grep -qx "$DEMO"; then
  VERB=invite
else
  VERB=add
fi
echo
echo "Kanyan — remote site inspection"
echo "================================"
./build/kanyan case "$VERB" --ref "$DEMO" --type fuel-retail --public-url "$PUBLIC" --qr
echo
echo "Reviewer page:  $PUBLIC/review/#case=$DEMO   (or https://localhost:$PORT/review/ on this machine)"
echo "Applicant:      open the invite URL above on a phone, or scan the QR code."
echo "                The certificate is self-signed: accept the browser's warning once."
echo "WHIP ingest:    POST $PUBLIC/whip/$DEMO  with 'Authorization: Bearer <token above>'"
echo
exec ./build/kanyan serve --port "$PORT" --public-url "$PUBLIC"
