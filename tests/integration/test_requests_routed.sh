#!/usr/bin/env bash
# Everyday requests of real phones through two proxyd (issue #16): phone 16
# at proxy 11 sends phone 14 at proxy 13 a MESSAGE, an OPTIONS and a
# SUBSCRIBE, each challenged and then routed where redirectd says; 14's
# NOTIFY comes back inside the subscription's dialog along the
# Record-Route; a MESSAGE for a user nobody registered gets redirectd's
# 404. Before issue #16 all of these got 501 from proxy 11.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/calls_lib.sh"

calls_net 61300 61309
out=$(timeout 60 python3 "$SRC_DIR/tests/integration/everyday_phones.py" "$P11" "$PH16" "$P13" \
    "$PH14" "$(phone_password 16)" "$(phone_password 14)")
log "$(tr '\n' ' ' <<<"$out")"
has() { grep -qx -- "$1" <<<"$out"; }
check "16 registered at proxy 11" has "register_16=200"
check "14 registered at proxy 13" has "register_14=200"
check "MESSAGE 16 -> 14 answered 200 by 14" has "message=200"
check "14 got the MESSAGE's body" has "message_body_ok=1"
check "no proxy's Pinhole-Source reached 14" has "message_seen_by_14_without_stamp=1"
check "OPTIONS to a user answered by 14 itself (its Allow)" has "options=200 allow_from_14=1"
check "SUBSCRIBE 200, record-routed by both proxies, 14's NOTIFY reached 16" \
    has "subscribe=200 routes_in_notify=2 notify_at_16=1"
check "PUBLISH to 14's own AOR routed to its phone, answered with a SIP-ETag" \
    has "publish=200 publish_etag=1 publish_at_14=1"
check "MESSAGE to nobody: redirectd's 404" has "message_unknown=404"
check "proxy 11 logged no 501" bash -c "! grep -q ' 501 ' '$WORK/proxyd-11.log'"
calls_stop
finish
