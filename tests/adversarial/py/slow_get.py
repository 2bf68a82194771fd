#!/usr/bin/python3
"""A download that lasts: GET /bytes/SIZE from ADDR:80 through a 32 KiB receive
buffer, read at RATE bytes per second, so that the transfer on the wire takes
about SIZE/RATE seconds (curl --limit-rate only paces its reads, and Linux's
receive buffer then takes megabytes at once). Writes the body to OUT; prints
"started" once the first body bytes are in; exit status 0 when the response is
200 with exactly SIZE bytes, within TIMEOUT seconds.

usage: slow_get.py ADDR SIZE RATE OUT TIMEOUT
"""
import socket
import sys
import time


def main() -> int:
    addr, size, rate, out, timeout = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4], float(sys.argv[5])
    t0 = time.monotonic()
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32768)
    s.settimeout(timeout)
    s.connect((addr, 80))
    s.sendall(f"GET /bytes/{size} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n".encode())
    data = bytearray()
    started = False
    chunk = max(1024, int(rate / 20))
    while True:
        if time.monotonic() - t0 > timeout:
            print(f"FAIL: timed out after {len(data)} bytes")
            return 1
        b = s.recv(chunk)
        if not b:
            break
        data += b
        if not started and b"\r\n\r\n" in data:
            started = True
            print("started", flush=True)
        time.sleep(len(b) / rate)
    head, _, body = bytes(data).partition(b"\r\n\r\n")
    with open(out, "wb") as f:
        f.write(body)
    if not head.startswith(b"HTTP/1.1 200") or len(body) != size:
        print(f"FAIL: {head[:40]!r}, {len(body)} body bytes, expected {size}")
        return 1
    print(f"done: {size} bytes in {time.monotonic() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
