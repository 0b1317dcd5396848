# Kanyan — top-level build. `make run` and `make test` are the two commands a newcomer needs.
CC      ?= cc
PKGS    := glib-2.0 gobject-2.0 gio-2.0 gstreamer-1.0 gstreamer-webrtc-1.0 gstreamer-sdp-1.0 \
           gstreamer-rtp-1.0 gstreamer-app-1.0 gstreamer-video-1.0 libwebsockets json-glib-1.0 sqlite3 libsodium \
           libqrencode nice libavformat libavcodec libavutil openssl libzip cairo pangocairo gdk-pixbuf-2.0 libsystemd \
           libsoup-3.0
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -DG_LOG_DOMAIN=\"kanyan\" -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

# src/<layer>/<module>.c — the layers, lowest first, are listed in docs/architecture.md and
# checked by tools/check_layers.py (test_layers); every include names its layer ("media/relay.h").
SRC     := $(wildcard src/*/*.c)
HDR     := $(wildcard src/*/*.h)
LIB_SRC := $(filter-out src/app/main.c,$(SRC))
OBJ     := $(patsubst src/%.c,build/obj/%.o,$(LIB_SRC))
UNIT    := $(patsubst tests/unit/%.c,build/%,$(wildcard tests/unit/test_*.c))

.DEFAULT_GOAL := all   # peers.mk, included next, must not make its first rule the default
-include tests/peers/peers.mk

.PHONY: all deps run test unit clean fuzz bench install
all: build/kanyan $(PEERS)

deps:
	@tools/install-deps.sh

build/obj/%.o: src/%.c $(HDR)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -Isrc -c $< -o $@

build/libkanyan.a: $(OBJ)
	ar rcs $@ $^

# -rdynamic: a crash's backtrace (src/app/crash.c) names Kanyan's own functions
build/kanyan: build/obj/app/main.o build/libkanyan.a
	$(CC) $(CFLAGS) -rdynamic -o $@ $^ $(PKG_LIBS) -lm

build/test_%: tests/unit/test_%.c build/libkanyan.a
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -Isrc -o $@ $^ $(PKG_LIBS) -lm

build/obj:
	mkdir -p $@

# libFuzzer targets (clang, ASan, UBSan) over the pure parsers; `make fuzz FUZZ_SECONDS=600`
FUZZ_SRC    := src/web/protocol.c src/media/sdp_offer.c src/media/rtp_keyframe.c src/core/errors.c src/web/bodies.c
FUZZ_FLAGS  := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -DG_LOG_DOMAIN=\"kanyan\"
FUZZ_TARGETS := build/fuzz_protocol build/fuzz_sdp build/fuzz_rtp_keyframe build/fuzz_bodies
FUZZ_SECONDS ?= 60

build/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_SRC) $(HDR) | build/obj
	clang $(FUZZ_FLAGS) $(PKG_CFLAGS) -Isrc -o $@ $< $(FUZZ_SRC) $(PKG_LIBS)

fuzz: deps $(FUZZ_TARGETS)
	@KANYAN_FUZZ_SECONDS=$(FUZZ_SECONDS) /usr/bin/python3 tests/runner.py fuzz

# the ramp and archive finalization (bench/README.md); bench/run.sh enters tests/netns.sh itself;
# with Debian's janus installed (make deps), each step also runs against it: the side-by-side table
bench: deps
	@bench/run.sh $$(command -v janus > /dev/null && echo --anchor janus)

run: deps
	@$(MAKE) --no-print-directory all
	@tools/run-demo.sh

test: deps
	@$(MAKE) --no-print-directory all $(UNIT) $(FUZZ_TARGETS)
	@tests/run-all.sh

# `make install` (PREFIX, DESTDIR): the binary, web/, pipelines/, the man page, the docs, the
# systemd unit and a default /etc/kanyan/kanyan.conf (kept when one is there); docs/deploy.md
PREFIX     ?= /usr/local
SYSCONFDIR ?= /etc
BINDIR     := $(PREFIX)/bin
DATADIR    := $(PREFIX)/share/kanyan
DOCDIR     := $(PREFIX)/share/doc/kanyan
MANDIR     := $(PREFIX)/share/man/man1
UNITDIR    ?= $(PREFIX)/lib/systemd/system
SUBST      := sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@DATADIR@|$(DATADIR)|g' -e 's|@DOCDIR@|$(DOCDIR)|g' \
              -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g'

install: build/kanyan
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR) $(DESTDIR)$(DOCDIR) $(DESTDIR)$(MANDIR) \
	  $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCONFDIR)/kanyan
	install -m 0755 build/kanyan $(DESTDIR)$(BINDIR)/kanyan
	rm -rf $(DESTDIR)$(DATADIR)/web $(DESTDIR)$(DATADIR)/pipelines
	cp -R web $(DESTDIR)$(DATADIR)/web
	cp -R pipelines $(DESTDIR)$(DATADIR)/pipelines
	chmod -R u=rwX,go=rX $(DESTDIR)$(DATADIR)
	install -m 0644 docs/kanyan.1 $(DESTDIR)$(MANDIR)/kanyan.1
	install -m 0644 docs/*.md $(DESTDIR)$(DOCDIR)/
	$(SUBST) service/kanyan.service.in > $(DESTDIR)$(UNITDIR)/kanyan.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/kanyan.service
	test -e $(DESTDIR)$(SYSCONFDIR)/kanyan/kanyan.conf || \
	  { $(SUBST) service/kanyan.conf.in > $(DESTDIR)$(SYSCONFDIR)/kanyan/kanyan.conf && \
	    chmod 0644 $(DESTDIR)$(SYSCONFDIR)/kanyan/kanyan.conf; }

clean:
	rm -rf build
