#!/usr/bin/python3
"""Hostile frames toward ustack from the attacker's side of the TAP (scapy).
Every loop is bounded; each subcommand prints one line per kind of frame sent.

usage: frames.py IFACE US_MAC US_IP SUBCOMMAND [ARGS]
  tcp-options            SYNs to :80 with malformed options (length 0, 1,
                         overlong, truncated, data offset < 5 or past the end);
                         then well-formed SYNs with hostile but legal values
                         (MSS 0 and 1, window scale 255): those are answered
  tcp-options-live SPORT the malformed options on ACKs of the live connection
  land                   land attack: SYNs from ustack's own address and port
                         to itself (:80 and :7), and from 127.0.0.1 / 0.0.0.0
  fragments              endless fragments (never completed, 300 datagrams),
                         overlapping, tiny (8-byte), past 65535, and a
                         teardrop pair, each a UDP echo probe with "BAD"
  icmp-spoof SPORT       ICMP errors quoting the live connection: frag-needed
                         with MTU 0, 1, 67, 68 and 65535 at a wrong and a right
                         sequence number; port, protocol and host unreachable,
                         source quench, time exceeded and parameter problem at
                         a sequence number outside the window
  arp-spoof VICTIM_IP    unsolicited ARP replies and gratuitous requests that
                         map VICTIM_IP to a bogus MAC, plus requests claiming
                         ustack's own address
"""
import random
import struct
import sys
import time

from scapy.all import (ARP, ICMP, IP, TCP, UDP, Ether, Raw, conf, get_if_hwaddr, sendp, sniff)
from scapy.utils import checksum

conf.verb = 0
M = 1 << 32


def tcp_bytes(src, dst, sport, dport, seq, ack, flags, opts=b"", payload=b"", doff=None, window=8192):
    """A TCP segment with raw option bytes (scapy would fix malformed ones)."""
    if doff is None:
        doff = (20 + len(opts)) // 4
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq % M, ack % M, doff << 4, flags, window, 0, 0) + opts
    seg = hdr + payload
    pseudo = bytes(map(int, src.split("."))) + bytes(map(int, dst.split("."))) + struct.pack("!BBH", 0, 6, len(seg))
    c = checksum(pseudo + seg)
    return seg[:16] + struct.pack("!H", c) + seg[18:]


SYN, RST, PSH, ACK = 0x02, 0x04, 0x08, 0x10

# name -> (option bytes, data offset override)
MALFORMED_OPTIONS = [
    ("mss-length-0", b"\x02\x00\x05\xb4", None),
    ("unknown-length-0", b"\xfe\x00\x01\x01", None),
    ("mss-length-1", b"\x02\x01\x05\xb4", None),
    ("nop-then-length-1", b"\x01\x01\x03\x01", None),
    ("mss-overlong-40", b"\x02\x28\x05\xb4", None),
    ("unknown-overlong-255", b"\xfd\xff\x00\x00" + b"\x01" * 4, None),
    ("wscale-truncated-at-end", b"\x01\x01\x01\x03", None),
    ("timestamps-truncated", b"\x08\x0a" + b"\x00" * 6, None),
    ("sack-length-3", b"\x05\x03\x00\x01", None),
    ("sack-permitted-length-3", b"\x04\x03\x00\x01", None),
    ("data-offset-4", b"", 4),
    ("data-offset-15-past-end", b"\x01" * 4, 15),
]


