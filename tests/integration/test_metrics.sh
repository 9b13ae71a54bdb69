#!/usr/bin/env bash
# Metrics and pinholectl (issue #8): each daemon serves Prometheus text on
# its `stats` address, the values move as traffic flows, the JSON tables
# show the state pinholectl prints, SIGHUP moves (or refuses to move, or
# stops) the stats address without losing state, and every series a
# daemon serves is documented in docs/operations.md.
source "$(dirname "$0")/lib.sh"

CLIENT="python3 $SRC_DIR/tests/integration/metrics_client.py"
CTL="$BUILD_DIR/pinholectl"

free_tcp_port() {
    python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
# scrape NAME PORT: /metrics of 127.0.0.1:PORT into $WORK/NAME.prom.
scrape() { $CLIENT scrape "$2" metrics >"$WORK/$1.prom"; }
# value NAME SERIES: the series' value in $WORK/NAME.prom (0 when absent:
# sparse series are left out while zero).
value() { awk -v k="$2" '$1 == k { print $2; f = 1 } END { if (!f) print 0 }' "$WORK/$1.prom"; }
# expect NAME SERIES WANT
expect() {
    local got
    got=$(value "$1" "$2")
    if [ "$got" = "$3" ]; then pass "$1: $2 = $3"; else fail "$1: $2 is $got, want $3"; fi
}
# documented NAME: every series name in $WORK/NAME.prom is in the docs.
documented() {
    local missing
    missing=$(awk '/^# TYPE/ { print $3 }' "$WORK/$1.prom" | while read -r m; do
        grep -q "\`$m\`" "$SRC_DIR/docs/operations.md" || echo "$m"
    done)
    [ -z "$missing" ] || { echo "undocumented: $missing"; return 1; }
}
# format_ok NAME: every line is a comment or `name{labels} integer`.
format_ok() {
    ! grep -vE '^(# (HELP|TYPE) [a-z_:][a-z0-9_:]* .+|[a-z_:][a-z0-9_:]*(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? [0-9]+)$' \
        "$WORK/$1.prom"
}

P=$(free_port); R=$(free_port); Y=$(free_port)
S_PROXY=$(free_tcp_port); S_REDIR=$(free_tcp_port); S_RELAY=$(free_tcp_port)

# ---------------------------------------------------------------- redirectd
write_redirectd() { # STATS_LINE
    cat >"$WORK/redirectd.conf" <<CONF
store = "sqlite:$WORK/redirectd.db";
listen = "127.0.0.1:$R";
proxies = [ "127.0.0.1:$P" ];
$1
CONF
}
write_redirectd "stats = \"127.0.0.1:$S_REDIR\";"
start_daemon redirectd "$WORK/redirectd.conf"
RD=$LAST_PID
check "redirectd logs where stats are served" wait_log redirectd "stats: .*127.0.0.1:$S_REDIR" 1

check "redirectd: /metrics answers" scrape rd0 "$S_REDIR"
check "redirectd: the exposition format holds line by line" format_ok rd0
expect rd0 'pinhole_info{daemon="redirectd",version="0.1.0"}' 1
expect rd0 'pinhole_sip_requests_total{method="REGISTER"}' 0
expect rd0 'pinhole_redirectd_bindings' 0
check "redirectd: every series is documented" documented rd0

check "a REGISTER from the proxy is answered 200" \
    test "$($CLIENT register "$R" "$P" alice a1-twice)" = 200
check "a REGISTER from elsewhere is answered 403" \
    test "$($CLIENT register "$R" "$(free_port)" mallory m1)" = 403
$CLIENT garbage "$R"
sleep 0.2
scrape rd1 "$S_REDIR"
# mallory's is refused on its first line, before any parse (issue #15):
# counted as forbidden, not as a request
expect rd1 'pinhole_sip_requests_total{method="REGISTER"}' 1
expect rd1 'pinhole_txn_absorbed_total' 1
expect rd1 'pinhole_sip_responses_total{code="200"}' 1
expect rd1 'pinhole_sip_responses_total{code="403"}' 1
expect rd1 'pinhole_sip_forbidden_total' 1
expect rd1 'pinhole_sip_parse_errors_total' 1
expect rd1 'pinhole_redirectd_bindings' 1
check "redirectd: a code never sent is left out" \
    bash -c "! grep -q 'code=\"404\"' '$WORK/rd1.prom'"

out=$("$CTL" -s "127.0.0.1:$S_REDIR" bindings)
echo "$out" >"$WORK/bindings.txt"
check "pinholectl bindings: a header line" grep -qE '^aor +contact +serving_proxy' "$WORK/bindings.txt"
check "pinholectl bindings: alice, her channel and her proxy" grep -qE \
    "^alice +sip:alice@198.51.100.7:40000 +127.0.0.1:$P +127.0.0.1:$P +(600|599) +a1-twice@metrics +1$" \
    "$WORK/bindings.txt"
check "pinholectl bindings: mallory was not bound" bash -c "! grep -q mallory '$WORK/bindings.txt'"
"$CTL" -s "127.0.0.1:$S_REDIR" status >"$WORK/rd-status.txt"
check "pinholectl status: the daemon" grep -qE '^daemon +redirectd$' "$WORK/rd-status.txt"
check "pinholectl status: one binding" grep -qE '^bindings +1$' "$WORK/rd-status.txt"
check "pinholectl -j prints the JSON" bash -c \
    "'$CTL' -j -s 127.0.0.1:$S_REDIR bindings | grep -q '^\[\"alice\",'"
set +e
"$CTL" -s "127.0.0.1:$S_REDIR" sessions >/dev/null 2>"$WORK/ctl-404.txt"; rc=$?
set -e
check "pinholectl: a table the daemon lacks is an error (exit 1)" test "$rc" -eq 1
check "pinholectl: ... saying what the daemon answered" grep -q "answered 404" "$WORK/ctl-404.txt"

# SIGHUP: stats moves with the bindings intact; a taken address is refused
S_NEW=$(free_tcp_port)
write_redirectd "stats = \"127.0.0.1:$S_NEW\";"
kill -HUP "$RD"
check "redirectd: reload moving stats applied" wait_log redirectd "configuration reloaded" 5
check "redirectd: stats served on the new address" scrape rd2 "$S_NEW"
expect rd2 'pinhole_redirectd_bindings' 1
check "redirectd: the old stats address is closed" bash -c "! $CLIENT scrape $S_REDIR metrics 2>/dev/null"
python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1], flush=True); time.sleep(20)' >"$WORK/blocker.port" &
BLOCKER=$!
PIDS+=("$BLOCKER")
for _ in $(seq 50); do [ -s "$WORK/blocker.port" ] && break; sleep 0.05; done
write_redirectd "stats = \"127.0.0.1:$(cat "$WORK/blocker.port")\";"
kill -HUP "$RD"
check "redirectd: a stats address in use refuses the reload" wait_log redirectd "reload refused" 5
check "redirectd: ... and the old stats address still serves" scrape rd3 "$S_NEW"
kill "$BLOCKER" 2>/dev/null || true
write_redirectd ""
kill -HUP "$RD"
for _ in $(seq 100); do
    [ "$(grep -c "configuration reloaded" "$WORK/redirectd.log")" -ge 2 ] && break; sleep 0.05
