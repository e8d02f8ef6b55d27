#!/usr/bin/env python3
"""Writes a large Fiddler archive for the capture measurement:

    python3 benches/saz.py 256 bench-data/big.saz

Repeats a SignalR connection (app negotiate, service negotiate, a WebSocket
with 40 frames) next to a download of 96 KiB of incompressible bytes until
the archive reaches the size in MB. Uses the fixture writer's layout
(fixtures/make_saz.py). Never committed, never run in CI.
"""

import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
import make_saz as m  # noqa: E402


def main():
    mb, out = int(sys.argv[1]), sys.argv[2]
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    rng = random.Random(7)
    a = m.Archive()
    size, t, n = 0, 0.0, 0
    while size < mb << 20:
        tok = m.jwt("chat", 1705307405 + int(t))
        rid, conn = f"rid{n}", f"connTok{n}"
        m.app_negotiate(a, t, rid, tok)
        m.service_negotiate(a, t + 0.15, rid, tok, conn)
        frames = m.handshake(t + 0.3) + [
            (i % 2 == 0, m.at(t + 1 + i), m.frame(1, b'{"type":1,"target":"send","arguments":["%d"]}\x1e' % i, i % 2 == 0), True)
            for i in range(40)
        ]
        a.add(m.at(t + 0.3), 60000.0, m.connect_request(rid, conn, tok), m.SWITCH, m.ws_records(frames))
        blob = rng.randbytes(96 << 10)
        a.add(m.at(t + 0.5), 250.0, m.request("GET", f"https://cdn.example.com/asset{n}.bin", [("Host", "cdn.example.com")]),
              m.response("200 OK", [("Content-Type", "application/octet-stream"), ("Content-Length", str(len(blob)))], blob))
        size += len(blob) + 6000
        t += 61.0
        n += 1
    a.write(os.path.abspath(out))


if __name__ == "__main__":
    main()
