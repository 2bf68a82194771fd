#!/usr/bin/python3
"""Sends to a closed UDP port with a connected socket; expects ConnectionRefusedError
(the kernel got ICMP port unreachable and matched it to this socket).

usage: closed_port.py HOST PORT
"""
import socket
import sys


def main() -> int:
    host, port = sys.argv[1], int(sys.argv[2])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((host, port))
    s.settimeout(1.0)
    for attempt in range(3):  # bounded
        try:
            s.send(b"is anyone there?")
            s.recv(2048)
            print("unexpected: got a reply from a closed port")
            return 1
        except ConnectionRefusedError:
            print(f"ConnectionRefusedError (attempt {attempt + 1})")
            return 0
        except socket.timeout:
            print(f"timeout, no ICMP port unreachable reported (attempt {attempt + 1})")
    return 1


if __name__ == "__main__":
    sys.exit(main())
