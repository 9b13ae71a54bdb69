#!/usr/bin/env bash
# The patent's figure 1 built from Linux network namespaces, with real NAT.
#
#   lab.sh up [--nat port-preserving|symmetric] [--udp-timeout S]
#             [--keepalive S] [--keepalive-11 S] [--keepalive-13 S]
#             [--capture] [--no-daemons]
#   lab.sh down [--keep]          stop everything, delete every namespace
#   lab.sh exec NODE CMD...       run CMD inside NODE's namespace
#   lab.sh addr NODE              the node's address
#   lab.sh password ID            client ID's password (the proxies' users file)
#   lab.sh capture-stop           flush and close the public-segment capture
#   lab.sh crash NODE             kill -9 NODE's daemon, start it again (same store)
#   lab.sh status                 the lab's namespaces and processes
#   lab.sh gc                     remove labs whose owner process is gone
#
# Network 12 (public, 203.0.113.0/24) is a bridge in namespace "sw"; every
# public node is a namespace with one veth into it:
#
#   p11 .11 proxy server 11 (proxyd)       r20 .20 redirect server 20 (redirectd)
#   p13 .13 proxy server 13 (proxyd)       y22 .22 relay server 22 (relayd)
#   c14 .14 client 14 (global address)     x66 .66 an outsider (no role in the patent)
#   nat28 .28 NAT firewall 28 ── LAN 24 192.168.1.0/24 ── c16 192.168.1.10 (client 16)
#   nat30 .30 NAT firewall 30 ── LAN 26 192.168.1.0/24 ── c18 192.168.1.10 (client 18)
#
# Both LANs use the same prefix and both clients the same address: private
# addresses are not unique (patent, figure 1). Each NAT firewall masquerades
# UDP from its LAN (nftables), drops unsolicited inbound traffic, and has
# its own conntrack UDP timeouts (per network namespace).
#   port-preserving: `masquerade persistent` — Linux keeps the source port
#                    when it is free, for every destination (endpoint-
#                    independent mapping);
#   symmetric:       `masquerade random,fully-random` — a random port for
#                    every new destination.
#
# State: LAB_DIR (a directory; `up` creates one with mktemp and prints
# `LAB_DIR=...` when the caller did not export one) holds the state file,
# the daemons' configs, logs, pid and exit-status files, and the capture
# (public.pcapng). Namespaces are named pinhole-OWNER-NODE, OWNER being
# LAB_OWNER (default: the calling process), so `gc` can tell a stale lab
# from a live one. `up` undoes itself when any step fails; `down` is
# idempotent, and exits 1 when a daemon did not stop cleanly (exit status,
# sanitizer report) — its log is kept then.
#
# Daemons: BUILD_DIR/{proxyd,redirectd,relayd} (the sanitizer build under
# ctest), one per namespace, listening on port 5060 of their node.
set -uo pipefail

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC_DIR=${SRC_DIR:-$(cd "$E2E_DIR/../.." && pwd)}
BUILD_DIR=${BUILD_DIR:-$SRC_DIR/build}
PREFIX=pinhole

PUBLIC_NODES=(p11 p13 r20 y22 c14 x66 nat28 nat30)
LAN_NODES=(c16 c18)
declare -A ADDR=(
    [p11]=203.0.113.11 [p13]=203.0.113.13 [r20]=203.0.113.20 [y22]=203.0.113.22
    [c14]=203.0.113.14 [x66]=203.0.113.66 [nat28]=203.0.113.28 [nat30]=203.0.113.30
    [c16]=192.168.1.10 [c18]=192.168.1.10
)
declare -A GATEWAY=([c16]=nat28 [c18]=nat30)
LAN_PREFIX=192.168.1.0/24
LAN_GW=192.168.1.1
RELAY_PORT_MIN=40000
RELAY_PORT_MAX=40099
MONITOR_PORT=5099 # relayd trusts this port of its own address for OPTIONS
STATS_PORT=9090   # relayd's HTTP metrics (/metrics), on its own address

