"""bench/nsside.py: the Linux side of `make bench`, run inside the rig's
network namespace as `ip netns exec NS python3 bench/run.py ns-...`
(bench/run.py hands every ns-* command here; Bench.ns_script starts it and
reads the one JSON line it prints).

  ns-ping   ICMP echo requests one after the other; RTTs in microseconds.
  ns-blast  raw frames of an ethertype nothing handles, as fast as the
            tap takes them (the e1000's raw receive rate).
  ns-udp    UDP datagrams from many sockets to the guest for a while.
  ns-pace, ns-tcpsend, ns-tcpsink: bench/rxbench.py, bench/tcpbench.py;
  ns-udppace, ns-tcpsinkn: bench/contendbench.py.
"""

import argparse
import json
import os
import socket
import struct
import time

import contendbench
import rxbench
import tcpbench
from inetsum import cksum      # tests/inetsum.py (bench/run.py puts tests/ on the path)

GUEST_IP = "10.0.2.15"
GUEST_MAC = "52:54:00:12:34:56"
ETHERTYPE_BENCH = 0x88B5      # IEEE local experimental: nothing handles it


def ns_ping(a):
    """count echo requests one after the other (the next when the reply is
    in, or after 1 s); RTTs in microseconds from perf_counter."""
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    ident = os.getpid() & 0xffff
    payload = bytes(range(56))
    rtts, lost = [], 0
    for seq in range(a.count):
        hdr = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
        pkt = struct.pack("!BBHHH", 8, 0, cksum(hdr + payload), ident,
                          seq) + payload
        t0 = time.perf_counter()
        s.sendto(pkt, (a.dst, 0))
        got = False
        while not got:
            left = t0 + 1.0 - time.perf_counter()
            if left <= 0:
                break
            s.settimeout(left)
            try:
                data, addr = s.recvfrom(2048)
            except socket.timeout:
                break
            icmp = data[(data[0] & 0xf) * 4:]
            got = (addr[0] == a.dst and len(icmp) >= 8 and icmp[0] == 0 and
                   struct.unpack("!HH", icmp[4:8]) == (ident, seq))
        if got:
            rtts.append((time.perf_counter() - t0) * 1e6)
        else:
            lost += 1
        if a.interval:
            time.sleep(a.interval)
    print(json.dumps({"sent": a.count, "lost": lost, "rtt_us": rtts}))


def _tap_stats(iface):
    d = "/sys/class/net/%s/statistics/" % iface
    return {k: int(open(d + k).read()) for k in
            ("tx_packets", "tx_dropped", "rx_packets")}


def ns_blast(a):
    """Frames of a.size bytes before the FCS (60: the minimum; 1514: a
    full-size frame, bench/rxbench.py) to the guest's MAC with an
    ethertype nothing handles, flat out for a.secs seconds."""
    with open("/sys/class/net/%s/address" % a.iface) as f:
        src = bytes.fromhex(f.read().strip().replace(":", ""))
    dst = bytes.fromhex(a.dst_mac.replace(":", ""))
    frame = dst + src + struct.pack("!H", ETHERTYPE_BENCH) + bytes(a.size - 14)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((a.iface, 0))
    before = _tap_stats(a.iface)
    sent = errors = 0
    send = s.send
    t0 = time.monotonic()
    end = t0 + a.secs
    while True:
        for _ in range(256):
            try:
                send(frame)
                sent += 1
            except OSError:
                errors += 1
        if time.monotonic() >= end:
            break
    secs = time.monotonic() - t0
    time.sleep(0.2)
    after = _tap_stats(a.iface)
    print(json.dumps({"sent": sent, "errors": errors, "secs": secs,
                      "tap_tx": after["tx_packets"] - before["tx_packets"],
                      "tap_dropped": after["tx_dropped"] - before["tx_dropped"]}))


def ns_udp(a):
    """UDP datagrams to dst:port from a.socks source ports, round robin,
    flat out for a.secs seconds (so a reuseport group sees many flows)."""
    socks = []
    for _ in range(a.socks):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((a.src, 0))
        socks.append(s)
    payload = b"u" * a.size
    dst = (a.dst, a.port)
    before = _tap_stats(a.iface) if a.iface else None
    sent = errors = 0
    t0 = time.monotonic()
    end = t0 + a.secs
    n = len(socks)
    i = 0
    while True:
        for _ in range(256):
            try:
                socks[i % n].sendto(payload, dst)
                sent += 1
            except OSError:
                errors += 1
            i += 1
        if time.monotonic() >= end:
            break
    secs = time.monotonic() - t0
    r = {"sent": sent, "errors": errors, "secs": secs}
    if before:
        after = _tap_stats(a.iface)
        r["tap_to_qemu"] = after["tx_packets"] - before["tx_packets"]
        r["tap_dropped"] = after["tx_dropped"] - before["tx_dropped"]
    print(json.dumps(r))


def ns_main(argv):
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    pp = sub.add_parser("ns-ping")
    pp.add_argument("--dst", required=True)
    pp.add_argument("--count", type=int, default=200)
    pp.add_argument("--interval", type=float, default=0.0)
    pb = sub.add_parser("ns-blast")
    pb.add_argument("--iface", required=True)
    pb.add_argument("--secs", type=float, default=5)
    pb.add_argument("--dst-mac", default=GUEST_MAC)
    pb.add_argument("--size", type=int, default=60)
    pu = sub.add_parser("ns-udp")
    pu.add_argument("--dst", required=True)
    pu.add_argument("--src", default="10.0.2.2")
    pu.add_argument("--port", type=int, required=True)
    pu.add_argument("--secs", type=float, default=5)
    pu.add_argument("--socks", type=int, default=16)
    pu.add_argument("--size", type=int, default=64)
    pu.add_argument("--iface")
    if argv[0] == "ns-pace":
        return rxbench.ns_main(argv[1:])
    if argv[0] in contendbench.NS_CMDS:
        return contendbench.NS_CMDS[argv[0]](argv[1:])
    if argv[0] in ("ns-tcpsend", "ns-tcpsink"):
        return tcpbench.ns_main(argv[0], argv[1:])
    a = p.parse_args(argv)
    {"ns-ping": ns_ping, "ns-blast": ns_blast, "ns-udp": ns_udp}[a.cmd](a)

