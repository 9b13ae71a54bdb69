#!/usr/bin/env bash
# Figures 2a, 2b and 2c through symmetric NAT firewalls (lab.sh --nat symmetric):
# calls with media both ways through the relay and each NAT, torn down with
# BYE, relay sessions freed, an outsider kept out of a call's media, and
# every numbered signal checked on the wire. See e2e_calls.sh.
#
# Needs root, ip netns and nftables (exit 77 = skipped otherwise).
source "$(dirname "$0")/e2e_lib.sh"
source "$(dirname "$0")/e2e_calls.sh"
e2e_require
run_calls symmetric
