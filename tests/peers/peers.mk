# tests/peers/peers.mk — make fragment for the integration-test peers.
# Included by the top-level Makefile; builds build/reviewer-peer (a scripted
# webrtcbin reviewer, see tests/peers/reviewer_peer.c). The Python and
# Chromium WHIP publishers need no build (Chromium's driver: npm install --prefix tests).

PEERS := build/reviewer-peer

PEERS_PKGS := gstreamer-1.0 gstreamer-webrtc-1.0 gstreamer-sdp-1.0 libsoup-3.0 json-glib-1.0
PEERS_CFLAGS := -std=c11 -O2 -g -Wall -Wextra -Werror $(shell pkg-config --cflags $(PEERS_PKGS))
PEERS_LIBS := $(shell pkg-config --libs $(PEERS_PKGS))

# reviewer_client.c (the signaling and peer connections) is shared with bench/lg_reviewer.c
build/reviewer-peer: tests/peers/reviewer_peer.c tests/peers/reviewer_client.c tests/peers/reviewer_client.h tests/peers/peers.mk
	@mkdir -p $(@D)
	$(CC) $(PEERS_CFLAGS) -o $@ tests/peers/reviewer_peer.c tests/peers/reviewer_client.c $(PEERS_LIBS)
