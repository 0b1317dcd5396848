#!/bin/bash
# bench/run.sh — Kanyan's benchmark (issue 7); what `make bench` runs. See bench/README.md.
#
#   bench/run.sh                 the ramp: 1, 2, 5, 10, 20, 30, 40… inspections (1 WHIP publisher
#                                + 2 reviewers each, recording on) for 20 s a step, until loss
#                                passes 1 % or the machine saturates; then archive finalization
#                                of a 10-minute recording
#   bench/run.sh --smoke         one inspection for 10 s (for `make test`): fails when the
#                                generator received no media
#   bench/run.sh --anchor janus  the same ramp against Kanyan and, alternating step by step, against
#                                Debian's Janus 1.1.2 VideoRoom (bench/anchors/janus/: the same clip,
#                                generator and window, signaled through Janus's HTTP API), then a
#                                side-by-side table with the ratios (what `make bench` runs when
#                                janus is installed)
#   bench/run.sh --anchor floor  the same, against bench-floor (bench/floor.c): the least a webrtcbin
#                                relay does — per inspection one webrtcbin in, a tee per track, one
#                                webrtcbin per reviewer; no recorder, no queue, no talk-back
#   options: --steps "1 2 5"  --seconds S  --no-finalize  --finalize-only
#            --jitter-latency MS  the server's [media] jitter_latency_ms (default: the server's, 100)
#            --profile           one inspection for 120 s with the server under callgrind
#
# Runs inside tests/netns.sh (re-executes itself there): a private network namespace with
# loopback and the veth pair 10.77.0.1 (server's ICE) / 10.77.0.2 (the generator's ICE);
# no packet leaves it. Builds only through make. Server: `kanyan serve --no-tls` on
# 127.0.0.1 in a temporary directory that is removed at the end (kept when a step fails).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${KANYAN_NETNS:-}" != 1 ]; then
    exec tests/netns.sh bash bench/run.sh "$@"
fi

STEPS="1 2 5 10 20 30 40 50 60 80 100"
SECONDS_PER_STEP=20
SMOKE=0 FINALIZE=1 RAMP=1 PROFILE=0 JITTER_MS="" ANCHOR="" RAMP_STOPS=1
while [ $# -gt 0 ]; do
    case "$1" in
        --smoke) SMOKE=1 STEPS=1 SECONDS_PER_STEP=10 FINALIZE=0 ;;
        --steps) STEPS="$2" RAMP_STOPS=0; shift ;;   # the steps asked for all run
        --seconds) SECONDS_PER_STEP="$2"; shift ;;
        --no-finalize) FINALIZE=0 ;;
        --finalize-only) RAMP=0 ;;
        --jitter-latency) JITTER_MS="$2"; shift ;;
        --profile) PROFILE=1 STEPS=1 SECONDS_PER_STEP=120 FINALIZE=0 ;;
        --anchor) ANCHOR="$2"; shift ;;
        *) echo "usage: bench/run.sh [--smoke] [--steps \"1 2 5\"] [--seconds S] [--no-finalize] [--finalize-only] [--jitter-latency MS] [--profile] [--anchor janus|floor]" >&2
           exit 2 ;;
    esac
    shift
done

if [ -n "$ANCHOR" ]; then
    if { [ "$ANCHOR" != janus ] && [ "$ANCHOR" != floor ]; } || [ "$PROFILE" = 1 ]; then
        echo "bench: the anchors are janus and floor, and not with --profile" >&2
        exit 2
    fi
    if [ "$ANCHOR" = janus ] && ! command -v janus > /dev/null; then
        echo "bench: --anchor janus needs Debian's janus (make deps installs it)" >&2
        exit 2
    fi
fi

make --no-print-directory -s build/kanyan
make --no-print-directory -s -f bench/bench.mk build/bench-loadgen
[ "$ANCHOR" = floor ] && make --no-print-directory -s -f bench/bench.mk build/bench-floor

CACHE=build/bench-cache
CLIP=$CACHE/clip-720p30-h264cb-opus-20s.mkv
mkdir -p "$CACHE"

