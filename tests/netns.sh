#!/bin/sh
# tests/netns.sh CMD... — run CMD inside a fresh private network namespace.
#
# The namespace holds loopback (up) and one veth pair, kt0 10.77.0.1/24 and
# kt1 10.77.0.2/24, so libnice, aiortc and Chromium all find ordinary host
# candidates while no packet can leave the machine (see shared/media-notes.md).
# Inside, KANYAN_NETNS=1 is exported; if it is already set we are inside one
# and CMD is simply exec'd, unless --fresh asks for a new one all the same (the
# runner's browser tests, beside the integration tests). Needs root (or
# unprivileged user namespaces).
set -eu

fresh=
if [ "${1:-}" = --fresh ]; then
    fresh=1
    shift
fi
if [ $# -eq 0 ]; then
    echo "usage: tests/netns.sh [--fresh] CMD [ARG...]" >&2
    exit 2
fi

if [ "${KANYAN_NETNS:-}" = 1 ] && [ -z "$fresh" ]; then
    exec "$@"
fi
export KANYAN_NETNS=1

# Without root, map ourselves to root in a new user namespace as well.
userns=
if [ "$(id -u)" != 0 ]; then
    userns=--map-root-user
fi

exec unshare $userns --net -- sh -c '
    set -e
    ip link set lo up
    # no IPv6 on the veth pair (loopback keeps ::1): its link-local addresses would finish
    # duplicate address detection a second or two after the pair comes up, and Chromium
    # takes that new address for a network change and fails every request in flight with
    # ERR_NETWORK_CHANGED: a page whose module scripts were loading at that moment never ran
    # (a login form or a Start button that never appeared, in about 1 run in 3 of a browser
    # test that starts its pages right away)
    echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6
    ip link add kt0 type veth peer name kt1
    ip addr add 10.77.0.1/24 dev kt0
    ip addr add 10.77.0.2/24 dev kt1
    ip link set kt0 up
    ip link set kt1 up
    # libnice pins each UDP socket to the interface of its address (IP_UNICAST_IF), so a
    # datagram from 10.77.0.1 to 10.77.0.2 leaves through kt0 instead of being delivered
    # locally, and kt1 drops it: its source is an address of this namespace. Accept such
    # datagrams, or every libnice UDP pair here fails and ICE falls back to ICE-TCP.
    for c in all kt0 kt1; do echo 1 > /proc/sys/net/ipv4/conf/$c/accept_local; done
    # a default route that stays inside: Firefox gathers no ICE candidate at all on a
    # machine without one; anything sent to it loops back into this namespace
    ip route add default via 10.77.0.1 dev kt1
    # ports 51000-60999 are for the servers the tests start (free_port in
    # integration/kanyan.py, e2e/lib/port.mjs): no outgoing connection and no
    # bind to port 0 takes one, so a port found free is still free a moment later.
    # 40000-41100 and 49160-49260 are the fixed ranges the reachability tests give the
    # server, reviewer peers and coturn, and name in their firewall rules: a browser socket
    # that drew one of them by chance would slip through those rules (the likeliest cause of
    # a phone host pair where only TURN over TCP was left, once in a fresh-clone run)
    echo 40000-41100,49160-49260,51000-60999 > /proc/sys/net/ipv4/ip_local_reserved_ports 2>/dev/null || true
    exec "$@"
' netns.sh "$@"