done
check "redirectd: stats unset on reload: nothing listens" \
    bash -c "! $CLIENT scrape $S_NEW metrics 2>/dev/null"
stop_daemon "$RD" redirectd || true


# ---------------------------------------------------------------- relayd
RELAY="python3 $SRC_DIR/tests/integration/relayd_client.py"
# Relay ports 28000+: below the ephemeral range, so no other process can
# hold them or send from them while the latching checks run.
write_relayd() { # STATS PORT_MAX
    cat >"$WORK/relayd.conf" <<CONF
listen = "127.0.0.1:$Y";
media_address = "127.0.0.1";
port_min = 28000; port_max = $2;
proxies = [ "127.0.0.1:$P" ];
stats = "127.0.0.1:$1";
CONF
}
write_relayd "$S_RELAY" 28099
start_daemon relayd "$WORK/relayd.conf"
RY=$LAST_PID
check "relayd: /metrics answers" scrape ry0 "$S_RELAY"
check "relayd: the exposition format holds line by line" format_ok ry0
check "relayd: every series is documented" documented ry0
expect ry0 'pinhole_relayd_sessions' 0
expect ry0 'pinhole_relayd_port_pairs{state="free"}' 50
expect ry0 'pinhole_relayd_port_pairs{state="in_use"}' 0

