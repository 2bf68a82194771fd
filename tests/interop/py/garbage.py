#!/usr/bin/python3
"""Sends malformed frames from the kernel side of a TAP toward ustack (scapy).

usage: garbage.py IFACE DST_MAC SRC_IP DST_IP

Probes that must NOT be answered carry ICMP echo identifiers 0xBA00..0xBAFF or
UDP payloads starting with b"BAD"; the control probe (a well-formed echo with
identifier 0x600D and a UDP datagram b"GOOD...") must be answered. The calling
test checks both in its capture. Every loop here is bounded.
"""
import random
import struct
import sys

from scapy.all import ICMP, IP, UDP, Ether, Raw, conf, get_if_hwaddr, sendp  # noqa: E402
from scapy.utils import checksum

conf.verb = 0


def main() -> int:
    iface, dst_mac, src_ip, dst_ip = sys.argv[1:5]
    src_mac = get_if_hwaddr(iface)
    # type must be explicit: before Raw bytes scapy would pick 0x9000 (loopback).
    eth = Ether(src=src_mac, dst=dst_mac, type=0x0800)
    rnd = random.Random(1234)
    sent = {}

    def send(name, frames):
        frames = frames if isinstance(frames, list) else [frames]
        try:
            sendp(frames, iface=iface)
            sent[name] = sent.get(name, 0) + len(frames)
        except OSError as e:  # the kernel refuses some (e.g. shorter than an Ethernet header)
            print(f"{name}: kernel refused: {e}")
            sent[name + " (refused by kernel)"] = len(frames)

    def ip_bytes(pkt):
        return bytes(pkt)

    def fix_ip_csum(hdr: bytearray, ihl_bytes: int):
        hdr[10:12] = b"\0\0"
        hdr[10:12] = struct.pack("!H", checksum(bytes(hdr[:ihl_bytes])))

    def echo(ident, payload=b"garbage-probe"):
        return IP(src=src_ip, dst=dst_ip) / ICMP(type=8, id=ident, seq=1) / Raw(payload)

    # Control: well-formed, must be answered.
    send("control echo", eth / echo(0x600D, b"GOOD-control"))
    send("control udp", eth / IP(src=src_ip, dst=dst_ip) / UDP(sport=40000, dport=7) / Raw(b"GOOD-udp"))

    # 1. Truncated Ethernet (shorter than 14 bytes: with CAP_SYS_RAWIO the kernel pads
    # these to 14 bytes, so ustack sees a header with a zero type) and Ethernet
    # with nothing after it.
    raw_eth = bytes(eth)
    send("truncated ethernet 10B", Raw(raw_eth[:10]))
    send("truncated ethernet 13B", Raw(raw_eth[:13]))
    send("ethernet header only, type IPv4", Raw(raw_eth))
    # Truncated ARP.
    send("truncated ARP", Raw(bytes(Ether(src=src_mac, dst=dst_mac, type=0x0806)) + b"\x00\x01\x08\x00\x06"))

    # 2. Truncated IP: 3 bytes, 19 bytes.
    good = bytearray(ip_bytes(echo(0xBA01)))
    send("truncated IP 3B", eth / Raw(bytes(good[:3])))
    send("truncated IP 19B", eth / Raw(bytes(good[:19])))

    # 3. Bad IP header checksum.
    p = bytearray(ip_bytes(echo(0xBA02)))
    p[10] ^= 0x55
    send("bad IP checksum", eth / Raw(bytes(p)))

    # 4. IHL 3 (valid checksum over 20 bytes), IHL 15 with a 20-byte header.
    p = bytearray(ip_bytes(echo(0xBA03)))
    p[0] = 0x43
    fix_ip_csum(p, 20)
    send("IHL 3", eth / Raw(bytes(p)))
    p = bytearray(ip_bytes(echo(0xBA04, b"")))
    p[0] = 0x4F
    fix_ip_csum(p, 20)
    send("IHL 15 beyond total length", eth / Raw(bytes(p)))

    # 5. Total length larger than the frame; smaller than the header.
    p = bytearray(ip_bytes(echo(0xBA05)))
    p[2:4] = struct.pack("!H", 1000)
    fix_ip_csum(p, 20)
    send("total length > frame", eth / Raw(bytes(p)))
    p = bytearray(ip_bytes(echo(0xBA06)))
    p[2:4] = struct.pack("!H", 12)
    fix_ip_csum(p, 20)
    send("total length < header", eth / Raw(bytes(p)))

    # 6. Version 6 inside an IPv4 ethertype.
    p = bytearray(ip_bytes(echo(0xBA07)))
    p[0] = 0x65
    fix_ip_csum(p, 20)
    send("version 6 in IPv4 frame", eth / Raw(bytes(p)))

    # 7. Bad option: IHL 6 with a record-route option whose length runs past the header.
    p = bytearray(ip_bytes(echo(0xBA08)))
    hdr = bytearray(p[:20]) + bytearray(b"\x07\xff\x04\x00")
    hdr[0] = 0x46
    hdr[2:4] = struct.pack("!H", len(p) + 4)
    fix_ip_csum(hdr, 24)
    send("bad IP option length", eth / Raw(bytes(hdr + p[20:])))

    # 8. Bad ICMP checksum.
    send("bad ICMP checksum", eth / IP(src=src_ip, dst=dst_ip) / ICMP(type=8, id=0xBA09, seq=1, chksum=0x1234) / Raw(b"bad-icmp"))

    # 9. Bad UDP checksum (to the echo port), UDP length beyond the IP payload, shorter than 8.
    u = IP(src=src_ip, dst=dst_ip) / UDP(sport=40001, dport=7) / Raw(b"BAD-udp-checksum")
    u = IP(bytes(u))
    c = u[UDP].chksum
    u[UDP].chksum = c ^ 0x0F0F if c ^ 0x0F0F else 0x1111
    send("bad UDP checksum", eth / u)
    send("UDP length > IP payload", eth / IP(src=src_ip, dst=dst_ip) / UDP(sport=40002, dport=7, len=200) / Raw(b"BAD-udp-length"))
    send("UDP length < 8", eth / IP(src=src_ip, dst=dst_ip) / UDP(sport=40003, dport=7, len=4) / Raw(b"BAD-udp-short"))

    # 10. Overlapping fragments (UDP to the echo port): different data in the overlap.
    body = bytes(UDP(sport=40004, dport=7, len=8 + 40) / Raw(b"BAD-overlap" + b"x" * 29))
    # The UDP checksum covers the original data; the second fragment rewrites bytes 16..47.
    f1 = IP(src=src_ip, dst=dst_ip, id=0xB001, flags="MF", frag=0, proto=17) / Raw(body[:24])
    f2 = IP(src=src_ip, dst=dst_ip, id=0xB001, flags=0, frag=2, proto=17) / Raw(b"BAD-overlap-other-data-32-bytes!")
    send("overlapping fragments (udp)", [eth / f1, eth / f2])
    icmp_body = bytes(ICMP(type=8, id=0xBA0A, seq=1) / Raw(b"A" * 40))
    g1 = IP(src=src_ip, dst=dst_ip, id=0xB002, flags="MF", frag=0, proto=1) / Raw(icmp_body[:32])
    g2 = IP(src=src_ip, dst=dst_ip, id=0xB002, flags=0, frag=1, proto=1) / Raw(icmp_body[8:])
    send("overlapping fragments (icmp, same data)", [eth / g1, eth / g2])
    # Fragment past 65535 bytes.
    send("fragment past 64 KiB", eth / IP(src=src_ip, dst=dst_ip, id=0xB003, flags=0, frag=8190, proto=17) / Raw(b"z" * 64))

    # 11. Tiny fragments: a valid echo request cut into 8-byte fragments (may be answered).
    tiny_body = bytes(ICMP(type=8, id=0x7111, seq=1) / Raw(b"T" * 56))
    tiny = [IP(src=src_ip, dst=dst_ip, id=0xB004, proto=1, frag=i // 8,
               flags="MF" if i + 8 < len(tiny_body) else 0) / Raw(tiny_body[i:i + 8])
            for i in range(0, len(tiny_body), 8)]
    send("tiny fragments", [eth / f for f in tiny])

    # 12. Random bytes: 100 frames to ustack's MAC as IPv4, 50 with random ethertypes,
    # 50 random headers with a valid checksum and random fields.
    def rbytes(n):
        return bytes(rnd.getrandbits(8) for _ in range(n))

    send("random IPv4 payload", [eth / Raw(rbytes(rnd.randint(1, 1400))) for _ in range(100)])
    send("random ethertype", [Ether(src=src_mac, dst=dst_mac,
                                    type=rnd.choice([0x0806, 0x86DD, 0x8100, 0x88CC, rnd.getrandbits(16)]))
                              / Raw(rbytes(rnd.randint(0, 200))) for _ in range(50)])
    hdrs = []
    for _ in range(50):
        h = bytearray(bytes(rnd.getrandbits(8) for _ in range(20)))
        h[0] = 0x45
        h[2:4] = struct.pack("!H", 20 + 32)
        h[12:16] = bytes(map(int, src_ip.split(".")))
        h[16:20] = bytes(map(int, dst_ip.split(".")))
        h[9] = rnd.choice([1, 6, 17, 2, 47, 255])
        fix_ip_csum(h, 20)
        hdrs.append(eth / Raw(bytes(h) + b"BAD-random" + bytes(22)))
    send("random IPv4 header, valid checksum", hdrs)

    # 13. Fragment flood: 1100 first fragments with distinct ids (more than ustack's
    # 1024 datagrams in progress), never completed.
    flood = [eth / IP(src=src_ip, dst=dst_ip, id=0xC000 + i, flags="MF", frag=0, proto=17) / Raw(b"F" * 16)
             for i in range(1100)]
    send("fragment flood (distinct ids)", flood)

    for name, n in sent.items():
        print(f"sent {n:5d}  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
