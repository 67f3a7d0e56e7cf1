"""netrig_ns.py: the Linux half of tests/netrig.py, a script run inside the
rig's network namespace (`ip netns exec NS python3 tests/netrig_ns.py
ping|blast|udpecho|udpflows ...`; NetRig.ping, .blast, .udp_echo and
.udp_flows start it and read its one JSON line).

  ping   ICMP echo through Linux's own stack (a raw ICMP socket: Linux does
         ARP, fragments what is larger than the MTU and reassembles the
         replies); prints one JSON line with sent/received counts.
  blast  seeded malformed frames (scapy builds them, an AF_PACKET socket
         sends them) to the guest's MAC; the same seed gives the same
         frames.
  udpecho  UDP datagrams of given sizes to an echo server, one at a time
         (each waits for its reply) and then in a burst; every reply is
         compared byte for byte.
  udpflows  datagrams from many bound source ports, round robin, to a
         server that echoes them (reuseport -e), at most `window`
         unanswered at a time.
  frames  `count` frames of `size` bytes of ethertype 0x88b5 (nothing in
         the guest handles it: net.link.ether.unknown_type counts them)
         to the guest's MAC, back to back; the tap's drops are reported.

Every command stops by itself at --deadline and reports what it got.
"""

import json
import os
import random
import socket
import struct
import sys
import time

from inetsum import cksum
from netrig import GUEST_IP, GUEST_MAC


LATE_S = 10.0


def cmd_ping(a):
    """Raw ICMP socket: the kernel adds the IP header, fragments and
    reassembles; we build the ICMP echo and match the replies."""
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    if a.src:
        s.bind((a.src, 0))
    ident = a.ident if a.ident is not None else (os.getpid() & 0xffff)
    dst = a.dst
    payload = bytes((i * 7 + 3) & 0xff for i in range(a.size))
    sent = received = bad = 0
    outstanding = {}                 # seq -> deadline
    # Past its deadline a request no longer holds the window, but its
    # reply still counts: a guest on a loaded host answers seconds late.
    # After the last request, late ones get LATE_S more to come in.
    late = set()
    linger = None
    done = set()
    seq = 0
    next_send = time.monotonic()
    errors = []
    end = time.monotonic() + a.deadline
    while True:
        now = time.monotonic()
        if now >= end:
            errors.append("deadline: stopped after %d sent" % sent)
            break
        # expire
        for q in [q for q, d in outstanding.items() if d <= now]:
            del outstanding[q]
            late.add(q)
        if seq < a.count and len(outstanding) < a.window and \
                now >= next_send:
            hdr = struct.pack("!BBHHH", 8, 0, 0, ident, seq & 0xffff)
            ck = cksum(hdr + payload)
            pkt = struct.pack("!BBHHH", 8, 0, ck, ident, seq & 0xffff) + \
                payload
            try:
                s.sendto(pkt, (dst, 0))
                sent += 1
                outstanding[seq & 0xffff] = now + a.wait
            except OSError as e:
                errors.append(str(e))
                if len(errors) > 100:
                    break
            seq += 1
            next_send = now + a.interval
            continue
        if seq >= a.count and not outstanding:
            if linger is None:
                linger = now + max(a.wait, LATE_S)
            if not late or now >= linger:
                break
        # wait for a reply or the next event
        deadlines = list(outstanding.values()) + ([linger] if linger else [])
        if seq < a.count and len(outstanding) < a.window:
            deadlines.append(next_send)
        t = max(0.0, min(deadlines) - time.monotonic()) if deadlines else 0
        s.settimeout(t if t > 0 else 0.0001)
        try:
            data, addr = s.recvfrom(70000)
        except (socket.timeout, BlockingIOError):
            continue
        ihl = (data[0] & 0xf) * 4
        icmp = data[ihl:]
        if addr[0] != dst or len(icmp) < 8 or icmp[0] != 0:
            continue
        _, _, _, rid, rseq = struct.unpack("!BBHHH", icmp[:8])
        if rid != ident or rseq in done or \
                (rseq not in outstanding and rseq not in late):
            continue
        outstanding.pop(rseq, None)
        late.discard(rseq)
        done.add(rseq)
        if icmp[8:] == payload and cksum(icmp) == 0:
            received += 1
        else:
            bad += 1
    print(json.dumps({"sent": sent, "received": received, "bad": bad,
                      "errors": errors[:5]}))