# The publishers' clip, made once: a moving pattern with a patch of noise (so x264 spends its
# bits as on a real scene), 1280x720 30 fps, H.264 constrained baseline ~1.5 Mbit/s CBR,
# an IDR every 60 frames and no other I frames (scenecut off), Opus 32 kbit/s; 20 s.
make_clip() {
    [ -s "$CLIP" ] && return 0
    echo "bench: encoding the 20 s publisher clip once ($CLIP)…"
    timeout 900 gst-launch-1.0 -q -e \
        compositor name=mix sink_1::xpos=560 sink_1::ypos=300 \
        ! video/x-raw,width=1280,height=720,framerate=30/1 ! videoconvert \
        ! x264enc bitrate=1500 pass=cbr vbv-buf-capacity=1000 speed-preset=veryfast tune=zerolatency \
                  key-int-max=60 option-string=scenecut=0 \
        ! video/x-h264,profile=constrained-baseline ! h264parse ! queue ! matroskamux name=mux \
        ! filesink location="$CLIP.tmp" \
        videotestsrc num-buffers=600 pattern=smpte horizontal-speed=4 \
        ! video/x-raw,width=1280,height=720,framerate=30/1 ! mix.sink_0 \
        videotestsrc num-buffers=600 pattern=snow ! video/x-raw,width=160,height=120,framerate=30/1 ! mix.sink_1 \
        audiotestsrc num-buffers=1000 samplesperbuffer=960 wave=sine freq=440 \
        ! audio/x-raw,rate=48000,channels=1 ! opusenc bitrate=32000 ! queue ! mux.
    mv "$CLIP.tmp" "$CLIP"
}

# ---------- archive finalization of a 10-minute recording ----------
# A 20 s clip per codec concatenated 30 times (no encoding beyond the 20 s: seconds, not
# minutes), in Matroska as the recorder writes it. H.264 reuses the publishers' clip; VP8
# gets a 20 s clip of its own (libvpx realtime, ~1.5 Mbit/s, a keyframe every 60 frames).
VP8_CLIP=$CACHE/clip-720p30-vp8-opus-20s.mkv
make_vp8_clip() {
    [ -s "$VP8_CLIP" ] && return 0
    timeout 600 ffmpeg -v error -y -f lavfi -i testsrc2=size=1280x720:rate=30:duration=20 \
        -f lavfi -i sine=frequency=440:duration=20 -c:v libvpx -deadline realtime -cpu-used 8 -b:v 1500k \
        -g 60 -c:a libopus -b:a 32k -shortest "$VP8_CLIP.tmp.mkv"
    mv "$VP8_CLIP.tmp.mkv" "$VP8_CLIP"
}

best_of_3() {   # best_of_3 PREPARE-CMD -- CMD...: the shortest wall time (s) of 3 runs, page cache warm
    local prep=$1 best="" t0 t1; shift 2
    for _ in 1 2 3; do
        eval "$prep"
        t0=$(date +%s.%N)
        "$@" > /dev/null 2>> "$FIN_LOG" || { tail -n 20 "$FIN_LOG" >&2; return 1; }
        t1=$(date +%s.%N)
        best=$(awk -v a="$t0" -v b="$t1" -v best="$best" 'BEGIN{d=b-a; if (best=="" || d<best) best=d; print best}')
    done
    echo "$best"
}

