"""What tests/fixtures/rfc4475/expect.tsv allows as an answer, and the
transaction key that makes two torture messages one transaction: shared by
the RFC 4475 integration tests of redirectd and relayd."""


def accepted(accept, status):
    """expect.tsv: drop = no response OK; any = any response OK; NNN / Nxx =
    that code or class OK; !NNN / !Nxx = never OK; with only drop and
    negatives listed, any other response is OK."""
    toks = [t.strip() for t in accept.split(",") if t.strip()]
    neg = [t[1:] for t in toks if t.startswith("!")]
    pos = [t for t in toks if not t.startswith("!")]

    def match(pat, st):
        return pat == str(st) or (len(pat) == 3 and pat.endswith("xx") and str(st)[0] == pat[0])

    if status is None:
        return "drop" in pos
    if any(match(n, status) for n in neg):
        return False
    if "any" in pos or any(match(p, status) for p in pos):
        return True
    return all(p == "drop" for p in pos) and bool(neg)


def txn_key(data):
    """RFC 3261 17.2.3: top Via branch + sent-by + method (ACK as INVITE)."""
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    method = head[0].split(" ", 1)[0]
    for line in head[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() in ("via", "v"):
            parts = value.split(",")[0].strip().split(";")
            words = parts[0].split()
            branch = [p.split("=", 1)[1] for p in parts[1:]
                      if p.strip().lower().startswith("branch=")]
            if not branch or not words:
                return None
            return (branch[0], words[-1].lower(), "INVITE" if method == "ACK" else method)
    return None