def build_malformed(rng, dst_mac, src_mac):
    """One malformed frame (bytes) and its kind, from rng only."""
    from scapy.all import Ether, IP, ICMP, ARP, Raw, raw
    dst_ip, src_ip = GUEST_IP, "10.0.2.%d" % rng.randint(2, 14)
    eth = Ether(dst=dst_mac, src=src_mac)
    kind = rng.choice(["random", "short_eth", "short_ip", "badvers",
                       "badihl", "badlen_long", "badlen_short", "badsum",
                       "badicmp", "frag_overlap", "frag_bogus", "short_arp",
                       "badproto"])
    def rbytes(n):
        return bytes(rng.getrandbits(8) for _ in range(n))
    def good_ip(payload_len=rng.randint(8, 64)):
        p = IP(src=src_ip, dst=dst_ip, id=rng.getrandbits(16)) / \
            ICMP(type=8, id=rng.getrandbits(16), seq=rng.getrandbits(16)) / \
            Raw(rbytes(payload_len))
        return bytearray(raw(p))
    if kind == "random":
        b = rbytes(rng.randint(0, 1500))
        et = rng.choice([b"\x08\x00", b"\x08\x06", rbytes(2)])
        return raw(eth)[:12] + et + b, kind
    if kind == "short_eth":
        return raw(eth)[:rng.randint(0, 13)], kind
    if kind == "short_ip":
        return raw(eth)[:12] + b"\x08\x00" + bytes(good_ip()[:rng.randint(0, 19)]), kind
    if kind == "short_arp":
        a = raw(ARP(op=rng.choice([1, 2]), hwsrc=src_mac, psrc=src_ip,
                    pdst=dst_ip))
        if rng.random() < 0.5:
            a = a[:rng.randint(0, 27)]
        else:   # bad hardware/protocol lengths
            a = bytearray(a)
            a[4] = rng.getrandbits(8)
            a[5] = rng.getrandbits(8)
            a = bytes(a)
        return raw(eth)[:12] + b"\x08\x06" + a, kind
    ip = good_ip()
    def fix_sum(b):
        ihl = (b[0] & 0xf) * 4
        b[10:12] = b"\0\0"
        if 20 <= ihl <= len(b):
            b[10:12] = struct.pack("!H", cksum(bytes(b[:ihl])))
        return b
    if kind == "badvers":
        ip[0] = (rng.choice([0, 1, 5, 6, 15]) << 4) | (ip[0] & 0xf)
        fix_sum(ip)
    elif kind == "badihl":
        ip[0] = 0x40 | rng.choice([0, 1, 2, 3, 4, 15, 14])
        fix_sum(ip)
    elif kind == "badlen_long":
        ip[2:4] = struct.pack("!H", len(ip) + rng.randint(1, 60000))
        fix_sum(ip)
    elif kind == "badlen_short":
        ip[2:4] = struct.pack("!H", rng.randint(0, 19))
        fix_sum(ip)
    elif kind == "badsum":
        ip[10] ^= 1 + rng.getrandbits(7)
    elif kind == "badicmp":
        ip[22] ^= 1 + rng.getrandbits(7)       # ICMP checksum
    elif kind == "badproto":
        ip[9] = rng.choice([0, 2, 41, 99, 253, 255])
        fix_sum(ip)
    elif kind in ("frag_overlap", "frag_bogus"):
        # one fragment of a datagram (id from a small set so queues collide)
        ip[4:6] = struct.pack("!H", rng.randint(1, 8))
        if kind == "frag_overlap":
            off = rng.randint(0, 4)               # 8-byte units: overlaps
            mf = rng.random() < 0.7
        else:
            off = rng.choice([0x1fff, 0x1ffe, 8189, rng.getrandbits(13)])
            mf = rng.random() < 0.5
        ip[6:8] = struct.pack("!H", (0x2000 if mf else 0) | off)
        fix_sum(ip)
    return raw(eth)[:12] + b"\x08\x00" + bytes(ip), kind


def cmd_blast(a):
    rng = random.Random(a.seed)
    with open("/sys/class/net/%s/address" % a.iface) as f:
        src_mac = f.read().strip()
    frames, kinds = [], {}
    for _ in range(a.count):
        fr, k = build_malformed(rng, a.dst_mac, src_mac)
        frames.append(fr)
        kinds[k] = kinds.get(k, 0) + 1
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((a.iface, 0))
    sent = errors = 0
    for i, fr in enumerate(frames):
        if len(fr) < 14:
            # the tap will not take a frame without a whole Ethernet
            # header; send it padded with garbage instead
            fr = fr + bytes(14 - len(fr))
        try:
            s.send(fr)
            sent += 1
        except OSError:
            errors += 1
        if i % 200 == 199:
            time.sleep(0.02)     # let QEMU drain the tap's queue a bit
    print(json.dumps({"sent": sent, "errors": errors, "kinds": kinds}))