out=$($RELAY invite "$Y" "$P" call-metrics-1 --media audio)
check "relayd: a relay INVITE is answered 302" grep -q '^status=302 ' <<<"$out"
PORT=$(sed -n 's/.*ports=\([0-9]*\).*/\1/p' <<<"$out")
check "relayd: media flows through port $PORT, a third source is refused" $RELAY media "$PORT"
scrape ry1 "$S_RELAY"
expect ry1 'pinhole_sip_requests_total{method="INVITE"}' 1
expect ry1 'pinhole_sip_acks_absorbed_total' 1 # the ACK for the 302
expect ry1 'pinhole_sip_responses_total{code="302"}' 1
expect ry1 'pinhole_relayd_sessions' 1
expect ry1 'pinhole_relayd_streams' 1
expect ry1 'pinhole_relayd_port_pairs{state="in_use"}' 1
expect ry1 'pinhole_relayd_port_pairs{state="free"}' 49
expect ry1 'pinhole_relayd_sessions_created_total' 1
expect ry1 'pinhole_relayd_streams_added_total' 1
# per port (RTP, then RTCP): A latches (1, no peer yet), A and B 20 each,
# C 10 (refused), A and B one more: 53 in, 42 relayed of 3 or 7 bytes
expect ry1 'pinhole_relayd_packets_received_total' 106
expect ry1 'pinhole_relayd_packets_relayed_total' 84
expect ry1 'pinhole_relayd_bytes_relayed_total' 268
expect ry1 'pinhole_relayd_packets_dropped_total{reason="no_peer"}' 2
expect ry1 'pinhole_relayd_packets_dropped_total{reason="unknown_source"}' 20
expect ry1 'pinhole_relayd_packets_dropped_total{reason="send_failed"}' 0

"$CTL" -s "127.0.0.1:$S_RELAY" sessions >"$WORK/sessions.txt"
check "pinholectl sessions: a header line" grep -qE \
    '^call_id +stream +port +channel +source +packets +bytes +dropped +refused +idle_s$' \
    "$WORK/sessions.txt"
check "pinholectl sessions: four channel lines for the one stream" \
    test "$(grep -c '^call-metrics-1 ' "$WORK/sessions.txt")" -eq 4
check "pinholectl sessions: RTP channel 1 (A: 22 packets, 1 not delivered, 10 refused)" grep -qE \
    "^call-metrics-1 +0 +$PORT +rtp-1 +127.0.0.1:[0-9]+ +22 +[0-9]+ +1 +10 +[0-9]+$" \
    "$WORK/sessions.txt"
check "pinholectl sessions: RTP channel 2 (B: 21 packets)" grep -qE \
    "^call-metrics-1 +0 +$PORT +rtp-2 +127.0.0.1:[0-9]+ +21 +[0-9]+ +0 +10 +[0-9]+$" \
    "$WORK/sessions.txt"
check "pinholectl sessions: RTCP on the port above" grep -qE \
    "^call-metrics-1 +0 +$((PORT + 1)) +rtcp-1 +127.0.0.1:[0-9]+ +22 " "$WORK/sessions.txt"
"$CTL" -s "127.0.0.1:$S_RELAY" -n 1 -o 1 sessions >"$WORK/sessions-page.txt"
check "pinholectl -n 1 -o 1: one row, the second channel" \
    test "$(grep -c '^call-metrics-1 .* rtp-2 ' "$WORK/sessions-page.txt")" -eq 1
check "pinholectl -n 1 -o 1: says which rows of how many" \
    grep -q '(rows 2-2 of 4' "$WORK/sessions-page.txt"
"$CTL" -s "127.0.0.1:$S_RELAY" status >"$WORK/ry-status.txt"
check "pinholectl status (relayd): one session" grep -qE '^sessions +1$' "$WORK/ry-status.txt"
check "pinholectl status (relayd): 84 packets relayed" \
    grep -qE '^packets_relayed +84$' "$WORK/ry-status.txt"

out=$($RELAY request "$Y" "$P" BYE call-metrics-1)
check "relayd: the BYE is answered 200" grep -q '^status=200' <<<"$out"
scrape ry2 "$S_RELAY"
expect ry2 'pinhole_relayd_sessions' 0
expect ry2 'pinhole_relayd_port_pairs{state="free"}' 50
expect ry2 'pinhole_relayd_sessions_ended_total{reason="bye"}' 1
expect ry2 'pinhole_relayd_packets_relayed_total' 84

