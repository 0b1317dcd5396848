# bench/bench.mk — make fragment for the benchmark (issue 7). The top-level Makefile includes
# it (`-include bench/bench.mk`); bench/run.sh also uses it on its own
# (`make -f bench/bench.mk build/bench-loadgen`), so it needs nothing from the Makefile.
# build/bench-loadgen: the C load generator (GStreamer webrtcbin, libsoup 3, json-glib), for
# Kanyan and for its anchor, Janus (bench/lg_janus.c).

BENCH_PKGS   := gstreamer-1.0 gstreamer-webrtc-1.0 gstreamer-sdp-1.0 gstreamer-rtp-1.0 gstreamer-app-1.0 \
                libsoup-3.0 json-glib-1.0 nice
BENCH_CFLAGS := -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror -Itests/peers $(shell pkg-config --cflags $(BENCH_PKGS))
BENCH_LIBS   := $(shell pkg-config --libs $(BENCH_PKGS))
# the reviewer's signaling is the test peer's (tests/peers/reviewer_client.c)
BENCH_SRC    := bench/loadgen.c bench/lg_media.c bench/lg_publisher.c bench/lg_reviewer.c bench/lg_janus.c \
                bench/lg_floor.c tests/peers/reviewer_client.c

build/bench-loadgen: $(BENCH_SRC) bench/loadgen.h tests/peers/reviewer_client.h bench/bench.mk
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) -o $@ $(BENCH_SRC) $(BENCH_LIBS)

# build/bench-floor: the floor under a webrtcbin relay (bench/floor.c, --anchor floor)
build/bench-floor: bench/floor.c bench/lg_media.c bench/loadgen.h bench/bench.mk
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) -o $@ bench/floor.c bench/lg_media.c $(BENCH_LIBS)