def cmd_frames(a):
    with open("/sys/class/net/%s/address" % a.iface) as f:
        src = bytes.fromhex(f.read().strip().replace(":", ""))
    dst = bytes.fromhex(a.dst_mac.replace(":", ""))
    frame = dst + src + struct.pack("!H", 0x88B5) + bytes(a.size - 14)
    drops = "/sys/class/net/%s/statistics/tx_dropped" % a.iface
    with open(drops) as f:
        d0 = int(f.read())
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((a.iface, 0))
    sent = errors = 0
    for _ in range(a.count):
        try:
            s.send(frame)
            sent += 1
        except OSError:
            errors += 1
    with open(drops) as f:
        d1 = int(f.read())
    print(json.dumps({"sent": sent, "errors": errors, "tap_dropped": d1 - d0}))


def _pattern(tag, size):
    """Payload of `size` bytes that depends on tag (a reply from another
    datagram of the same size does not match)."""
    head = struct.pack("!I", tag & 0xffffffff)
    body = bytes(((i * 31) + tag) & 0xff for i in range(size))
    return (head + body[4:])[:size] if size >= 4 else body


def cmd_udpecho(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind(("0.0.0.0", 0))
    dst = (a.dst, a.port)
    sizes = [int(x) for x in a.sizes.split(",") if x != ""]
    end = time.monotonic() + a.deadline
    errors = []
    results = {}
    tag = 0

    def drain():
        s.setblocking(False)
        try:
            while True:
                s.recvfrom(70000)
        except (BlockingIOError, OSError):
            pass
        s.setblocking(True)

    for size in sizes:
        r = results.setdefault(str(size), {"sent": 0, "ok": 0, "resent": 0,
                                           "lost": 0, "bad": 0})
        for _ in range(a.repeat):
            tag += 1
            payload = _pattern(tag, size)
            done = False
            for attempt in range(a.tries):
                if time.monotonic() >= end:
                    errors.append("deadline")
                    break
                try:
                    s.sendto(payload, dst)
                except OSError as e:
                    errors.append("send %d: %s" % (size, e))
                    continue
                if attempt == 0:
                    r["sent"] += 1
                else:
                    r["resent"] += 1
                t_end = time.monotonic() + a.wait
                while True:
                    left = t_end - time.monotonic()
                    if left <= 0:
                        break
                    s.settimeout(left)
                    try:
                        data, addr = s.recvfrom(70000)
                    except socket.timeout:
                        break
                    except OSError as e:
                        errors.append("recv: %s" % e)
                        break
                    if addr != dst:
                        continue
                    if data == payload:
                        r["ok"] += 1
                        done = True
                        break
                    if len(data) == size and size >= 4 and \
                            data[:4] != payload[:4]:
                        continue            # a late reply to an earlier one
                    r["bad"] += 1
                    if len(errors) < 20:
                        errors.append("size %d: reply of %d bytes differs "
                                      "(first bytes %s)" % (
                                          size, len(data), data[:16].hex()))
                    done = True
                    break
                if done:
                    break
            if not done:
                r["lost"] += 1
                drain()
    burst = {"sent": 0, "ok": 0, "bad": 0, "missing": 0}
    if a.burst and sizes:
        want = {}
        for i in range(a.burst):
            tag += 1
            size = sizes[i % len(sizes)]
            if size < 4:
                size = 4 + i % 4             # tagged, still tiny
            p = _pattern(tag, size)
            want[p[:4]] = p
            try:
                s.sendto(p, dst)
                burst["sent"] += 1
            except OSError as e:
                errors.append("burst send: %s" % e)
        t_end = time.monotonic() + a.wait * 2
        while want and time.monotonic() < t_end:
            s.settimeout(max(0.001, t_end - time.monotonic()))
            try:
                data, addr = s.recvfrom(70000)
            except socket.timeout:
                break
            if addr != dst:
                continue
            p = want.pop(data[:4], None)
            if p is not None and p == data:
                burst["ok"] += 1
            else:
                burst["bad"] += 1
                if len(errors) < 20:
                    errors.append("burst: unexpected reply of %d bytes %s"
                                  % (len(data), data[:16].hex()))
        burst["missing"] = len(want)
    print(json.dumps({"results": results, "burst": burst,
                      "errors": errors[:20]}))


def cmd_udpflows(a):
    import resource
    import selectors
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = a.nports + 64
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(need, hard), hard))
    dst = (a.dst, a.port)
    sel = selectors.DefaultSelector()
    socks = []
    for i in range(a.nports):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setblocking(False)
        s.bind(("0.0.0.0", a.first_sport + i))
        sel.register(s, selectors.EVENT_READ, i)
        socks.append(s)
    # tag: 4 bytes of (port index, round); outstanding: tag -> [deadline,
    # tries, port index]
    outstanding = {}
    echoed_by = [0] * a.nports
    st = {"sent": 0, "resent": 0, "echoed": 0, "lost": 0, "bad": 0}
    errors = []
    end = time.monotonic() + a.deadline
    order = [(r, i) for r in range(a.per_port) for i in range(a.nports)]
    k = 0

    def payload(i, r):
        return struct.pack("!HH", i, r) + b"netkern"

    def send(i, r):
        try:
            socks[i].sendto(payload(i, r), dst)
            return True
        except OSError as e:
            if len(errors) < 20:
                errors.append("send from %d: %s" % (a.first_sport + i, e))
            return False

    while True:
        now = time.monotonic()
        if now >= end:
            errors.append("deadline: %d of %d sent" % (k, len(order)))
            break
        for tag, o in list(outstanding.items()):
            if o[0] <= now:
                if o[1] >= a.tries:
                    del outstanding[tag]
                    st["lost"] += 1
                else:
                    o[0] = now + a.wait
                    o[1] += 1
                    st["resent"] += 1
                    send(o[2], tag & 0xffff)
        while k < len(order) and len(outstanding) < a.window:
            r, i = order[k]
            k += 1
            if send(i, r):
                st["sent"] += 1
                outstanding[(i << 16) | r] = [time.monotonic() + a.wait, 1,
                                              i]
        if k >= len(order) and not outstanding:
            break
        nxt = min((o[0] for o in outstanding.values()), default=now + 0.1)
        for key, _ in sel.select(max(0.0, min(nxt, end) - time.monotonic())):
            s = key.fileobj
            while True:
                try:
                    data, addr = s.recvfrom(2048)
                except (BlockingIOError, InterruptedError):
                    break
                except OSError as e:
                    if len(errors) < 20:
                        errors.append("recv: %s" % e)
                    break
                if addr != dst or len(data) != 11 or data[4:] != b"netkern":
                    st["bad"] += 1
                    continue
                i, r = struct.unpack("!HH", data[:4])
                if i != key.data:
                    st["bad"] += 1           # echoed to the wrong port
                    continue
                if outstanding.pop((i << 16) | r, None) is not None:
                    st["echoed"] += 1
                    echoed_by[i] += 1
    short = {str(a.first_sport + i): n for i, n in enumerate(echoed_by)
             if n < a.per_port}
    st["per_port_echoed"] = dict(list(short.items())[:50])
    st["errors"] = errors[:20]
    print(json.dumps(st))


