#!/usr/bin/env bash
# relay_bench.sh: relayd's media path against a trivial forwarder (issue #4).
#
#   bench/relay_bench.sh BUILD_DIR [all|load|memory]
#
# Builds nothing: BUILD_DIR must hold bench/relay_load,
# bench/relay_trivial_forwarder and bench/relay_media_harness (use a
# Release or RelWithDebInfo build without sanitizers).
#   load:   the same load through the trivial forwarder and through relayd's
#           media path (harness): 1,000 sessions at 50 packets/s each way
#           (a 20 ms ptime call), 172-byte packets, 10 s each; then both
#           again at the most the load generator can offer, 5 s each.
#           Prints offered/forwarded pps, loss, latency p50/p99 (send call
#           to the kernel's receive stamp at the far endpoint), relay CPU
#           from /proc/PID/stat, memory per session, and relay/trivial.
#   memory: allocates 20,000 sessions (40,000 sockets) and reports memory.
# Loopback only (127.0.0.1); bounded (< 2 minutes); every process it starts
# is stopped on exit.
set -euo pipefail

BUILD=${1:?usage: relay_bench.sh BUILD_DIR [all|load|memory]}
MODE=${2:-all}
BIN=$BUILD/bench
for tool in relay_load relay_trivial_forwarder relay_media_harness; do
    [[ -x $BIN/$tool ]] || { echo "relay_bench: $BIN/$tool missing (build the bench targets)" >&2; exit 2; }
done

SESSIONS=1000
PPS=50
DURATION=10
SAT_PPS=150      # per direction per session, with bursts: beyond the generator
SAT_BURST=8
SAT_DURATION=5
PORT_MIN=20000   # below the ephemeral range (32768-) the endpoints bind in
HZ=$(getconf CLK_TCK)

WORK=$(mktemp -d /tmp/relay_bench.XXXXXX)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# kv KEY LINE: the value of KEY=... in a "k=v k=v" line.
kv() {
    sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2"
}

cpu_ticks() {
    awk '{print $14 + $15}' "/proc/$1/stat"
}

wait_ready() {
    local out=$1 pid=$2
    for _ in $(seq 100); do
        grep -q '^ready' "$out" 2>/dev/null && return 0
        kill -0 "$pid" 2>/dev/null || { cat "$out" >&2; return 1; }
        sleep 0.05
    done
    echo "relay_bench: $out never became ready" >&2
    return 1
}

# start_target KIND PORTSFILE OUT: starts the forwarder or the harness for
# $SESSIONS sessions; sets TARGET_PID.
start_target() {
    local kind=$1 ports=$2 out=$3
    if [[ $kind == trivial ]]; then
        "$BIN/relay_trivial_forwarder" --port-min $PORT_MIN --count $SESSIONS --ports "$ports" >"$out" &
    else
        "$BIN/relay_media_harness" --port-min $PORT_MIN --port-max $((PORT_MIN + 4 * SESSIONS - 1)) \
            --sessions $SESSIONS --ports "$ports" >"$out" 2>"$out.err" &
    fi
    TARGET_PID=$!
    PIDS+=("$TARGET_PID")
    wait_ready "$out" "$TARGET_PID"
}

stop_target() {
    kill "$TARGET_PID" 2>/dev/null || true
    wait "$TARGET_PID" 2>/dev/null || true
}

