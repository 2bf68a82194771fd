#!/usr/bin/python3
"""Sends one datagram per size to HOST:PORT and checks that the echo is byte-identical.

usage: udp_echo.py HOST PORT SIZE...   (exit 0 if every echo matched)
"""
import os
import socket
import sys


def main() -> int:
    host, port = sys.argv[1], int(sys.argv[2])
    sizes = [int(s) for s in sys.argv[3:]]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.settimeout(2.0)
    failures = 0
    for size in sizes:
        data = os.urandom(size)
        ok = False
        for attempt in range(3):  # bounded: 3 tries of 2 s
            s.sendto(data, (host, port))
            try:
                got, frm = s.recvfrom(70000)
            except socket.timeout:
                print(f"size {size}: no echo (attempt {attempt + 1})")
                continue
            if frm != (host, port):
                print(f"size {size}: echo from {frm}, expected {(host, port)}")
                break
            if got != data:
                diff = next((i for i in range(min(len(got), len(data))) if got[i] != data[i]), None)
                print(f"size {size}: echo differs (got {len(got)} bytes, first difference at {diff})")
                break
            ok = True
            break
        print(f"size {size}: {'ok' if ok else 'FAILED'}")
        failures += 0 if ok else 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
