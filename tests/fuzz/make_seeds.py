#!/usr/bin/python3
"""Writes the hand-made seed inputs of the fuzz targets into corpus/<target>/.

Seeds are well-formed examples of what each target parses (built with scapy),
so that fuzzing starts from the interesting shapes instead of from nothing.
scripts/fuzz.sh adds what the fuzzers find; `scripts/fuzz.sh --merge` folds
the new coverage back into corpus/. Run from anywhere: python3 make_seeds.py
"""
import hashlib
import os
import struct
import sys

from scapy.all import ARP, ICMP, IP, TCP, UDP, Ether, Raw  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
PEER, US = "198.18.0.1", "198.18.0.2"
PMAC, UMAC = "02:00:00:00:00:01", "02:00:00:00:00:02"


def put(target, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    name = "seed-" + hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def tcp_segments():
    return [
        TCP(sport=40000, dport=80, flags="S", seq=1000, options=[("MSS", 1460), ("SAckOK", b""),
            ("Timestamp", (1, 0)), ("NOP", None), ("WScale", 7)]),
        TCP(sport=80, dport=40000, flags="SA", seq=5000, ack=1001, options=[("MSS", 1460), ("WScale", 7)]),
        TCP(sport=40000, dport=80, flags="PA", seq=1001, ack=5001) / Raw(b"GET / HTTP/1.1\r\n\r\n"),
        TCP(sport=40000, dport=80, flags="A", seq=1001, ack=5001, options=[("NOP", None), ("NOP", None),
            ("SAck", (5001, 6449, 7897, 9345))]),
        TCP(sport=40000, dport=80, flags="FA", seq=1001, ack=5001),
        TCP(sport=40000, dport=80, flags="R", seq=1001),
        TCP(sport=40000, dport=80, flags="UA", seq=1001, ack=5001, urgptr=3) / Raw(b"abc"),
    ]


def main():
    segs = tcp_segments()
    frames = [Ether(src=PMAC, dst=UMAC) / IP(src=PEER, dst=US) / s for s in segs]
    frames += [
        Ether(src=PMAC, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=PMAC, psrc=PEER, pdst=US),
        Ether(src=PMAC, dst=UMAC) / ARP(op=2, hwsrc=PMAC, psrc=PEER, hwdst=UMAC, pdst=US),
        Ether(src=PMAC, dst=UMAC) / IP(src=PEER, dst=US) / ICMP(type=8, id=1, seq=1) / Raw(b"x" * 56),
        Ether(src=PMAC, dst=UMAC) / IP(src=PEER, dst=US) / ICMP(type=3, code=4, nexthopmtu=1280) /
        IP(src=US, dst=PEER) / TCP(sport=80, dport=40000, seq=5001),
        Ether(src=PMAC, dst=UMAC) / IP(src=PEER, dst=US) / UDP(sport=5353, dport=7) / Raw(b"hello"),
        Ether(src=PMAC, dst=UMAC) / IP(src=PEER, dst=US, flags="MF", frag=0, id=7) / Raw(b"A" * 64),
        Ether(src=PMAC, dst=UMAC) / IP(src=PEER, dst=US, options=[b"\x01\x01\x00\x00"]) / UDP(dport=7),
    ]
    for f in frames:
        raw = bytes(f)
        put("ethernet", raw)
        if f.haslayer(ARP):
            put("arp", bytes(f[ARP]))
        if f.haslayer(IP):
            ip = bytes(f[IP])
            for fix in (b"\x00", b"\x01"):
                put("ipv4", fix + ip)
            payload = bytes(f[IP].payload)
            if f.haslayer(ICMP):
                put("icmp", b"\x00" + payload)
            if f.haslayer(UDP):
                put("udp", b"\x00" + payload)
            if f.haslayer(TCP) and f[IP].frag == 0:
                put("tcp", b"\x00" + payload)
                put("tcp", b"\x01" + payload)
                tcp = bytes(f[TCP])
                opts = tcp[20:(tcp[12] >> 4) * 4]
                if opts:
                    put("tcp_options", opts)
    put("tcp_options", b"\x02\x04\x05\xb4\x01\x03\x03\x07\x04\x02\x08\x0a\x00\x00\x00\x01\x00\x00\x00\x00")
    put("tcp_options", b"\x01\x01\x05\x22" + struct.pack("!8I", *range(8)) + b"\x00\x00")

    # fuzz_ingress: steps (see fuzz_ingress.cc). 2: a segment to the connection
    # (dseq, dack, flags, window, len/8, options), 6: time, 7: the application.
    def seg(dseq=0, dack=0, flags=0x18, win=502, len8=4, opt=0, extra=b""):
        return bytes([2]) + struct.pack("!hhBHBB", dseq, dack, flags, win, len8, opt) + extra
    def time(ms):
        return bytes([6]) + struct.pack("!H", ms)
    ingress = [
        seg() + seg(dseq=32) + bytes([7, 10]),                       # in order, read
        seg(dseq=32) + seg() + time(50),                              # out of order, filled
        seg(dseq=64) + seg(dseq=32) + seg() + seg(dseq=-16),         # reordered, duplicate
        seg(flags=0x19) + time(3000),                                 # FIN with data
        seg(flags=0x04, len8=0) + time(10),                           # RST in window
        seg(dseq=20000, flags=0x04, len8=0),                          # RST out of window
        seg(flags=0x12, len8=0),                                      # SYN-ACK on an open connection
        bytes([7, 200, 40]) + time(300) + time(5000) + time(8000),   # the app sends; retransmissions
        seg(opt=1, extra=struct.pack("!II", 5, 1)) + seg(dseq=32, opt=1, extra=struct.pack("!II", 4, 1)),  # PAWS
        bytes([7, 200, 200, 7, 200, 200]) + seg(len8=0, opt=2, extra=struct.pack("!HH", 1448, 1448)),  # SACK
        seg(win=0, len8=0) + bytes([7, 200, 10]) + time(500) + time(1000),  # zero window, probes
        bytes([4]) + struct.pack("!BIIBH", 1, 7, 0, 0x02, 1000) + b"\x01\x00\x05\xb4\x01\x07\x00",  # SYN to :80
        bytes([5, 1]) + struct.pack("!H", 5) + b"hello",             # UDP echo port
        bytes([1, 6, 0]) + struct.pack("!HH", 1, 0x2000) + bytes([64]) + struct.pack("!H", 24) + b"F" * 24,  # fragment
        bytes([7, 251]) + seg(len8=0, flags=0x11) + time(100),       # we close first
    ]
    for s in ingress:
        put("ingress", s)

    # fuzz_socket_api: calls (see fuzz_socket_api.cc): 0 socket, 1 bind, 2 listen,
    # 3 connect, 4 accept, 5 send, 6 recv, 7 shutdown, 8 close, 9 setsockopt, 13 time.
    api = [
        # listener on 127.0.0.1:5000, a client connects, accept, send both ways, read.
        bytes([0, 0, 0, 1, 0, 1, 0, 0, 2, 0, 16, 0, 0, 0, 0, 3, 1, 1, 1, 0, 13, 0, 1, 0, 4, 0, 0, 0]) +
        bytes([5, 1, 10, 0, 0, 0, 0, 6, 2, 20, 1, 0, 5, 2, 5, 0, 0, 0, 0, 6, 1, 20, 1, 0, 8, 1, 0, 7, 2, 1, 0]),
        # UDP: bind, send to self, receive.
        bytes([0, 1, 0, 1, 0, 1, 0, 0, 5, 0, 3, 1, 0, 1, 0, 6, 0, 10, 1, 0]),
        # options on a stream socket, then close with linger 0.
        bytes([0, 0, 0, 9, 1, 0, 0, 0, 0, 1, 0, 9, 11, 0, 0, 0, 2, 0, 0, 11, 0, 1, 1, 0, 8, 0, 0]),
    ]
    for s in api:
        put("socket_api", s)

    # fuzz_script: the repository's scenario scripts are its seeds (scripts/fuzz.sh
    # passes tests/script/ as a second corpus directory); one here keeps replay non-empty.
    put("script", b"0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 bind(3, ..., ...) = 0\n"
                  b"+0 listen(3, 1) = 0\n+0 < S 0:0(0) win 65535 <mss 1460,sackOK,nop,nop,nop,wscale 7>\n"
                  b"+0 > S. 0:0(0) ack 1 <...>\n+.1 < . 1:1(0) ack 1 win 257\n+0 accept(3, ..., ...) = 4\n")

    # fuzz_ctl: first byte 0 a request as a client sends it, 1 an ss filter
    # (tokens split at NUL or space), 2 a Snapshot document. The snapshot seeds
    # (ctl/snapshot-*) were answered by a running `ustack up` with a download and
    # a few listeners ("snapshot" request on its control socket) and are kept as
    # they are; these are the hand-made ones.
    for req in [b"hello\n", b"snapshot\r\n", b"capture tcp port 80 and host 198.18.0.1\n", b"capture\n",
                b"capture (((\n", b"bogus \x1b[31mred\n", b"hello", b"x" * 1100, b"hello\nsnapshot\n"]:
        put("ctl", bytes([0]) + req)
    for flt in [b"state established", b"exclude listening sport = :80",
                b"( sport = :80 or dport != 22 ) and not src 127.0.0.0/8",
                b"dst 198.18.0.1:80 || src 127.0.0.1:* && ! sport gt :1024",
                b"state connected state synchronized exclude time-wait dport le :http", b"( ( sport = :80 )"]:
        put("ctl", bytes([1]) + flt.replace(b" ", b"\0"))
    put("ctl", bytes([2]) + b'{"version":1,"program":"x","pid":1,"now_ns":0,"sockets":[],"counters":{},'
                            b'"neighbours":[],"routes":[],"interfaces":[]}')
    put("ctl", bytes([2]) + b'{"version":2}')
    return 0


if __name__ == "__main__":
    sys.exit(main())