say() { echo "lab: $*" >&2; }
die() { say "$*"; exit 1; }

# ---- state ----

state_get() { # KEY: a value of the state file (empty when unset)
    [ -f "$LAB_DIR/state" ] || return 0
    awk -F= -v k="$1" '$1 == k { sub(/^[^=]*=/, ""); v = $0 } END { print v }' "$LAB_DIR/state"
}
state_set() { echo "$1=$2" >>"$LAB_DIR/state"; }

ns_of() { # NODE: its namespace name
    local owner
    owner=$(state_get owner)
    [ -n "$owner" ] || die "no lab in ${LAB_DIR:-?} (run lab.sh up)"
    echo "$PREFIX-$owner-$1"
}

need_lab_dir() {
    [ -n "${LAB_DIR:-}" ] || die "LAB_DIR is not set"
    [ -d "$LAB_DIR" ] || die "LAB_DIR $LAB_DIR does not exist"
}

in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# ---- up: the network ----

add_ns() { # NODE
    local ns="$PREFIX-$OWNER-$1"
    ip netns add "$ns" || return 1
    state_set ns "$ns"
    in_ns "$ns" ip link set lo up
    # IPv6 autoconfiguration would only add noise to the capture.
    in_ns "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
}

build_switch() {
    local sw="$PREFIX-$OWNER-sw"
    add_ns sw || return 1
    in_ns "$sw" ip link add br0 type bridge || return 1
    in_ns "$sw" ip link set br0 up
}

# A public node: eth0 in its namespace, port NODE on the bridge.
attach_public() { # NODE
    local node=$1 ns="$PREFIX-$OWNER-$1" sw="$PREFIX-$OWNER-sw"
    ip link add eth0 netns "$ns" type veth peer name "$node" netns "$sw" || return 1
    in_ns "$sw" ip link set "$node" master br0 up || return 1
    in_ns "$ns" ip addr add "${ADDR[$node]}/24" dev eth0 || return 1
    in_ns "$ns" ip link set eth0 up
}

# A LAN client behind its NAT firewall: lan0 on the NAT, eth0 on the client.
attach_lan() { # NODE
    local node=$1 ns="$PREFIX-$OWNER-$1" gw="$PREFIX-$OWNER-${GATEWAY[$1]}"
    ip link add eth0 netns "$ns" type veth peer name lan0 netns "$gw" || return 1
    in_ns "$gw" ip addr add "$LAN_GW/24" dev lan0 || return 1
    in_ns "$gw" ip link set lan0 up
    in_ns "$ns" ip addr add "${ADDR[$node]}/24" dev eth0 || return 1
    in_ns "$ns" ip link set eth0 up
    in_ns "$ns" ip route add default via "$LAN_GW" || return 1
}

# NAT firewall 28/30 (patent: address and port translation outbound,
# reverse translation of replies, nothing unsolicited gets in).
nat_firewall() { # NODE
    local ns="$PREFIX-$OWNER-$1" flags
    case "$NAT_MODE" in
    port-preserving) flags=persistent ;;
    symmetric) flags=random,fully-random ;;
    esac
    in_ns "$ns" sysctl -qw net.ipv4.ip_forward=1 || return 1
    in_ns "$ns" nft -f - <<NFT || return 1
table ip nat {
    chain postrouting {
        type nat hook postrouting priority srcnat;
        oifname "eth0" ip saddr $LAN_PREFIX masquerade $flags
    }
}
table inet firewall {
    chain forward {
        type filter hook forward priority filter; policy drop;
        ct state established,related accept
        iifname "lan0" oifname "eth0" accept
    }
}
NFT
    # Per namespace since Linux 4.x; the NAT's bindings expire after these.
    in_ns "$ns" sysctl -qw net.netfilter.nf_conntrack_udp_timeout="$UDP_TIMEOUT" \
        net.netfilter.nf_conntrack_udp_timeout_stream="$UDP_TIMEOUT" || return 1
}

