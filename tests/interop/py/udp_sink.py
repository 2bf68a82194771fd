#!/usr/bin/python3
"""Receives UDP datagrams on ADDR:PORT for at most TIMEOUT seconds (or until COUNT
arrived) and prints, per datagram, the sender and the sha256 of its payload.

usage: udp_sink.py ADDR PORT COUNT TIMEOUT
"""
import hashlib
import socket
import sys
import time


def main() -> int:
    addr, port, count, timeout = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, port))
    print("listening", flush=True)
    end = time.monotonic() + timeout
    got = 0
    while got < count and time.monotonic() < end:
        s.settimeout(max(0.01, end - time.monotonic()))
        try:
            data, frm = s.recvfrom(70000)
        except socket.timeout:
            break
        got += 1
        print(f"{frm[0]}:{frm[1]} {len(data)} {hashlib.sha256(data).hexdigest()}", flush=True)
    return 0 if got >= count else 1


if __name__ == "__main__":
    sys.exit(main())
