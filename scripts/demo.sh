#!/usr/bin/env bash
# `make demo`: the patent's figure 2c for real. Builds figure 1 from network
# namespaces (tests/e2e/lab.sh: two proxies, redirect server, relay server,
# two NAT firewalls with clients 16 and 18 behind them, both 192.168.1.10),
# registers 16 and 18, lets 16 call 18 with a few seconds of audio (RTP,
# 20 ms packets) through the relay, hangs up, and prints the call as a
# ladder of what crossed the public network — the twelve numbered signals,
# what each carries, and the media packet counts — then tears it all down.
#
#   scripts/demo.sh [BUILD_DIR]     (needs root; DEMO_NAT=port-preserving
#                                    for the other NAT behaviour)
# shellcheck disable=SC2034 # TEST_NAME, CALL_MS, E2E_TIMEOUT: read by e2e_lib.sh
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=$(cd "${1:-$ROOT/build}" 2>/dev/null && pwd) || BUILD_DIR=${1:-$ROOT/build}
export BUILD_DIR SRC_DIR=$ROOT
NAT=${DEMO_NAT:-symmetric}
TEST_NAME=demo
RTP_COUNT=${DEMO_PACKETS:-250} # 250 x 20 ms = 5 s of audio each way
CALL_MS=$((RTP_COUNT * 20 + 1500))
source "$ROOT/tests/e2e/e2e_lib.sh"

if [ "$(id -u)" -ne 0 ]; then
    echo "demo: needs root (it builds network namespaces and NAT rules): sudo make demo" >&2
    exit 1
fi
( e2e_require ) >/dev/null || {
    echo "demo: needs ip netns, nftables, sipp, dumpcap and python3 here, and $RTP_PEER" >&2
    exit 1
}
E2E_TIMEOUT=90

step() { echo "demo: $*"; }
# The steps' own pass/fail lines go to a file; shown only when one failed.
quiet() { "$@" >>"$WORK/steps.txt" 2>&1; }

WORK=""
step "building figure 1: $NAT NAT firewalls 28 and 30, proxyd x2, redirectd, relayd"
lab_up --nat "$NAT" --capture >/dev/null 2>&1 || { echo "demo: lab.sh up failed" >&2; exit 1; }
step "registering client 16 (192.168.1.10 behind NAT 28) with proxy 11"
quiet register c16 "$P11" 16
step "registering client 18 (192.168.1.10 behind NAT 30) with proxy 13"
quiet register c18 "$P13" 18
step "client 16 calls client 18: $((RTP_COUNT * 20 / 1000)) s of audio each way, then BYE"
quiet uas_start call-c18 c18 18
quiet uac_run call-c16 c16 "$P11" 18 16
quiet uas_wait call-c18
quiet rtp_check call-c16 call-c18
quiet relay_idle
"$LAB" capture-stop
step "done; the call as captured on the public network:"
echo
python3 "$CHECK" ladder fig2c "$LAB_DIR/public.pcapng" --nat "$NAT" \
    --reports "$WORK:16=call-c16.rtp,18=call-c18.rtp"
ladder_rc=$?
echo
quiet lab_down
if [ "$FAILS" -ne 0 ] || [ "$ladder_rc" -ne 0 ]; then
    echo "demo: something failed:" >&2
    grep -E "FAIL" "$WORK/steps.txt" >&2
    exit 1
fi
step "lab torn down (namespaces deleted, every daemon stopped cleanly)"