build_network() {
    local node
    build_switch || return 1
    for node in "${PUBLIC_NODES[@]}" "${LAN_NODES[@]}"; do add_ns "$node" || return 1; done
    for node in "${PUBLIC_NODES[@]}"; do attach_public "$node" || return 1; done
    for node in "${LAN_NODES[@]}"; do attach_lan "$node" || return 1; done
    nat_firewall nat28 && nat_firewall nat30
}

# ---- up: capture and daemons ----

# dumpcap on every bridge port, each filtered on what its node sends, so
# every datagram crossing network 12 is recorded exactly once (as it enters
# the bridge), with its public source and destination.
start_capture() {
    local sw="$PREFIX-$OWNER-sw" args=() node i
    for node in "${PUBLIC_NODES[@]}"; do
        args+=(-i "$node" -f "udp and src host ${ADDR[$node]}")
    done
    in_ns "$sw" dumpcap -q "${args[@]}" -w "$LAB_DIR/public.pcapng" \
        </dev/null >"$LAB_DIR/dumpcap.log" 2>&1 &
    state_set capture_pid $!
    for ((i = 0; i < 200; i++)); do
        [ "$(grep -c "Capturing on" "$LAB_DIR/dumpcap.log" 2>/dev/null)" -ge 1 ] && return 0
        kill -0 "$(state_get capture_pid)" 2>/dev/null || break
        sleep 0.05
    done
    cat "$LAB_DIR/dumpcap.log" >&2
    return 1
}

write_configs() {
    local n ka
    cat >"$LAB_DIR/redirectd.conf" <<CONF
store = "sqlite:$LAB_DIR/redirectd.db";
listen = "${ADDR[r20]}:5060";
proxies = [ "${ADDR[p11]}:5060", "${ADDR[p13]}:5060" ];
log_level = "debug";
CONF
    cat >"$LAB_DIR/relayd.conf" <<CONF
listen = "${ADDR[y22]}:5060";
media_address = "${ADDR[y22]}";
port_min = $RELAY_PORT_MIN;
port_max = $RELAY_PORT_MAX;
proxies = [ "${ADDR[p11]}:5060", "${ADDR[p13]}:5060", "${ADDR[y22]}:$MONITOR_PORT" ];
session_timeout = 30;
relatch_after = 5;
stats = "${ADDR[y22]}:$STATS_PORT";
log_level = "debug";
CONF
    for n in 11 13; do
        ka=KEEPALIVE_$n
        cat >"$LAB_DIR/proxyd-$n.conf" <<CONF
listen = "${ADDR[p$n]}:5060";
redirect = "${ADDR[r20]}:5060";
relays = [ "${ADDR[y22]}:5060" ];
nat = { keepalive_interval = ${!ka}; keepalive = "crlf"; max_expires = 120; };
state = "sqlite:$LAB_DIR/proxyd-$n.db";
log_level = "debug";
CONF
        # Digest authentication (issue #14) of clients 14, 16 and 18, as a
        # provider runs it (password: lab_password ID); the other proxy is
        # a peer (figure 2c: proxy 11 -> proxy 13 is not challenged).
        # Debian 12's baresip (libre) and SIPp compute MD5 only and give up
        # on the first challenge they cannot answer ("Function not
        # implemented"), so the lab offers MD5 alone, as an operator with
        # such phones would.
        local other=$((n == 11 ? 13 : 11))
        cat >>"$LAB_DIR/proxyd-$n.conf" <<CONF
auth = { realm = "pinhole.test"; users = "$LAB_DIR/users"; secret = "lab shared secret";
         algorithms = "MD5"; };
peers = [ "${ADDR[p$other]}" ];
CONF
    done
    : >"$LAB_DIR/users"
    for id in 14 16 18; do
        lab_password "$id" | "$BUILD_DIR/pinholectl" user add "$id" --realm pinhole.test \
            --file "$LAB_DIR/users" >/dev/null
    done
}

