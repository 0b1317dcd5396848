#!/bin/sh
# Runs every test inside a private network namespace (tests/netns.sh): media and browser
# traffic stays on loopback and the namespace's veth pair. Ends with "N passed, N failed, N skipped".
cd "$(dirname "$0")/.." || exit 1
exec tests/netns.sh /usr/bin/python3 tests/runner.py "$@"