finalize_bench() {
    make_vp8_clip
    local work
    work=$(mktemp -d /tmp/kanyan-bench-final.XXXXXX)
    # libavformat's warnings (the concatenation repeats one Opus timestamp at each join)
    FIN_LOG=$work/stderr.log
    echo
    echo "Archive finalization of a 10-minute recording (best of 3, page cache warm):"
    echo "| recording | what | wall time s | × real time |"
    echo "|---|---|---|---|"
    local codec clip ext rec dur size t list
    for codec in h264 vp8; do
        if [ "$codec" = h264 ]; then clip=$CLIP ext=mp4; else clip=$VP8_CLIP ext=webm; fi
        rec=$CACHE/recording-$codec-10min.mkv
        if [ ! -s "$rec" ]; then
            list=$(mktemp /tmp/kanyan-bench-concat.XXXXXX)
            for _ in $(seq 30); do echo "file '$PWD/$clip'"; done > "$list"
            timeout 600 ffmpeg -v error -y -f concat -safe 0 -i "$list" -c copy "$rec.tmp.mkv"
            rm -f "$list"
            mv "$rec.tmp.mkv" "$rec"
        fi
        dur=$(timeout 60 ffprobe -v error -show_entries format=duration -of default=nw=1:nk=1 "$rec")
        size=$(stat -c %s "$rec")
        local what
        what=$(awk -v d="$dur" -v s="$size" -v c="$codec" 'BEGIN{printf "%.0f s %s + Opus, %.0f MB", d, (c=="h264"?"H.264":"VP8"), s/1e6}')
        # ffmpeg's own remux: the stand-in named in issue 7
        t=$(best_of_3 "rm -f '$work/out.$ext'" -- timeout 300 ffmpeg -v error -y -i "$rec" -c copy "$work/out.$ext") || return 1
        awk -v d="$dur" -v t="$t" -v w="$what" -v e="$ext" 'BEGIN{printf "| %s | `ffmpeg -i in.mkv -c copy out.%s` | %.2f | %.0f× |\n", w, e, t, d/t}'
        # the server's own finalization (libavformat remux + read-back + SHA-256); it deletes its source
        t=$(best_of_3 "rm -f '$work'/segment-001.*; cp '$rec' '$work/segment-001.mkv'" -- \
            timeout 300 build/kanyan archive finalize --json "$work/segment-001.mkv") || return 1
        awk -v d="$dur" -v t="$t" -v w="$what" 'BEGIN{printf "| %s | `kanyan archive finalize` (remux, read-back, SHA-256) | %.2f | %.0f× |\n", w, t, d/t}'
    done
    rm -rf "$work"
}

if [ "$RAMP" = 0 ]; then
    make_clip
    finalize_bench || { echo "bench: finalization FAILED" >&2; exit 1; }
    exit 0
fi

make_clip

# ---------- the server ----------
T=$(mktemp -d /tmp/kanyan-bench.XXXXXX)
PORT=18443
KEEP=${BENCH_KEEP:-0}
cat > "$T/kanyan.conf" <<EOF
[server]
# every reviewer of the load generator is one account on one address
max_ws_per_ip=100000
max_ws_per_account=100000
[media]
# rooms of the previous step must not linger into the next one's measurement
room_linger_s=2
${JITTER_MS:+jitter_latency_ms=$JITTER_MS}
EOF
SERVE=(build/kanyan serve --no-tls --bind 127.0.0.1 --port "$PORT" --ice-address 10.77.0.1
       --data-dir "$T/data" --recordings "$T/recordings" --web-dir web --pipelines-dir "${BENCH_PIPELINES:-pipelines}"
       --config "$T/kanyan.conf")
if [ "$PROFILE" = 1 ]; then
    # G_SLICE set here: the server's own re-exec for it would leave callgrind behind
    G_SLICE=always-malloc valgrind --tool=callgrind --callgrind-out-file="$T/callgrind.out" "${SERVE[@]}" > "$T/server.log" 2>&1 &
else
    "${SERVE[@]}" > "$T/server.log" 2>&1 &
fi
SERVER=$!
# stop the server: SIGTERM, then SIGKILL if it has not exited within $1 seconds
stop_server() {
    kill "$SERVER" 2>/dev/null || return 0
    for _ in $(seq $(( ${1:-10} * 10 ))); do
        kill -0 "$SERVER" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$SERVER" 2>/dev/null || true
    wait "$SERVER" 2>/dev/null || true
}
ANCHOR_PID=""
# stop the anchor by its PID: SIGINT (Janus's clean shutdown), then SIGKILL after 10 s
stop_anchor() {
    [ -n "$ANCHOR_PID" ] || return 0
    kill -INT "$ANCHOR_PID" 2>/dev/null || return 0
    for _ in $(seq 100); do
        kill -0 "$ANCHOR_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$ANCHOR_PID" 2>/dev/null || true
    wait "$ANCHOR_PID" 2>/dev/null || true   # Janus runs under timeout(1): not our child, nothing to wait for
}
cleanup() {
    stop_anchor
    stop_server 10
    if [ "$KEEP" = 1 ]; then echo "bench: kept $T (server.log, step-*.err)" >&2; else rm -rf "$T"; fi
}
trap cleanup EXIT

