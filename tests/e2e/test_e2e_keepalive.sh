#!/usr/bin/env bash
# What keepalives are for (design.md decision 10): a NAT forgets an idle
# UDP binding, and then nothing can reach the phone behind it.
#
# The lab runs symmetric NAT firewalls whose UDP bindings expire after
# UDP_TIMEOUT (10 s) of silence. Proxy 11 sends CRLF keepalives every 4 s
# to its NAT client 16; proxy 13 sends none to its NAT client 18. All three
# clients register, 16 and 18 then wait for calls (SIPp discards the CRLFs,
# as phones do), and nothing else happens for twice the timeout plus one
# second. Then:
#   - 14 calls 16 (figure 2b): the call reaches 16 through the binding the
#     keepalives held open, with media both ways, BYE, relay freed;
#   - 14 calls 18: proxy 13 forwards the INVITE to 18's registered binding,
#     which NAT 30 has forgotten: 18 never sees it (its SIPp receives no
#     INVITE, and nothing of that call comes back through NAT 30 on the
#     wire) — the negative, with keepalives off.
# Both clients sit behind identical NATs and registered the same way; only
# the keepalive setting of their proxies differs.
#
# Then proxy 11 crashes (kill -9) and starts again on its state file
# (issue #17): it sends 16 keepalives at once from its stored NAT client
# table, so after another idle of twice the NAT timeout 14's call still
# reaches 16, with media; with state = "memory" the restarted proxy would
# know no client and NAT 28 would forget 16 as NAT 30 forgot 18.
#
# Needs root, ip netns and nftables (exit 77 = skipped otherwise).
source "$(dirname "$0")/e2e_lib.sh"
e2e_require
UDP_TIMEOUT=10
KEEPALIVE=4
E2E_TIMEOUT=170

lab_up --nat symmetric --capture --udp-timeout "$UDP_TIMEOUT" \
    --keepalive-11 "$KEEPALIVE" --keepalive-13 0
register c16 "$P11" 16
register c18 "$P13" 18
register c14 "$P13" 14
uas_start ka-c16 c16 16
uas_start ka-c18 c18 18
idle=$((2 * UDP_TIMEOUT + 1))
log "idle for $idle s (NAT UDP timeout ${UDP_TIMEOUT} s; keepalives: P11 every ${KEEPALIVE} s, P13 none)"
sleep "$idle"

log "--- 14 calls 16 (keepalives on)"
uac_run ka-c14 c14 "$P13" 16 14
uas_wait ka-c16
rtp_check ka-c14 ka-c16
relay_idle

log "--- 14 calls 18 (keepalives off)"
uac_run ka-c14-18 c14 "$P13" 18 14 uac_unreached.xml
check "14's call to 18 was not answered (the INVITE never reached 18)" \
    grep -q "outcome unreached" "$WORK/ka-c14-18.log"
check "18's phone, listening all along, received no INVITE" \
    bash -c "! grep -q '^INVITE ' '$WORK/ka-c18.msg' 2>/dev/null"
kill -KILL "${UAS_PID[ka-c18]}" 2>/dev/null
wait "${UAS_PID[ka-c18]}" 2>/dev/null

log "--- proxy 11 crashes and restarts on its state file, then idle again for $idle s"
check "proxy 11 restarted after kill -9" "$LAB" crash p11
check "proxy 11 loaded its NAT client 16 from its state" \
    grep -q "1 NAT clients loaded" "$LAB_DIR/proxyd-11.log"
uas_start ka2-c16 c16 16
sleep "$idle"
uac_run ka2-c14 c14 "$P13" 16 14
uas_wait ka2-c16
rtp_check ka2-c14 ka2-c16
relay_idle

"$LAB" capture-stop
python3 "$CHECK" keepalives "$LAB_DIR/public.pcapng" >"$WORK/keepalives.txt" 2>&1
n11=$(awk '$1 == "P11" {print $3}' "$WORK/keepalives.txt")
n13=$(awk '$1 == "P13" {print $3}' "$WORK/keepalives.txt")
check "P11 kept 16's binding open: ${n11:-0} CRLF keepalives on the wire (>= $((idle / KEEPALIVE - 1)))" \
    test "${n11:-0}" -ge $((idle / KEEPALIVE - 1))
check "P13 sent 18 no keepalive (${n13:-0})" test "${n13:-0}" -eq 0
wire_check fig2b --nat symmetric --rtp "$RTP_COUNT"
wire_check unreached --callee 18
lab_down
finish