# run_load KIND PPS BURST DURATION: one run; leaves "k=v" results in RESULT.
run_load() {
    local kind=$1 pps=$2 burst=$3 duration=$4
    local ports=$WORK/$kind.ports out=$WORK/$kind.out t0 t1 c0 c1 load
    start_target "$kind" "$ports" "$out"
    local rss0
    rss0=$(awk '/^VmRSS:/ {print $2}' "/proc/$TARGET_PID/status")
    c0=$(cpu_ticks "$TARGET_PID")
    t0=$(date +%s.%N)
    load=$("$BIN/relay_load" --ports "$ports" --sessions $SESSIONS --pps "$pps" --burst "$burst" \
        --duration "$duration")
    t1=$(date +%s.%N)
    c1=$(cpu_ticks "$TARGET_PID")
    local rss1
    rss1=$(awk '/^VmRSS:/ {print $2}' "/proc/$TARGET_PID/status")
    stop_target
    local ready per_session="-"
    ready=$(grep '^ready' "$out")
    if [[ $kind == relay ]]; then
        per_session=$(kv rss_per_session_b "$ready")
    fi
    local fwd cpu_pct us_per_pkt
    fwd=$(kv received "$load")
    cpu_pct=$(awk -v c=$((c1 - c0)) -v hz="$HZ" -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", 100 * c / hz / (b - a)}')
    us_per_pkt=$(awk -v c=$((c1 - c0)) -v hz="$HZ" -v n="$fwd" 'BEGIN {printf "%.2f", n ? 1e6 * c / hz / n : 0}')
    RESULT="$load cpu_pct=$cpu_pct cpu_us_per_pkt=$us_per_pkt rss_per_session_b=$per_session rss_kb=$rss1 rss_kb_at_ready=$rss0"
}

row() {
    printf '  %-34s %14s %14s\n' "$1" "$(kv "$2" "$TRIV")" "$(kv "$2" "$RELAY")"
}

report() {
    local title=$1
    echo "$title"
    printf '  %-34s %14s %14s\n' "" "trivial" "relayd media"
    row "offered packets/s" offered_pps
    row "forwarded packets/s" forwarded_pps
    row "loss %" loss_pct
    row "latency p50 (us)" lat_p50_us
    row "latency p99 (us)" lat_p99_us
    row "latency p99.9 (us)" lat_p999_us
    row "forwarder CPU % (1 core = 100)" cpu_pct
    row "forwarder CPU us per packet" cpu_us_per_pkt
    row "forwarder VmRSS (KiB)" rss_kb
    row "RSS per session (bytes)" rss_per_session_b
    awk -v r="$(kv forwarded_pps "$RELAY")" -v t="$(kv forwarded_pps "$TRIV")" \
        'BEGIN {printf "  relay/trivial forwarded pps: %.3f\n", t ? r / t : 0}'
    awk -v r="$(kv cpu_us_per_pkt "$RELAY")" -v t="$(kv cpu_us_per_pkt "$TRIV")" \
        'BEGIN {printf "  relay/trivial CPU per packet: %.3f\n", t ? r / t : 0}'
}

load_mode() {
    echo "== relay media benchmark on 127.0.0.1, $(nproc) cores: $SESSIONS sessions, 172-byte packets =="
    run_load trivial $PPS 1 $DURATION
    TRIV=$RESULT
    run_load relay $PPS 1 $DURATION
    RELAY=$RESULT
    report "-- steady load: $PPS pps per direction per session ($((2 * SESSIONS * PPS)) pps offered), ${DURATION}s each"
    run_load trivial $SAT_PPS $SAT_BURST $SAT_DURATION
    TRIV=$RESULT
    run_load relay $SAT_PPS $SAT_BURST $SAT_DURATION
    RELAY=$RESULT
    report "-- saturation: as much as the load generator can offer (target $((2 * SESSIONS * SAT_PPS)) pps, bursts of $SAT_BURST), ${SAT_DURATION}s each"
    echo "  (2 cores: the load generator and the forwarder each take one; at saturation the"
    echo "   generator is the limit, so compare CPU per packet rather than forwarded pps)"
}

memory_mode() {
    local want=20000 out=$WORK/memory.out line made
    echo "-- memory: $want sessions of one stream (RTP + RTCP sockets each)"
    set +e
    "$BIN/relay_media_harness" --port-min $PORT_MIN --port-max $((PORT_MIN + 2 * want - 1)) \
        --sessions $want --ports "$WORK/memory.ports" --setup-only >"$out" 2>"$out.err"
    set -e
    line=$(grep '^ready' "$out" || true)
    made=$(kv sessions "$line")
    printf '  sessions created             %s of %s\n' "$made" "$want"
    printf '  VmRSS before / after (KiB)   %s / %s\n' "$(kv rss_before_kb "$line")" "$(kv rss_after_kb "$line")"
    printf '  VmRSS per session (bytes)    %s\n' "$(kv rss_per_session_b "$line")"
    printf '  heap per session (bytes)     %s\n' "$(kv heap_per_session_b "$line")"
    if [[ $made != "$want" ]]; then
        printf '  stopped by: %s (RLIMIT_NOFILE soft %s, hard %s: %s sessions need %s descriptors)\n' \
            "$(kv stop_error "$line" | tr -d '\n')" "$(kv nofile_soft "$line")" "$(ulimit -Hn)" \
            "$want" $((2 * want + 64))
    fi
}

case $MODE in
all) load_mode; memory_mode ;;
load) load_mode ;;
memory) memory_mode ;;
*) echo "usage: relay_bench.sh BUILD_DIR [all|load|memory]" >&2; exit 2 ;;
esac