# Wait for /api/health with a whole request: a bare connect-and-close crashes this server
# (LWS_CALLBACK_CLOSED_HTTP with no session data, src/web/http.c).
health() {
    exec 3<>"/dev/tcp/127.0.0.1/$PORT" || return 1
    printf 'GET /api/health HTTP/1.0\r\n\r\n' >&3
    local line; read -r -t 2 line <&3 || true; exec 3<&-
    [[ "$line" == *" 200 "* ]]
}
up=0
for _ in $(seq $(( PROFILE ? 1200 : 300 ))); do    # 30 s (120 s under callgrind)
    health 2>/dev/null && { up=1; break; }
    kill -0 "$SERVER" 2>/dev/null || break
    sleep 0.1
done
if [ "$up" != 1 ]; then
    echo "bench: the server did not answer /api/health" >&2
    tail -n 30 "$T/server.log" >&2
    KEEP=1
    exit 1
fi
sleep 1
status_of() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
IDLE_RSS=$(status_of "$SERVER" VmRSS)
IDLE_THREADS=$(status_of "$SERVER" Threads)

# ---------- the anchor: Janus 1.1.2 (bench/anchors/janus/, README there and in bench/README.md) ----------
# Its HTTP API on 127.0.0.1:8088 and its ICE on the veth kt0 (10.77.0.1, as Kanyan's) only, inside this
# namespace: a janus.service the package may have started outside it is not in the way.
# Under timeout(1) with SIGINT, for the run's length; bash writes its PID and execs janus, so
# that PID is Janus's own (for /proc and for stopping it).
JANUS_API=http://127.0.0.1:8088/janus
janus_info() {
    exec 3<>"/dev/tcp/127.0.0.1/8088" || return 1
    printf 'GET /janus/info HTTP/1.0\r\n\r\n' >&3
    local line; read -r -t 2 line <&3 || true; exec 3<&-
    [[ "$line" == *" 200 "* ]]
}
# The floor (bench/floor.c): its HTTP on 127.0.0.1:18444, its ICE on the server's address.
FLOOR_BASE=http://127.0.0.1:18444
floor_up() {
    exec 3<>"/dev/tcp/127.0.0.1/18444" || return 1
    exec 3<&-
}
ANCHOR_NAME="" ANCHOR_ARGS=()
if [ "$ANCHOR" = janus ]; then
    ANCHOR_NAME=Janus ANCHOR_ARGS=(--janus --base "$JANUS_API" --janus-rec-dir "$T/janus-rec")
    mkdir -p "$T/janus-conf" "$T/janus-rec"
    cp bench/anchors/janus/*.jcfg "$T/janus-conf/"
    nsteps=$(wc -w <<< "$STEPS")
    timeout -s INT -k 10 $(( nsteps * 2 * (SECONDS_PER_STEP + 70) + 120 )) \
        bash -c 'echo $$ > "$1"; exec janus -F "$2" -o' janus-start "$T/anchor.pid" "$T/janus-conf" \
        > "$T/anchor.log" 2>&1 &
    for _ in $(seq 300); do
        [ -s "$T/anchor.pid" ] && ANCHOR_PID=$(cat "$T/anchor.pid") && janus_info 2>/dev/null && break
        sleep 0.1
    done
    if [ -z "$ANCHOR_PID" ] || ! janus_info 2>/dev/null; then
        echo "bench: Janus did not answer $JANUS_API/info" >&2
        tail -n 30 "$T/anchor.log" >&2
        KEEP=1
        exit 1
    fi
elif [ "$ANCHOR" = floor ]; then
    ANCHOR_NAME=floor ANCHOR_ARGS=(--floor --base "$FLOOR_BASE")
    # BENCH_FLOOR_ARGS=--queues: a leaky queue per reviewer track, as Kanyan's relay has
    build/bench-floor --port 18444 --ice-address 10.77.0.1 ${BENCH_FLOOR_ARGS:-} > "$T/anchor.log" 2>&1 &
    ANCHOR_PID=$!
    for _ in $(seq 300); do
        floor_up 2>/dev/null && break
        sleep 0.1
    done
    if ! floor_up 2>/dev/null; then
        echo "bench: bench-floor did not listen on $FLOOR_BASE" >&2
        tail -n 30 "$T/anchor.log" >&2
        KEEP=1
        exit 1
    fi
fi
if [ -n "$ANCHOR" ]; then
    sleep 1
    ANCHOR_IDLE_RSS=$(status_of "$ANCHOR_PID" VmRSS)
    ANCHOR_IDLE_THREADS=$(status_of "$ANCHOR_PID" Threads)
fi

echo "Kanyan benchmark — $(nproc) cores ($(lscpu | sed -n 's/^Model name: *//p' | head -1)), $(date -u +%Y-%m-%dT%H:%MZ)"
echo "Idle server: RSS $(awk -v k="$IDLE_RSS" 'BEGIN{printf "%.1f", k/1024}') MB, $IDLE_THREADS threads." \
     "Each inspection: 1 WHIP publisher (720p30 H.264 CB ~1.5 Mbit/s + Opus) + 2 reviewers, recording on;" \
     "${SECONDS_PER_STEP} s per step, measured over its last $([ "$PROFILE" = 1 ] && echo 50 || echo 60) %${JITTER_MS:+; server jitterbuffer $JITTER_MS ms}."
