#!/usr/bin/env bash
# relay_bench.sh: the real relayd against a trivial forwarder (issue #4).
#
#   bench/relay_bench.sh BUILD_DIR [all|load|memory]
#
# Builds nothing: BUILD_DIR must hold relayd, bench/relay_load and
# bench/relay_trivial_forwarder (use a Release or RelWithDebInfo build
# without sanitizers). Sessions are created the way proxyd creates them:
# a relay INVITE per session on relayd's SIP control port, ACKing each 302
# and reading the relay port from its SDP (tests/integration/relayd_client.py
# bulk, up to 64 INVITEs in flight).
#   load:   1,000 sessions at 50 packets/s each way (a 20 ms ptime call),
#           172-byte packets, 10 s, through the trivial forwarder and then
#           through relayd; then both again at the most the load generator
#           can offer, 5 s each. Prints offered/forwarded pps, loss,
#           one-way added latency p50/p99 (send call to the kernel's receive
#           stamp at the far endpoint), relay CPU from /proc/PID/stat,
#           relayd's resident memory per session (VmRSS growth while the
#           sessions are set up over SIP, divided by their number), and
#           relay/trivial.
#   memory: asks relayd for 20,000 sessions over SIP and reports how many it
#           made, the memory per session and what stopped it; then splits a
#           session's heap from its setup transaction's with
#           bench/relay_control_heap (in-process, the same control code).
# Loopback only (127.0.0.1); bounded (< 2 minutes); every process it starts
# is stopped on exit.
set -euo pipefail

BUILD=${1:?usage: relay_bench.sh BUILD_DIR [all|load|memory]}
MODE=${2:-all}
BIN=$BUILD/bench
HERE=$(cd "$(dirname "$0")" && pwd)
CLIENT="python3 $HERE/../tests/integration/relayd_client.py"
for tool in "$BUILD/relayd" "$BIN/relay_load" "$BIN/relay_trivial_forwarder"; do
    [[ -x $tool ]] || { echo "relay_bench: $tool missing (build relayd and the bench targets)" >&2; exit 2; }
done

SESSIONS=1000
PPS=50
DURATION=10
SAT_PPS=150      # per direction per session, with bursts: beyond the generator
SAT_BURST=8
SAT_DURATION=5
PORT_MIN=20000   # below the ephemeral range (32768-) the endpoints bind in
HZ=$(getconf CLK_TCK)
# The relay on one core, the load generator on another (when there are two):
# they never fight over a core, and runs compare better on a busy machine.
if [[ $(nproc) -ge 2 ]] && command -v taskset >/dev/null; then
    PIN_RELAY=(taskset -c 1)
    PIN_LOAD=(taskset -c 0)
else
    PIN_RELAY=()
    PIN_LOAD=()
fi

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

rss_kb() {
    awk '/^VmRSS:/ {print $2}' "/proc/$1/status"
}

free_udp_port() {
    python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_ready() {
    local out=$1 pid=$2 pat=$3
    for _ in $(seq 100); do
        grep -q "$pat" "$out" 2>/dev/null && return 0
        kill -0 "$pid" 2>/dev/null || { cat "$out" >&2; return 1; }
        sleep 0.05
    done
    echo "relay_bench: $out never became ready" >&2
    return 1
}

# start_relayd PORT_MAX OUT [prlimit args]: relayd on 127.0.0.1 with the
# bench (any port on 127.0.0.1) as its proxy; sets TARGET_PID and RELAY_SIP.
start_relayd() {
    local port_max=$1 out=$2
    shift 2
    RELAY_SIP=$(free_udp_port)
    cat >"$WORK/relayd.conf" <<CONF
listen = "127.0.0.1:$RELAY_SIP";
media_address = "127.0.0.1";
port_min = $PORT_MIN; port_max = $port_max;
proxies = [ "127.0.0.1" ];
session_timeout = 600;
log_level = "notice";
CONF
    "$@" "$BUILD/relayd" -f -c "$WORK/relayd.conf" >"$out" 2>&1 &
    TARGET_PID=$!
    PIDS+=("$TARGET_PID")
    wait_ready "$out" "$TARGET_PID" "started"
}

# create_sessions N PORTSFILE [--stop-on-refusal]: relay INVITEs over SIP;
# leaves "k=v" in CREATED (asked=, created=, statuses=, rss_before_kb=,
# rss_after_kb=, rss_per_session_b=, setup_s=).
create_sessions() {
    local n=$1 ports=$2 rss0 rss1 t0 t1 made line
    shift 2
    rss0=$(rss_kb "$TARGET_PID")
    t0=$(date +%s.%N)
    line=$($CLIENT bulk "$RELAY_SIP" 0 "$n" "bench-$$" "$ports" "$@")
    t1=$(date +%s.%N)
    sleep 0.5
    rss1=$(rss_kb "$TARGET_PID")
    made=$(kv created "$line")
    CREATED="$line rss_before_kb=$rss0 rss_after_kb=$rss1 setup_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", b - a}')"
    CREATED="$CREATED rss_per_session_b=$(awk -v a="$rss0" -v b="$rss1" -v n="$made" 'BEGIN {printf "%.0f", n ? (b - a) * 1024 / n : 0}')"
}

