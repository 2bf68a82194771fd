#!/usr/bin/python3
"""Writes to standard output the body of ustack's built-in /bytes/N resource:
byte i is 'a' + i % 26 (see src/apps/http.cc).

usage: bytes_gen.py N
"""
import sys


def main() -> int:
    n = int(sys.argv[1])
    period = b"abcdefghijklmnopqrstuvwxyz"
    block = period * 4096  # a multiple of 26, so every block starts at 'a'
    out = sys.stdout.buffer
    while n > 0:
        chunk = block[:n]
        out.write(chunk)
        n -= len(chunk)
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
