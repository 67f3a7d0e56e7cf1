"""hostile.py: a Linux peer that sends what a hostile host would, run
inside a rig's network namespace (netrig.py) by tests/test_hostile.py.

Each command prints one JSON line.  Frames are built by hand (struct) and
sent on an AF_PACKET socket bound to the tap, so Linux's own stack neither
checks nor answers them; Linux's UDP socket is used where Linux's own
fragmentation is what we want.

  bcastsrc  an ICMP echo request and a UDP datagram to a closed port, each
            from a given source address (e.g. the subnet broadcast
            10.0.2.255); listens on the tap for `listen` seconds and counts
            what the guest sent back: echo replies and ICMP errors.
  udpbig    `count` datagrams of `size` bytes through a Linux UDP socket
            (Linux fragments them), paced by `gap` seconds.
  fragflood `count` first fragments of 8 data bytes, never completed,
            spread over `datagrams` IP ids (offsets step by 8 bytes, MF
            set, never offset 0 twice); paced in bursts.
"""

import json
import socket
import struct
import sys
import time

from inetsum import cksum, mac_bytes

GUEST_IP = "10.0.2.15"
GUEST_MAC = "52:54:00:12:34:56"


def ip_header(src, dst, proto, payload_len, ident=1, off=0):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + payload_len, ident, off,
                    64, proto, 0, socket.inet_aton(src),
                    socket.inet_aton(dst))
    return h[:10] + struct.pack("!H", cksum(h)) + h[12:]


def frame(iface_mac, dst_mac, ip):
    return mac_bytes(dst_mac) + mac_bytes(iface_mac) + b"\x08\x00" + ip


def tap_socket(iface):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
    s.bind((iface, 0))
    with open("/sys/class/net/%s/address" % iface) as f:
        mac = f.read().strip()
    return s, mac


def echo_request(src, dst, ident, seq):
    body = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + b"hostile-bcastsrc"
    body = body[:2] + struct.pack("!H", cksum(body)) + body[4:]
    return ip_header(src, dst, 1, len(body), ident=seq) + body


def udp_datagram(src, dst, sport, dport, data):
    u = struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data
    return ip_header(src, dst, 17, len(u), ident=sport) + u


def cmd_bcastsrc(a):
    s, mac = tap_socket(a.iface)
    s.settimeout(0.2)
    s.send(frame(mac, a.dst_mac, echo_request(a.src, a.dst, 0x4242, 1)))
    s.send(frame(mac, a.dst_mac, udp_datagram(a.src, a.dst, 4242, a.port,
                                              b"from a broadcast source")))
    got = {"echo_replies": 0, "icmp_errors": 0, "to_broadcast_mac": 0,
           "arp_requests": 0}
    deadline = time.monotonic() + a.listen
    while time.monotonic() < deadline:
        try:
            fr = s.recv(2048)
        except socket.timeout:
            continue
        if fr[6:12] != mac_bytes(a.dst_mac):
            continue                      # not from the guest
        etype = struct.unpack("!H", fr[12:14])[0]
        if etype == 0x0806:
            got["arp_requests"] += 1
            continue
        if etype != 0x0800 or fr[14 + 9] != 1:
            continue
        icmp_type = fr[14 + (fr[14] & 0xf) * 4]
        if fr[0:6] == b"\xff" * 6:
            got["to_broadcast_mac"] += 1
        if icmp_type == 0:
            got["echo_replies"] += 1
        elif icmp_type in (3, 4, 5, 11, 12):
            got["icmp_errors"] += 1
        if got["echo_replies"] and got["icmp_errors"]:
            break                         # both answered: nothing more to learn
    print(json.dumps(got))


def cmd_udpbig(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    data = bytes((i * 13) & 0xff for i in range(a.size))
    sent = errors = 0
    for _ in range(a.count):
        try:
            s.sendto(data, (a.dst, a.port))
            sent += 1
        except OSError:
            errors += 1
        time.sleep(a.gap)
    print(json.dumps({"sent": sent, "errors": errors}))


def cmd_fragflood(a):
    s, mac = tap_socket(a.iface)
    sent = errors = 0
    for i in range(a.count):
        ident = 0x7000 + i % a.datagrams
        k = i // a.datagrams                 # k-th fragment of that datagram
        off = (k + 1) & 0x1fff               # 8-byte units; never 0: never complete
        ip = ip_header(a.src, a.dst, 17, 8, ident=ident, off=0x2000 | off)
        try:
            s.send(frame(mac, a.dst_mac, ip + bytes([k & 0xff] * 8)))
            sent += 1
        except OSError:
            errors += 1
            time.sleep(0.01)
        if i % 100 == 99:
            time.sleep(a.gap)                # let QEMU drain the tap
    print(json.dumps({"sent": sent, "errors": errors}))


def main(argv):
    import argparse
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    pb = sub.add_parser("bcastsrc")
    pb.add_argument("--iface", required=True)
    pb.add_argument("--src", required=True)
    pb.add_argument("--dst", default=GUEST_IP)
    pb.add_argument("--dst-mac", default=GUEST_MAC)
    pb.add_argument("--port", type=int, default=33434)
    pb.add_argument("--listen", type=float, default=3.0)
    pu = sub.add_parser("udpbig")
    pu.add_argument("--dst", default=GUEST_IP)
    pu.add_argument("--port", type=int, required=True)
    pu.add_argument("--size", type=int, default=65507)
    pu.add_argument("--count", type=int, default=400)
    pu.add_argument("--gap", type=float, default=0.005)
    pf = sub.add_parser("fragflood")
    pf.add_argument("--iface", required=True)
    pf.add_argument("--src", default="10.0.2.2")
    pf.add_argument("--dst", default=GUEST_IP)
    pf.add_argument("--dst-mac", default=GUEST_MAC)
    pf.add_argument("--count", type=int, default=20000)
    pf.add_argument("--datagrams", type=int, default=4)
    pf.add_argument("--gap", type=float, default=0.01)
    a = p.parse_args(argv)
    {"bcastsrc": cmd_bcastsrc, "udpbig": cmd_udpbig,
     "fragflood": cmd_fragflood}[a.cmd](a)


if __name__ == "__main__":
    main(sys.argv[1:])