# lab_password ID: client ID's password in the proxies' users file.
lab_password() { echo "secret-$1"; }

# start_daemon NODE NAME BINARY: in the foreground inside NODE's namespace;
# a watcher subshell records the daemon's exit status in NAME.rc.
start_daemon() {
    local node=$1 name=$2 bin=$3 ns="$PREFIX-$OWNER-$1" i
    (
        ip netns exec "$ns" "$BUILD_DIR/$bin" -f -c "$LAB_DIR/$name.conf" \
            </dev/null >"$LAB_DIR/$name.log" 2>&1 &
        echo $! >"$LAB_DIR/$name.pid"
        wait $!
        echo $? >"$LAB_DIR/$name.rc"
    ) </dev/null >/dev/null 2>&1 &
    state_set daemon "$name"
    for ((i = 0; i < 100; i++)); do
        grep -q "$bin .* started" "$LAB_DIR/$name.log" 2>/dev/null && return 0
        [ -f "$LAB_DIR/$name.rc" ] && break
        sleep 0.05
    done
    say "$name did not start:"
    tail -20 "$LAB_DIR/$name.log" >&2
    return 1
}

# crash NODE: kill -9 the node's daemon and start it again on the same
# config and store (a crash and systemd's Restart=); its log so far is kept
# as NAME.crashed.log.
cmd_crash() {
    local node=${1:-} name bin pid i
    case "$node" in
    p11 | p13) name=proxyd-${node#p} bin=proxyd ;;
    r20) name=redirectd bin=redirectd ;;
    y22) name=relayd bin=relayd ;;
    *) die "crash p11|p13|r20|y22" ;;
    esac
    OWNER=$(state_get owner)
    [ -n "$OWNER" ] || die "no lab owner in $LAB_DIR/state"
    pid=$(cat "$LAB_DIR/$name.pid" 2>/dev/null) || die "$name is not running"
    kill -KILL "$pid" 2>/dev/null
    for ((i = 0; i < 100; i++)); do [ -f "$LAB_DIR/$name.rc" ] && break; sleep 0.05; done
    mv "$LAB_DIR/$name.log" "$LAB_DIR/$name.crashed.log"
    rm -f "$LAB_DIR/$name.rc"
    export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=99}
    export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=98}
    start_daemon "$node" "$name" "$bin"
}

start_daemons() {
    export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=99}
    export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=98}
    local b
    for b in proxyd redirectd relayd; do
        [ -x "$BUILD_DIR/$b" ] || { say "no $BUILD_DIR/$b (set BUILD_DIR)"; return 1; }
    done
    write_configs
    start_daemon r20 redirectd redirectd && start_daemon y22 relayd relayd &&
        start_daemon p11 proxyd-11 proxyd && start_daemon p13 proxyd-13 proxyd
}

