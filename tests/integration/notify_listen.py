"""Stands in for systemd's notify socket (sd_notify(3)): binds a unix
datagram socket at argv[1] ("@name" = abstract namespace) and appends each
datagram received to the file argv[2], one per line, until STOPPING=1 or
argv[3] seconds (default 60) pass. Used by test_notify.sh."""
import os
import socket
import sys
import time

path, out = sys.argv[1], sys.argv[2]
limit = float(sys.argv[3]) if len(sys.argv) > 3 else 60.0
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + path[1:] if path.startswith("@") else path)
open(out + ".ready", "w").close()
deadline = time.monotonic() + limit
with open(out, "a", buffering=1) as f:
    while time.monotonic() < deadline:
        s.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            data = s.recv(4096)
        except socket.timeout:
            break
        for line in data.decode("utf-8", "replace").splitlines():
            f.write(line + "\n")
        if b"STOPPING=1" in data:
            break
if not path.startswith("@"):
    os.unlink(path)