def main(argv):
    import argparse
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    pp = sub.add_parser("ping")
    pp.add_argument("--dst", required=True)
    pp.add_argument("--src")
    pp.add_argument("--count", type=int, default=1)
    pp.add_argument("--size", type=int, default=56)
    pp.add_argument("--interval", type=float, default=0.0)
    pp.add_argument("--wait", type=float, default=2.0)
    pp.add_argument("--window", type=int, default=1)
    pp.add_argument("--ident", type=int)
    pp.add_argument("--deadline", type=float, default=600)
    pb = sub.add_parser("blast")
    pb.add_argument("--iface", required=True)
    pb.add_argument("--seed", type=int, required=True)
    pb.add_argument("--count", type=int, required=True)
    pb.add_argument("--dst-mac", default=GUEST_MAC)
    pr = sub.add_parser("frames")
    pr.add_argument("--iface", required=True)
    pr.add_argument("--count", type=int, required=True)
    pr.add_argument("--size", type=int, default=60)
    pr.add_argument("--dst-mac", default=GUEST_MAC)
    pu = sub.add_parser("udpecho")
    pu.add_argument("--dst", required=True)
    pu.add_argument("--port", type=int, required=True)
    pu.add_argument("--sizes", required=True)
    pu.add_argument("--repeat", type=int, default=1)
    pu.add_argument("--burst", type=int, default=0)
    pu.add_argument("--wait", type=float, default=2.0)
    pu.add_argument("--tries", type=int, default=3)
    pu.add_argument("--deadline", type=float, default=600)
    pf = sub.add_parser("udpflows")
    pf.add_argument("--dst", required=True)
    pf.add_argument("--port", type=int, required=True)
    pf.add_argument("--first-sport", type=int, required=True)
    pf.add_argument("--nports", type=int, required=True)
    pf.add_argument("--per-port", type=int, default=1)
    pf.add_argument("--window", type=int, default=16)
    pf.add_argument("--wait", type=float, default=2.0)
    pf.add_argument("--tries", type=int, default=3)
    pf.add_argument("--deadline", type=float, default=600)
    a = p.parse_args(argv)
    {"ping": cmd_ping, "blast": cmd_blast, "udpecho": cmd_udpecho,
     "udpflows": cmd_udpflows, "frames": cmd_frames}[a.cmd](a)


if __name__ == "__main__":
    main(sys.argv[1:])
