#!/usr/bin/python3
"""Zero-window readers: opens COUNT connections to ADDR:80 with a 4 KiB receive
buffer, asks each for /bytes/SIZE and never reads, so that each advertises a
zero window and ustack holds its unsent data and probes. Prints "holding N" once
all are established and the request sent, then holds them until the file
RELEASE exists or HOLD seconds pass, then closes them all (with unread data: a
RST) and exits.

usage: zero_window.py ADDR COUNT SIZE RELEASE HOLD
"""
import os
import resource
import socket
import sys
import time


def main() -> int:
    addr, count, size, release, hold = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], float(sys.argv[5])
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < count + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE, (count + 64, max(hard, count + 64)))
    socks = []
    t0 = time.monotonic()
    for i in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.settimeout(5)
        s.connect((addr, 80))
        s.sendall(f"GET /bytes/{size} HTTP/1.1\r\nHost: {addr}\r\n\r\n".encode())
        socks.append(s)
    print(f"holding {len(socks)} connections ({time.monotonic() - t0:.1f} s to open)", flush=True)
    deadline = time.monotonic() + hold
    while time.monotonic() < deadline and not os.path.exists(release):
        time.sleep(0.1)
    for s in socks:
        s.close()
    print(f"closed {len(socks)} connections", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