def main() -> int:
    iface, us_mac, us_ip, cmd = sys.argv[1:5]
    args = sys.argv[5:]
    me_mac = get_if_hwaddr(iface)
    me_ip = conf.route.route(us_ip)[1]
    eth = Ether(src=me_mac, dst=us_mac, type=0x0800)
    rnd = random.Random(7)

    def send(name, frames, inter=0):
        frames = frames if isinstance(frames, list) else [frames]
        sendp(frames, iface=iface, inter=inter)
        print(f"sent {len(frames):4d} {name}")

    def ip_raw(src, dst, proto, payload, **kw):
        return eth / IP(src=src, dst=dst, proto=proto, **kw) / Raw(payload)

    if cmd == "tcp-options":
        for i, (name, opts, doff) in enumerate(MALFORMED_OPTIONS):
            seg = tcp_bytes(me_ip, us_ip, 41000 + i, 80, rnd.getrandbits(32), 0, SYN, opts, doff=doff)
            send(f"SYN {name}", ip_raw(me_ip, us_ip, 6, seg))
        # Hostile but legal: answered, with a sane MSS and window scale.
        legal = [("mss-0", b"\x02\x04\x00\x00"), ("mss-1", b"\x02\x04\x00\x01"),
                 ("wscale-255", b"\x01\x03\x03\xff"), ("unknown-kind-2-bytes", b"\x01\x01\xfc\x02")]
        for i, (name, opts) in enumerate(legal):
            seg = tcp_bytes(me_ip, us_ip, 42000 + i, 80, rnd.getrandbits(32), 0, SYN, opts)
            send(f"SYN {name} (legal)", ip_raw(me_ip, us_ip, 6, seg))
        return 0

    if cmd == "tcp-options-live":
        sport = int(args[0])
        got = sniff(iface=iface, count=1, timeout=5,
                    lfilter=lambda p: TCP in p and p[IP].src == us_ip and p[TCP].sport == sport and len(p[TCP].payload) > 0)
        if not got:
            print("FAIL: no data segment of the connection within 5 s")
            return 1
        p = got[0]
        snd = (p[TCP].seq + len(p[TCP].payload)) % M
        for name, opts, doff in MALFORMED_OPTIONS:
            seg = tcp_bytes(p[IP].dst, us_ip, p[TCP].dport, sport, p[TCP].ack, snd, ACK | PSH, opts,
                            b"INJECTED-BAD-OPTIONS", doff=doff)
            send(f"ACK+data {name} on the live connection", ip_raw(p[IP].dst, us_ip, 6, seg))
        return 0

    if cmd == "land":
        frames = []
        for port in (80, 7):
            seg = tcp_bytes(us_ip, us_ip, port, port, 1000, 0, SYN, b"\x02\x04\x05\xb4")
            frames += [ip_raw(us_ip, us_ip, 6, seg)] * 100
        send("land SYNs (ustack's own address and port, to itself)", frames)
        frames = []
        for src in ("127.0.0.1", "0.0.0.0", "255.255.255.255", "224.0.0.1"):
            seg = tcp_bytes(src, us_ip, 80, 80, 1000, 0, SYN, b"\x02\x04\x05\xb4")
            frames.append(ip_raw(src, us_ip, 6, seg))
        send("SYNs from martian sources (loopback, 0.0.0.0, broadcast, multicast)", frames)
        return 0

    if cmd == "fragments":
        udp = bytes(IP(src=me_ip, dst=us_ip, proto=17) / UDP(sport=40001, dport=7) / Raw(b"BAD-fragment-probe" + b"y" * 200))[20:]
        # Endless: first fragments of 300 datagrams that never complete, and for
        # one datagram a long run of middle fragments never closed.
        frames = [ip_raw(me_ip, us_ip, 17, udp[:64], id=0x1000 + i, flags="MF") for i in range(300)]
        send("first fragments never completed (300 datagrams)", frames)
        frames = [ip_raw(me_ip, us_ip, 17, b"z" * 1000, id=0x2000, flags="MF", frag=(i * 1000) // 8) for i in range(1, 64)]
        send("middle fragments of one datagram, never closed (63 KB)", frames)
        # Overlapping: the second fragment rewrites bytes of the first.
        frames = [ip_raw(me_ip, us_ip, 17, udp[:48], id=0x3000, flags="MF"),
                  ip_raw(me_ip, us_ip, 17, b"Q" * 40 + udp[64:], id=0x3000, frag=3)]
        send("overlapping fragments", frames)
        # Tiny: 8-byte fragments (the UDP header alone in the first).
        frames = [ip_raw(me_ip, us_ip, 17, udp[o:o + 8], id=0x3100, flags="MF" if o + 8 < len(udp) else 0, frag=o // 8)
                  for o in range(0, len(udp), 8)]
        rnd.shuffle(frames)
        send("tiny 8-byte fragments, shuffled", frames)
        # Past 65535: the last fragment ends beyond the largest datagram.
        frames = [ip_raw(me_ip, us_ip, 17, udp[:64], id=0x3200, flags="MF"),
                  ip_raw(me_ip, us_ip, 17, b"w" * 1000, id=0x3200, frag=8100)]
        send("fragment ending past 65535", frames)
        # Teardrop: the second fragment lies inside the first and ends before it.
        frames = [ip_raw(me_ip, us_ip, 17, udp[:200], id=0x3300, flags="MF"),
                  ip_raw(me_ip, us_ip, 17, udp[24:40], id=0x3300, frag=3)]
        send("teardrop pair", frames)
        # Fragments of a datagram whose offset 0 piece is missing but the end is there.
        frames = [ip_raw(me_ip, us_ip, 17, udp[64:], id=0x3400, frag=8)]
        send("last fragment only", frames)
        return 0

    if cmd == "icmp-spoof":
        sport = int(args[0])
        got = sniff(iface=iface, count=1, timeout=5,
                    lfilter=lambda p: TCP in p and p[IP].src == us_ip and p[TCP].sport == sport and len(p[TCP].payload) > 0)
        if not got:
            print("FAIL: no data segment of the connection within 5 s")
            return 1
        p = got[0]
        peer = p[IP].dst
        in_flight = p[TCP].seq
        wrong = (p[TCP].seq + (1 << 31)) % M

        def quote(seq):
            # What a router would quote: ustack's IP header and the first 8 TCP bytes.
            return bytes(IP(src=us_ip, dst=peer, proto=6, flags="DF", ttl=64) /
                         TCP(sport=sport, dport=p[TCP].dport, seq=seq, ack=p[TCP].ack, flags="A"))[:28]

        def err(t, c, seq, **kw):
            return eth / IP(src=peer, dst=us_ip) / ICMP(type=t, code=c, **kw) / Raw(quote(seq))

        for mtu in (0, 1, 67, 68, 65535):
            send(f"frag-needed MTU {mtu}, sequence number not in flight", err(3, 4, wrong, nexthopmtu=mtu))
        for mtu in (0, 1, 67, 65535):
            send(f"frag-needed MTU {mtu}, sequence number in flight", err(3, 4, in_flight, nexthopmtu=mtu))
        for code, name in ((3, "port"), (2, "protocol"), (1, "host"), (0, "net"), (13, "admin-prohibited")):
            send(f"{name} unreachable, sequence number not in flight", err(3, code, wrong))
        send("source quench, sequence number not in flight", err(4, 0, wrong))
        send("time exceeded, sequence number not in flight", err(11, 0, wrong))
        send("parameter problem, sequence number not in flight", err(12, 0, wrong))
        # A hard error at a sequence number in flight: RFC 5927 and RFC 1122
        # 4.2.3.9 for an established connection: a soft error, never an abort.
        send("port unreachable, sequence number in flight", err(3, 3, in_flight))
        send("protocol unreachable, sequence number in flight", err(3, 2, in_flight))
        return 0

    if cmd == "arp-spoof":
        victim = args[0]
        bogus = "02:de:ad:be:ef:01"
        frames = []
        for _ in range(5):
            # Unsolicited reply: "victim is at bogus".
            frames.append(Ether(src=bogus, dst=us_mac) / ARP(op=2, hwsrc=bogus, psrc=victim, hwdst=us_mac, pdst=us_ip))
            # Gratuitous request (sender = target = victim), broadcast.
            frames.append(Ether(src=bogus, dst="ff:ff:ff:ff:ff:ff") /
                          ARP(op=1, hwsrc=bogus, psrc=victim, hwdst="00:00:00:00:00:00", pdst=victim))
            # A request claiming ustack's own address.
            frames.append(Ether(src=bogus, dst="ff:ff:ff:ff:ff:ff") /
                          ARP(op=1, hwsrc=bogus, psrc=us_ip, hwdst="00:00:00:00:00:00", pdst=victim))
        send("ARP frames mapping the victim to a bogus MAC (unsolicited replies, gratuitous requests)", frames, inter=0.05)
        return 0

    print(f"unknown subcommand {cmd}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