cmd_up() {
    NAT_MODE=port-preserving UDP_TIMEOUT=30 KEEPALIVE_11=5 KEEPALIVE_13=5
    local capture=0 daemons=1
    while [ $# -gt 0 ]; do
        case "$1" in
        --nat) NAT_MODE=${2:-}; shift ;;
        --udp-timeout) UDP_TIMEOUT=${2:-}; shift ;;
        --keepalive) KEEPALIVE_11=${2:-}; KEEPALIVE_13=${2:-}; shift ;;
        --keepalive-11) KEEPALIVE_11=${2:-}; shift ;;
        --keepalive-13) KEEPALIVE_13=${2:-}; shift ;;
        --capture) capture=1 ;;
        --no-daemons) daemons=0 ;;
        *) die "up: unknown option $1" ;;
        esac
        shift
    done
    case "$NAT_MODE" in port-preserving | symmetric) ;; *) die "--nat port-preserving|symmetric" ;; esac
    [[ "$UDP_TIMEOUT$KEEPALIVE_11$KEEPALIVE_13" =~ ^[0-9]+$ ]] || die "timeouts are seconds"

    local own_dir=0
    if [ -z "${LAB_DIR:-}" ]; then
        LAB_DIR=$(mktemp -d /tmp/pinhole-lab.XXXXXX) || die "mktemp failed"
        own_dir=1
    fi
    # A caller's LAB_DIR lives inside its own directory (never "/x" or relative).
    [[ "$LAB_DIR" =~ ^/[^/]+/. ]] || die "LAB_DIR must be an absolute path below a directory"
    [ -d "$LAB_DIR" ] || mkdir "$LAB_DIR" || die "cannot create $LAB_DIR"
    [ -s "$LAB_DIR/state" ] && [ -z "$(state_get down)" ] && die "$LAB_DIR already holds a lab"
    OWNER=${LAB_OWNER:-$PPID}
    [ -e "/run/netns/$PREFIX-$OWNER-sw" ] && die "a lab of process $OWNER already exists"
    : >"$LAB_DIR/state"
    state_set owner "$OWNER"
    state_set own_dir "$own_dir"
    state_set nat "$NAT_MODE"
    state_set udp_timeout "$UDP_TIMEOUT"

    # Any failure from here on removes what was built.
    trap 'say "interrupted"; cmd_down >/dev/null 2>&1; exit 1' INT TERM
    if ! build_network; then
        say "building the network failed"; cmd_down --keep >/dev/null 2>&1; exit 1
    fi
    if [ "$capture" = 1 ] && ! start_capture; then
        say "dumpcap did not start"; cmd_down --keep >/dev/null 2>&1; exit 1
    fi
    if [ "$daemons" = 1 ] && ! start_daemons; then
        say "a daemon did not start (logs in $LAB_DIR)"; cmd_down --keep >/dev/null 2>&1; exit 1
    fi
    trap - INT TERM
    say "up: $NAT_MODE NAT, UDP conntrack timeout ${UDP_TIMEOUT}s, keepalives" \
        "P11 ${KEEPALIVE_11}s P13 ${KEEPALIVE_13}s, state in $LAB_DIR"
    [ "$own_dir" = 1 ] && echo "LAB_DIR=$LAB_DIR"
    return 0
}

# ---- down ----

