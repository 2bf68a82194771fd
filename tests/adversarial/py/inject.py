#!/usr/bin/python3
"""Blind injection into a live TCP connection (RFC 5961), from the attacker's
side of the TAP. It sniffs one segment of the connection (ustack's side, source
port SPORT) to learn the ports and sequence numbers, then sends, 50 ms apart:

  rst-in-window     RST at RCV.NXT+1 (in window, not exact)  -> challenge ACK
  rst-after-window  RST at RCV.NXT+2^31                      -> dropped
  rst-before-window RST at RCV.NXT-100000                    -> dropped
  syn-in-window     SYN at RCV.NXT+5                         -> challenge ACK
  syn-out-window    SYN at RCV.NXT+2^31                      -> challenge ACK
  data-out-window   40 bytes at RCV.NXT+2^31                 -> ACK, dropped
  data-ack-unsent   40 bytes at RCV.NXT acking SND.NXT+2^30  -> ACK, dropped
  data-ack-old      40 bytes at RCV.NXT acking SND.UNA-2^30  -> ACK, dropped
  ack-unsent        a bare ACK of SND.NXT+2^30               -> ACK, dropped
  rst-ack-unsent    RST|ACK at RCV.NXT+1                     -> challenge ACK

(RCV.NXT, SND.* are ustack's.) None of them may reset the connection nor put
bytes into its stream. Prints one line per injection.

usage: inject.py IFACE US_MAC US_IP SPORT
"""
import sys

from scapy.all import IP, TCP, Ether, Raw, conf, get_if_hwaddr, sendp, sniff

conf.verb = 0
M = 1 << 32


def main() -> int:
    iface, us_mac, us_ip, sport = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    got = sniff(iface=iface, count=1, timeout=5,
                lfilter=lambda p: IP in p and TCP in p and p[IP].src == us_ip and p[TCP].sport == sport
                and len(p[TCP].payload) > 0)
    if not got:
        print("FAIL: no data segment of the connection seen within 5 s")
        return 1
    p = got[0]
    peer_ip, peer_port = p[IP].dst, p[TCP].dport
    snd = (p[TCP].seq + len(p[TCP].payload)) % M   # about ustack's SND.NXT
    rcv = p[TCP].ack                               # ustack's RCV.NXT
    print(f"connection {peer_ip}:{peer_port} -> {us_ip}:{sport}: ustack RCV.NXT {rcv}, SND.NXT ~{snd}")
    eth = Ether(src=get_if_hwaddr(iface), dst=us_mac)
    ip = IP(src=peer_ip, dst=us_ip)

    def seg(flags, seq, ack=0, data=b""):
        t = TCP(sport=peer_port, dport=sport, flags=flags, seq=seq % M, ack=ack % M, window=1024)
        return eth / ip / t / Raw(data) if data else eth / ip / t

    junk = b"INJECTED-" + b"X" * 31
    attacks = [
        ("rst-in-window", seg("R", rcv + 1)),
        ("rst-after-window", seg("R", rcv + (1 << 31))),
        ("rst-before-window", seg("R", rcv - 100000)),
        ("syn-in-window", seg("S", rcv + 5)),
        ("syn-out-window", seg("S", rcv + (1 << 31))),
        ("data-out-window", seg("PA", rcv + (1 << 31), snd, junk)),
        ("data-ack-unsent", seg("PA", rcv, snd + (1 << 30), junk)),
        ("data-ack-old", seg("PA", rcv, snd - (1 << 30), junk)),
        ("ack-unsent", seg("A", rcv, snd + (1 << 30))),
        ("rst-ack-unsent", seg("RA", rcv + 1, snd + (1 << 30))),
    ]
    for name, frame in attacks:
        sendp(frame, iface=iface, inter=0.05)
        print(f"sent {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