# a reload relayd refuses (new port range) must not move stats either
S_NEW=$(free_tcp_port)
write_relayd "$S_NEW" 28199
kill -HUP "$RY"
check "relayd: a new port range refuses the reload" wait_log relayd "reload refused" 5
check "relayd: the old stats address still serves" scrape ry3 "$S_RELAY"
check "relayd: the refused config's stats address was given back" \
    bash -c "! $CLIENT scrape $S_NEW metrics 2>/dev/null"
write_relayd "$S_NEW" 28099
kill -HUP "$RY"
check "relayd: a good reload moving stats applies" wait_log relayd "configuration reloaded" 5
check "relayd: stats on the new address" scrape ry4 "$S_NEW"
expect ry4 'pinhole_relayd_sessions_ended_total{reason="bye"}' 1
stop_daemon "$RY" relayd || true


# ---------------------------------------------------------------- proxyd
# redirectd and relayd (no stats) behind a proxyd with stats
write_redirectd ""
start_daemon redirectd-2 "$WORK/redirectd.conf"
RD=$LAST_PID
cat >"$WORK/proxyd.conf" <<CONF
listen = "127.0.0.1:$P";
redirect = "127.0.0.1:$R";
relays = [ "127.0.0.1:$Y" ];
stats = "127.0.0.1:$S_PROXY";
CONF
start_daemon proxyd "$WORK/proxyd.conf"
PX=$LAST_PID
check "proxyd: /metrics answers" scrape px0 "$S_PROXY"
check "proxyd: the exposition format holds line by line" format_ok px0
check "proxyd: every series is documented" documented px0
expect px0 'pinhole_info{daemon="proxyd",version="0.1.0"}' 1
expect px0 'pinhole_sip_requests_total{method="REGISTER"}' 0
expect px0 'pinhole_proxyd_nat_clients' 0

# bob is behind a NAT: his Via names 192.168.1.10:5060, his packets come
# from 127.0.0.1:$BOB (fig. 3a step 114)
BOB=$(free_port)
check "proxyd: a NATed phone's REGISTER is answered 200" test "$($CLIENT register "$P" "$BOB" \
    bob b1 sip:bob@192.168.1.10:5060 192.168.1.10:5060)" = 200
check "proxyd: an INVITE for an unknown user gets 100 then 404" \
    test "$($CLIENT invite "$P" "$(free_port)" nobody i1)" = "100 404"
$CLIENT garbage "$P"
sleep 0.3
scrape px1 "$S_PROXY"
expect px1 'pinhole_sip_requests_total{method="REGISTER"}' 1
expect px1 'pinhole_sip_requests_total{method="INVITE"}' 1
expect px1 'pinhole_sip_responses_total{code="200"}' 1
expect px1 'pinhole_sip_responses_total{code="100"}' 1
expect px1 'pinhole_sip_responses_total{code="404"}' 1
expect px1 'pinhole_proxyd_registrations_total{result="ok"}' 1
expect px1 'pinhole_proxyd_registrations_total{result="failed"}' 0
expect px1 'pinhole_proxyd_nat_clients' 1
expect px1 'pinhole_proxyd_invites_total' 1
expect px1 'pinhole_proxyd_invite_failures_total{reason="not_found"}' 1
expect px1 'pinhole_proxyd_redirect_answers_total{result="404"}' 1
expect px1 'pinhole_sip_parse_errors_total' 1

"$CTL" -s "127.0.0.1:$S_PROXY" clients >"$WORK/clients.txt"
check "pinholectl clients: a header line" grep -qE \
    '^aor +nat_address +via_socket +expires_in +keepalives_missed$' "$WORK/clients.txt"
check "pinholectl clients: bob at his NAT address, on proxyd's socket" grep -qE \
    "^bob +127.0.0.1:$BOB +127.0.0.1:$P +1[0-2][0-9] +0$" "$WORK/clients.txt"
"$CTL" -s "127.0.0.1:$S_PROXY" status >"$WORK/px-status.txt"
check "pinholectl status (proxyd): one NAT client" grep -qE '^nat_clients +1$' "$WORK/px-status.txt"
check "pinholectl status (proxyd): not draining" grep -qE '^draining +false$' "$WORK/px-status.txt"
stop_daemon "$PX" proxyd || true
stop_daemon "$RD" redirectd-2 || true

finish
