#!/usr/bin/python3
"""Legitimate clients during a flood: COUNT connections to ADDR:80, PARALLEL at
a time, each "GET /bytes/1000" with a TIMEOUT-second budget for connect and
answer; a client succeeds when it reads the whole 200 response. Prints
"ok N/COUNT" and, when some failed, why. Exit status 0 always (the test judges).

usage: legit_clients.py ADDR COUNT PARALLEL TIMEOUT
"""
import collections
import socket
import sys
import time
from concurrent.futures import ThreadPoolExecutor


def one(addr, timeout):
    t0 = time.monotonic()
    try:
        with socket.create_connection((addr, 80), timeout=timeout) as s:
            s.settimeout(max(0.1, timeout - (time.monotonic() - t0)))
            s.sendall(f"GET /bytes/1000 HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n".encode())
            data = b""
            while True:
                b = s.recv(65536)
                if not b:
                    break
                data += b
        head, _, body = data.partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200") or len(body) != 1000:
            return "bad answer", time.monotonic() - t0
        return "ok", time.monotonic() - t0
    except OSError as e:
        return type(e).__name__, time.monotonic() - t0


def main() -> int:
    addr, count, parallel, timeout = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    with ThreadPoolExecutor(parallel) as ex:
        results = list(ex.map(lambda _: one(addr, timeout), range(count)))
    why = collections.Counter(r for r, _ in results)
    times = sorted(t for r, t in results if r == "ok")
    p99 = times[int(len(times) * 0.99) - 1] if times else 0
    print(f"ok {why['ok']}/{count} (max {max(times, default=0) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms)"
          + ("" if why["ok"] == count else f" failures: {dict((k, v) for k, v in why.items() if k != 'ok')}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