if [ -n "$ANCHOR" ]; then
    if [ "$ANCHOR" = janus ]; then
        what="$(janus --version 2>/dev/null | sed -n 's/^Janus version: .*(\(.*\))/Janus \1/p' | head -1 || true) VideoRoom"   # janus exits 1 after --version
    else
        what="bench-floor (webrtcbin in, a tee per track, a webrtcbin per reviewer; nothing recorded)"
    fi
    echo "Anchor: $what," \
         "idle RSS $(awk -v k="$ANCHOR_IDLE_RSS" 'BEGIN{printf "%.1f", k/1024}') MB, $ANCHOR_IDLE_THREADS threads; the same load," \
         "each step run against Kanyan, then against $ANCHOR_NAME."
fi
echo

# Since accounts, reviewers sign in: one reviewer account owns every case and the generator
# logs in with it (POST /api/login; the session cookie rides on each WebSocket upgrade).
# Against a server without accounts both steps fail quietly and the generator joins as before.
BENCH_USER=bench
BENCH_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
LOGIN=() OWNER=()
if printf '%s\n' "$BENCH_PASSWORD" | timeout 30 build/kanyan user add -u "$BENCH_USER" --role reviewer \
        --department bench --password-stdin --data-dir "$T/data" > "$T/user.log" 2>&1; then
    LOGIN=(--username "$BENCH_USER" --password "$BENCH_PASSWORD")
    OWNER=(--owner "$BENCH_USER")
fi

# under callgrind the server runs ~50 times slower: its WHIP answer alone takes tens of seconds
SLOW=()
[ "$PROFILE" = 1 ] && SLOW=(--http-timeout 120 --watchdog $((SECONDS_PER_STEP + 300)) --warmup $((SECONDS_PER_STEP / 2)))

LABEL=()
[ -n "$ANCHOR" ] && LABEL=(--label Kanyan)
# step_result NAME N: the RESULT line of a step, or the reason it failed (to stderr, return 1)
step_result() {
    local out=$T/step-$2$1.out err=$T/step-$2$1.err
    grep '^|' "$out" || true
    result=$(grep '^RESULT' "$out" || true)
    if [ "$rc" != 0 ] || [ -z "$result" ]; then
        echo "bench: step $2${1:+ (${1#-})} failed (loadgen exit $rc): ${result:-no result}" >&2
        tail -n 20 "$err" >&2
        return 1
    fi
}
# over_limit: loss past 1 % or a saturated machine in $result (sets stop); only on the
# default ramp: steps given with --steps all run (the machine may be busy with other work)
over_limit() {
    local loss busy
    [ "$RAMP_STOPS" = 1 ] || return 1
    loss=$(sed -n 's/.* loss=\([0-9.]*\).*/\1/p' <<< "$result")
    busy=$(sed -n 's/.* busy=\([0-9.]*\).*/\1/p' <<< "$result")
    if awk -v l="$loss" 'BEGIN{exit !(l > 1.0)}'; then stop="loss passed 1 % at $n inspections${1:+ ($1)}"; return 0; fi
    if awk -v b="$busy" 'BEGIN{exit !(b >= 95)}'; then stop="the machine saturated at $n inspections (${busy} % busy${1:+, $1})"; return 0; fi
    return 1
}