# start_target KIND PORTSFILE OUT: the trivial forwarder, or relayd with
# $SESSIONS sessions made over SIP; sets TARGET_PID.
start_target() {
    local kind=$1 ports=$2 out=$3
    if [[ $kind == trivial ]]; then
        "${PIN_RELAY[@]}" "$BIN/relay_trivial_forwarder" --port-min $PORT_MIN --count $SESSIONS --ports "$ports" >"$out" &
        TARGET_PID=$!
        PIDS+=("$TARGET_PID")
        wait_ready "$out" "$TARGET_PID" '^ready'
        CREATED="created=$SESSIONS rss_per_session_b=-"
    else
        start_relayd $((PORT_MIN + 4 * SESSIONS - 1)) "$out" "${PIN_RELAY[@]}"
        create_sessions $SESSIONS "$ports"
        [[ $(kv created "$CREATED") == "$SESSIONS" ]] || { echo "relay_bench: $CREATED" >&2; return 1; }
    fi
}

stop_target() {
    kill "$TARGET_PID" 2>/dev/null || true
    wait "$TARGET_PID" 2>/dev/null || true
}

# run_load KIND PPS BURST DURATION: one run; leaves "k=v" results in RESULT.
run_load() {
    local kind=$1 pps=$2 burst=$3 duration=$4
    local ports=$WORK/$kind.ports out=$WORK/$kind.out t0 t1 c0 c1 load rss1
    start_target "$kind" "$ports" "$out"
    c0=$(cpu_ticks "$TARGET_PID")
    t0=$(date +%s.%N)
    load=$("${PIN_LOAD[@]}" "$BIN/relay_load" --ports "$ports" --sessions $SESSIONS --pps "$pps" --burst "$burst" \
        --duration "$duration")
    t1=$(date +%s.%N)
    c1=$(cpu_ticks "$TARGET_PID")
    rss1=$(rss_kb "$TARGET_PID")
    stop_target
    local fwd cpu_pct us_per_pkt
    fwd=$(kv received "$load")
    cpu_pct=$(awk -v c=$((c1 - c0)) -v hz="$HZ" -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", 100 * c / hz / (b - a)}')
    us_per_pkt=$(awk -v c=$((c1 - c0)) -v hz="$HZ" -v n="$fwd" 'BEGIN {printf "%.2f", n ? 1e6 * c / hz / n : 0}')
    RESULT="$load cpu_pct=$cpu_pct cpu_us_per_pkt=$us_per_pkt rss_kb=$rss1 $CREATED"
}

row() {
    printf '  %-36s %14s %14s\n' "$1" "$(kv "$2" "$TRIV")" "$(kv "$2" "$RELAY")"
}

report() {
    local title=$1
    echo "$title"
    printf '  %-36s %14s %14s\n' "" "trivial" "relayd"
    row "offered packets/s" offered_pps
    row "forwarded packets/s" forwarded_pps
    row "loss %" loss_pct
    row "added latency p50 (us)" lat_p50_us
    row "added latency p99 (us)" lat_p99_us
    row "added latency p99.9 (us)" lat_p999_us
    row "forwarder CPU % (1 core = 100)" cpu_pct
    row "forwarder CPU us per packet" cpu_us_per_pkt
    row "forwarder VmRSS (KiB)" rss_kb
    row "RSS per session over SIP (bytes)" rss_per_session_b
    printf '  %-36s %14s %14s\n' "sessions set up over SIP (s)" "-" "$(kv setup_s "$RELAY")"
    awk -v r="$(kv forwarded_pps "$RELAY")" -v t="$(kv forwarded_pps "$TRIV")" \
        'BEGIN {printf "  relayd/trivial forwarded pps: %.3f\n", t ? r / t : 0}'
    awk -v r="$(kv cpu_us_per_pkt "$RELAY")" -v t="$(kv cpu_us_per_pkt "$TRIV")" \
        'BEGIN {printf "  relayd/trivial CPU per packet: %.3f\n", t ? r / t : 0}'
}

load_mode() {
    echo "== relayd benchmark on 127.0.0.1, $(nproc) cores: $SESSIONS sessions made over SIP, 172-byte packets =="
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
    local want=20000 out=$WORK/memory.out need hard opts=()
    need=$((2 * want + 64))
    hard=$(ulimit -Hn)
    echo "-- memory: $want sessions of one stream (RTP + RTCP sockets each) asked of relayd over SIP"
    # Two descriptors per session: try to give relayd enough (needs
    # CAP_SYS_RESOURCE above the hard limit).
    if [[ $hard != unlimited && $hard -lt $need ]] && prlimit --nofile=$need:$need true 2>/dev/null; then
        opts=(prlimit --nofile=$need:$need)
    fi
    start_relayd $((PORT_MIN + 2 * want - 1)) "$out" "${opts[@]}"
    local limit
    limit=$(awk '/Max open files/ {print $4}' "/proc/$TARGET_PID/limits")
    # no new INVITE after the first 503: the VmRSS growth is then the
    # sessions' (and their live setup transactions'), not refused calls'
    create_sessions $want "$WORK/memory.ports" --stop-on-refusal
    local made
    made=$(kv created "$CREATED")
    printf '  sessions created              %s of %s (INVITEs sent %s, answers other than 302: %s; %s s)\n' \
        "$made" "$want" "$(kv asked "$CREATED")" "$(kv statuses "$CREATED")" "$(kv setup_s "$CREATED")"
    printf '  VmRSS before / after (KiB)    %s / %s\n' "$(kv rss_before_kb "$CREATED")" "$(kv rss_after_kb "$CREATED")"
    printf '  VmRSS per session (bytes)     %s (setup transactions still alive)\n' "$(kv rss_per_session_b "$CREATED")"
    if [[ $made != "$want" ]]; then
        printf '  stopped by: RLIMIT_NOFILE %s in relayd (hard limit here %s; %s sessions need %s descriptors;\n' \
            "$limit" "$hard" "$want" "$need"
        printf '              raising it needs CAP_SYS_RESOURCE: %s)\n' \
            "$(prlimit --nofile=$need:$need true 2>&1 | head -1 || true)"
        grep -m1 -E "RLIMIT_NOFILE|file descriptors" "$out" | sed 's/^/  relayd: /' || true
    fi
    stop_target
    heap_mode
}

# The same control path in-process (bench/relay_control_heap): the heap a
# session holds once its INVITE transaction has ended, apart from the
# transaction's transient memory that VmRSS above includes.
heap_mode() {
    local line n=5000
    [[ -x $BIN/relay_control_heap ]] || { echo "  (bench/relay_control_heap not built: heap split skipped)"; return 0; }
    line=$("$BIN/relay_control_heap" --sessions $n --port-min $PORT_MIN) || true
    echo "-- heap split, $n sessions through relayd's SIP control in-process (relay_control_heap)"
    printf '  heap per session, INVITE transactions alive   %s bytes\n' "$(kv heap_per_session_with_txn_b "$line")"
    printf '  heap per session, transactions ended (T4)     %s bytes\n' "$(kv heap_per_session_b "$line")"
    printf '  VmRSS per session (glibc keeps freed pages)    %s bytes\n' "$(kv rss_per_session_after_b "$line")"
}

case $MODE in
all) load_mode; memory_mode ;;
load) load_mode ;;
memory) memory_mode ;;
*) echo "usage: relay_bench.sh BUILD_DIR [all|load|memory]" >&2; exit 2 ;;
esac