# Waits up to SECS for PID (not our child) to be gone.
wait_gone() {
    local pid=$1 secs=$2 i
    for ((i = 0; i < secs * 20; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.05
    done
    return 1
}

# SIGTERM; expect exit 0 and no sanitizer report. A daemon still finishing
# in-flight work after 3 s (proxyd drains calls in set-up for up to 64*T1)
# gets the second SIGTERM an operator would send, and must then stop
# within 10 s.
stop_daemon() {
    local name=$1 pid rc i
    pid=$(cat "$LAB_DIR/$name.pid" 2>/dev/null) || return 0
    [ -f "$LAB_DIR/$name.rc" ] && [ -n "$(state_get "stopped_$name")" ] && return 0
    kill -TERM "$pid" 2>/dev/null
    if ! wait_gone "$pid" 3; then
        say "$name still draining after 3 s: second SIGTERM"
        kill -TERM "$pid" 2>/dev/null
    fi
    if ! wait_gone "$pid" 10; then
        say "FAIL: $name did not stop within 10 s of SIGTERM"
        kill -KILL "$pid" 2>/dev/null
        return 1
    fi
    for ((i = 0; i < 40; i++)); do [ -f "$LAB_DIR/$name.rc" ] && break; sleep 0.05; done
    rc=$(cat "$LAB_DIR/$name.rc" 2>/dev/null || echo "?")
    state_set "stopped_$name" 1
    if grep -qE "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$LAB_DIR/$name.log"; then
        say "FAIL: $name: sanitizer report"
        grep -B2 -A25 -E "Sanitizer|runtime error" "$LAB_DIR/$name.log" | head -60 >&2
        return 1
    fi
    if [ "$rc" != 0 ]; then
        say "FAIL: $name exited $rc"; tail -20 "$LAB_DIR/$name.log" >&2
        return 1
    fi
    say "$name stopped cleanly"
}

cmd_capture_stop() {
    local pid
    pid=$(state_get capture_pid)
    [ -n "$pid" ] && [ -z "$(state_get capture_stopped)" ] || return 0
    state_set capture_stopped 1
    # dumpcap finishes the file on SIGTERM within about a second.
    kill -TERM "$pid" 2>/dev/null || return 0
    wait_gone "$pid" 5 || kill -KILL "$pid" 2>/dev/null
    return 0
}

# Everything still running inside a namespace of ours was started by this
# lab (daemons, SIPp, tools): end it by pid.
kill_ns_pids() {
    local ns=$1 pids sig
    for sig in TERM KILL; do
        pids=$(ip netns pids "$ns" 2>/dev/null)
        [ -n "$pids" ] || return 0
        # shellcheck disable=SC2086
        kill -"$sig" $pids 2>/dev/null
        sleep 0.2
    done
}

cmd_down() {
    local keep=0 bad=0 name ns
    [ "${1:-}" = --keep ] && keep=1
    [ -n "${LAB_DIR:-}" ] && [ -f "$LAB_DIR/state" ] || return 0
    [ -n "$(state_get down)" ] && return 0
    for name in $(awk -F= '$1 == "daemon" { print $2 }' "$LAB_DIR/state"); do
        stop_daemon "$name" || bad=1
    done
    cmd_capture_stop
    for ns in $(awk -F= '$1 == "ns" { print $2 }' "$LAB_DIR/state"); do
        kill_ns_pids "$ns"
        ip netns del "$ns" 2>/dev/null
    done
    state_set down 1
    if [ "$bad" = 1 ] || [ "$keep" = 1 ] || [ "$(state_get own_dir)" != 1 ]; then
        [ "$bad" = 1 ] && say "logs kept in $LAB_DIR"
    else
        rm -rf "$LAB_DIR"
    fi
    return "$bad"
}

# ---- the rest ----

cmd_gc() {
    local f ns owner
    for f in /run/netns/"$PREFIX"-*; do
        [ -e "$f" ] || continue
        ns=${f##*/}
        owner=${ns#"$PREFIX"-}
        owner=${owner%%-*}
        [[ "$owner" =~ ^[0-9]+$ ]] || continue
        kill -0 "$owner" 2>/dev/null && continue
        say "removing stale namespace $ns (owner $owner is gone)"
        kill_ns_pids "$ns"
        ip netns del "$ns" 2>/dev/null
    done
    return 0
}

cmd_status() {
    need_lab_dir
    local ns
    echo "lab in $LAB_DIR: $(state_get nat) NAT, UDP timeout $(state_get udp_timeout)s"
    for ns in $(awk -F= '$1 == "ns" { print $2 }' "$LAB_DIR/state"); do
        printf '  %-24s %s\n' "$ns" "$(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')"
    done
}

main() {
    local cmd=${1:-}
    shift || true
    case "$cmd" in
    up) cmd_up "$@" ;;
    down) need_lab_dir; cmd_down "$@" ;;
    exec)
        need_lab_dir
        [ $# -ge 2 ] || die "exec NODE CMD..."
        local ns
        ns=$(ns_of "$1") || exit 1
        shift
        exec ip netns exec "$ns" "$@"
        ;;
    addr) [ -n "${ADDR[${1:-}]:-}" ] || die "no node ${1:-}"; echo "${ADDR[$1]}" ;;
    password) [ -n "${1:-}" ] || die "password ID"; lab_password "$1" ;;
    capture-stop) need_lab_dir; cmd_capture_stop ;;
    crash) need_lab_dir; cmd_crash "$@" ;;
    status) cmd_status ;;
    gc) cmd_gc ;;
    *) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
    esac
}

main "$@"