failed=0 header=--header stop=""
for n in $STEPS; do
    cases=$T/cases-$n.jsonl
    : > "$cases"
    for i in $(seq "$n"); do
        timeout 30 build/kanyan case add --ref "B$n-$i" --type fuel-retail "${OWNER[@]}" --data-dir "$T/data" \
            --json >> "$cases"
    done
    rc=0
    # the generator has its own wall-clock watchdog (--seconds + 30 s); timeout(1) is the backstop
    timeout -k 5 $((SECONDS_PER_STEP + 60 + (PROFILE ? 300 : 0))) \
    build/bench-loadgen --base "http://127.0.0.1:$PORT" --cases "$cases" --clip "$CLIP" --reviewers 2 \
        --seconds "$SECONDS_PER_STEP" --server-pid "$SERVER" --idle-rss-kb "$IDLE_RSS" \
        --idle-threads "$IDLE_THREADS" --ice-address 10.77.0.2 "${LOGIN[@]}" "${SLOW[@]}" "${LABEL[@]}" $header \
        > "$T/step-$n.out" 2> "$T/step-$n.err" || rc=$?
    header=
    # who asked the publishers for keyframes so far (cumulative; docs/metrics.md): a keyframe is
    # ~10 times a frame's packets, so requests beyond the reviewers' joins cost the whole path
    { exec 4<>"/dev/tcp/127.0.0.1/$PORT" && printf 'GET /metrics HTTP/1.0\r\n\r\n' >&4 && timeout 5 cat <&4; exec 4<&-; } 2>/dev/null |
        awk '/^kanyan_keyframe_requests_total/ { sub(/.*source="/, ""); sub(/"}/, ""); printf "%s%s %s", sep, $1, $2; sep = ", " }
             END { if (sep) printf "\n" }' | sed 's/^/keyframe requests so far by source: /' >&2
    if ! step_result "" "$n"; then
        failed=1 KEEP=1
        [ -n "$ANCHOR" ] || break    # with the anchor, it still runs this step, then the ramp ends
    fi
    if ! kill -0 "$SERVER" 2>/dev/null; then
        echo "bench: the server died during step $n" >&2
        tail -n 30 "$T/server.log" >&2
        failed=1 KEEP=1
        break
    fi
    if [ "$failed" = 0 ] && over_limit "${ANCHOR:+Kanyan}" && [ -z "$ANCHOR" ]; then break; fi   # with the anchor, it runs this step too
    [ "$SMOKE" = 1 ] || sleep 4    # the step's rooms close (linger 2 s) before the next one
    if [ -n "$ANCHOR" ]; then
        # the same step against the anchor: one room per inspection, no cases, no accounts
        rc=0
        timeout -k 5 $((SECONDS_PER_STEP + 60)) \
        build/bench-loadgen "${ANCHOR_ARGS[@]}" --inspections "$n" \
            --clip "$CLIP" --reviewers 2 --seconds "$SECONDS_PER_STEP" --server-pid "$ANCHOR_PID" \
            --idle-rss-kb "$ANCHOR_IDLE_RSS" --idle-threads "$ANCHOR_IDLE_THREADS" --ice-address 10.77.0.2 \
            --label "$ANCHOR_NAME" > "$T/step-$n-anchor.out" 2> "$T/step-$n-anchor.err" || rc=$?
        kanyan_result=$result
        if ! step_result -anchor "$n"; then
            failed=1 KEEP=1
            break
        fi
        [ "$failed" = 0 ] || break
        if ! kill -0 "$ANCHOR_PID" 2>/dev/null; then
            echo "bench: $ANCHOR_NAME died during step $n" >&2
            tail -n 30 "$T/anchor.log" >&2
            failed=1 KEEP=1
            break
        fi
        [ -z "$stop" ] && over_limit "$ANCHOR_NAME" || true
        result=$kanyan_result
        sleep 4                     # the anchor hangs the step's sessions up
        rm -rf "$T/janus-rec"/*     # Janus's recordings (raw RTP, .mjr) are not needed
    fi
    [ -n "$stop" ] && break
done
echo
[ -n "$stop" ] && echo "Stopped: $stop."
for n in $STEPS; do
    [ -f "$T/step-$n.out" ] && grep "^RESULT" "$T/step-$n.out"
    [ -f "$T/step-$n-anchor.out" ] && grep "^RESULT" "$T/step-$n-anchor.out" | sed "s/^RESULT/RESULT $ANCHOR/"
done
# where each server's CPU went, by kind of thread (% of a core / how many threads; loadgen.c)
for n in $STEPS; do
    [ -f "$T/step-$n.out" ] && grep "^THREADS" "$T/step-$n.out" | sed "s/^THREADS/CPU by thread at $n (Kanyan):/"
    [ -f "$T/step-$n-anchor.out" ] && grep "^THREADS" "$T/step-$n-anchor.out" | sed "s/^THREADS/CPU by thread at $n ($ANCHOR):/"
done

# The side-by-side table: ratio = Kanyan / the anchor. CPU per delivered packet (core-µs per RTP
# packet the reviewers received) stays comparable when a busy machine starves the generator
# and fewer packets flow than the step asked for (then pkt/s delivered < 2 × 269 × N).
side_by_side() {
    echo
    local a=$ANCHOR_NAME
    echo "Kanyan and $a side by side (server process only; ratio = Kanyan / $a):"
    echo "| inspections | CPU % of a core per inspection: Kanyan | $a | ratio | CPU µs per packet delivered: Kanyan | $a | ratio | RSS MB per inspection: Kanyan | $a | ratio | threads per inspection: Kanyan | $a | ratio | RTP pkt/s delivered: Kanyan | $a | loss % Kanyan | $a | join→keyframe ms p50 Kanyan | $a | relay latency ms p50 / p99 Kanyan | $a | machine busy % Kanyan / $a |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    local n
    for n in $STEPS; do
        [ -f "$T/step-$n.out" ] && [ -f "$T/step-$n-anchor.out" ] || continue
        { grep '^RESULT' "$T/step-$n.out"; grep '^RESULT' "$T/step-$n-anchor.out"; } | awk '
            { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[NR, kv[1]] = kv[2] } }
            function ratio(a, b) { return (b > 0) ? sprintf("%.1f×", a / b) : "–" }
            function per_pkt(r) { return v[r, "pkt_out"] > 0 ? 1e4 * v[r, "server_cpu"] / v[r, "pkt_out"] : 0 }
            END {
                if (NR < 2) exit
                printf "| %s | %.1f | %.1f | %s | %.1f | %.1f | %s | %.1f | %.1f | %s | %.1f | %.1f | %s | %.0f | %.0f | %.2f | %.2f | %s | %s | %s / %s | %s / %s | %.0f / %.0f |\n",
                    v[1, "inspections"], v[1, "cpu_per"], v[2, "cpu_per"], ratio(v[1, "cpu_per"], v[2, "cpu_per"]),
                    per_pkt(1), per_pkt(2), ratio(per_pkt(1), per_pkt(2)),
                    v[1, "rss_per_mb"], v[2, "rss_per_mb"], ratio(v[1, "rss_per_mb"], v[2, "rss_per_mb"]),
                    v[1, "threads_per"], v[2, "threads_per"], ratio(v[1, "threads_per"], v[2, "threads_per"]),
                    v[1, "pkt_out"], v[2, "pkt_out"], v[1, "loss"], v[2, "loss"], v[1, "key_p50"], v[2, "key_p50"],
                    v[1, "lat_p50"], v[1, "lat_p99"], v[2, "lat_p50"], v[2, "lat_p99"], v[1, "busy"], v[2, "busy"]
            }'
    done
}
[ -n "$ANCHOR" ] && side_by_side

if [ "$PROFILE" = 1 ]; then
    stop_server 120    # callgrind writes its profile as the server exits
    out=$CACHE/callgrind-1-inspection.txt
    callgrind_annotate --inclusive=no "$T/callgrind.out" 2>/dev/null | head -60 > "$out" || true
    callgrind_annotate --inclusive=yes "$T/callgrind.out" 2>/dev/null | head -80 > "${out%.txt}-inclusive.txt" || true
    cp "$T/callgrind.out" "$CACHE/callgrind.out"
    echo "profile: $out, ${out%.txt}-inclusive.txt and $CACHE/callgrind.out"
fi

if [ "$failed" = 0 ] && [ "$FINALIZE" = 1 ]; then
    finalize_bench || { echo "bench: finalization failed" >&2; failed=1; }
fi
if [ "$failed" != 0 ]; then
    echo "bench: FAILED" >&2
    exit 1
fi
echo "bench: ok"
