"""The impairment relay (tests/relay.py) itself.

1. Decisions: the same seed gives the same decisions frame by frame, a
   different seed or direction different ones, and the rates come out as
   configured (all in-process, exact for the seed).
2. Corruption: every corrupted IPv4 UDP/TCP frame keeps its IP header and
   fails its transport checksum; non-IPv4 frames are never touched.
3. On the wire, without QEMU: this file run as a script inside the rig's
   namespace plays the guest's end of the relay (a UDP socket where QEMU's
   dgram netdev would be) while Linux's own UDP sockets are the other end.
   Each impairment is seen there: loss, duplication, reordering, delay,
   jitter, and corruption, which the scripted guest finds as frames whose checksum
   fails and which Linux drops by checksum (Udp InCsumErrors), never
   delivering a corrupted byte.  Two runs with one seed lose the same
   datagrams.
4. A guest behind the relay: Linux pings it through a 40 ms delay, and
   datagrams corrupted on the way in are dropped by the guest's UDP
   checksum (net.inet.udp.badsum) while the others arrive intact.
"""

import json
import os
import re
import socket
import struct
import sys
import time

import pytest

import netkern
from netrig import (GUEST_IP, GUEST_MAC, PEER_IP, RELAY_PORT,
                    RELAY_QEMU_PORT, NetRig, netguest, sysctl_int)
import relay
from inetsum import cksum

__all__ = ["netguest"]


# ---- 1. decisions ----------------------------------------------------------

CFG = {"loss": 0.1, "dup": 0.05, "corrupt": 0.07, "reorder": 0.03,
       "delay_ms": 2, "jitter_ms": 4, "reorder_ms": 20}


def decisions(seed, direction, n, cfg=CFG):
    d = relay.Decider(seed, direction, relay.params(cfg))
    return [d.decide().key() for _ in range(n)]


def test_relay_same_seed_same_decisions():
    a, b = decisions(7, "in", 5000), decisions(7, "in", 5000)
    assert a == b
    assert decisions(8, "in", 5000) != a
    assert decisions(7, "out", 5000) != a


def test_relay_rates_follow_the_parameters():
    n = 20000
    dec = relay.Decider(3, "out", relay.params(CFG))
    ds = [dec.decide() for _ in range(n)]
    rate = lambda f: sum(1 for d in ds if f(d)) / n          # noqa: E731
    assert abs(rate(lambda d: d.drop) - 0.1) < 0.01
    assert abs(rate(lambda d: d.copies == 2) - 0.05) < 0.01
    assert abs(rate(lambda d: d.corrupt is not None) - 0.07) < 0.01
    assert abs(rate(lambda d: d.reordered) - 0.03) < 0.01
    for d in ds:
        lo = 0.002 + (0.020 if d.reordered else 0)
        assert lo <= d.delay <= lo + 0.004 + 1e-9
    none = relay.Decider(3, "out", relay.params({}))
    for _ in range(1000):
        d = none.decide()
        assert not d.drop and d.copies == 1 and d.corrupt is None \
            and not d.reordered and d.delay == 0


# ---- 2. corruption ---------------------------------------------------------

def ip_frame(proto, l4, src="10.0.2.15", dst="10.0.2.2"):
    """An Ethernet frame carrying IPv4 with transport bytes l4, whose
    checksum field (UDP 6, TCP 16) is filled in here."""
    s, d = socket.inet_aton(src), socket.inet_aton(dst)
    l4 = bytearray(l4)
    at = 6 if proto == 17 else 16
    l4[at:at + 2] = b"\0\0"
    pseudo = s + d + struct.pack("!BBH", 0, proto, len(l4))
    c = cksum(pseudo + bytes(l4)) or 0xffff
    l4[at:at + 2] = struct.pack("!H", c)
    ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 1, 0,
                               64, proto, 0, s, d))
    ip[10:12] = struct.pack("!H", cksum(bytes(ip)))
    eth = bytes.fromhex("525400123456" "020000000001" "0800")
    return eth + bytes(ip) + bytes(l4)


def l4_ok(frame):
    """True if the frame's IP header and transport checksum are right."""
    ip = frame[14:34]
    if cksum(ip) != 0:
        return None                       # IP header damaged
    proto = ip[9]
    total = struct.unpack("!H", ip[2:4])[0]
    l4 = frame[34:14 + total]
    pseudo = ip[12:16] + ip[16:20] + struct.pack("!BBH", 0, proto, len(l4))
    return cksum(pseudo + l4) == 0


def udp(payload, sport=5000, dport=6000):
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def tcp(payload, flags=0x10):
    return struct.pack("!HHIIBBHHH", 5000, 80, 1, 2, 5 << 4, flags, 8192, 0,
                       0) + payload


@pytest.mark.parametrize("frame", [
    ip_frame(17, udp(b"hello, checksum" * 7)),
    ip_frame(17, udp(b"")),
    ip_frame(6, tcp(b"x" * 1000)),
    ip_frame(6, tcp(b"")),                       # a bare ACK
], ids=["udp", "udp-empty", "tcp", "tcp-ack"])
def test_relay_corruption_breaks_the_transport_checksum(frame):
    assert l4_ok(frame) is True
    for pos in range(0, 4000, 7):
        for mask in (1, 0x80, 0xff, 0x5a):
            c = relay.corrupt_frame(frame, pos, mask)
            assert c is not None and len(c) == len(frame) and c != frame
            assert c[:34] == frame[:34], "Ethernet or IP header changed"
            assert l4_ok(c) is False, (pos, mask)


def test_relay_leaves_arp_and_fragments_alone():
    arp = bytes.fromhex("ffffffffffff" "020000000001" "0806") + bytes(28)
    assert relay.corrupt_frame(arp, 5, 3) is None
    f = bytearray(ip_frame(17, udp(b"z" * 100)))
    f[14 + 6:14 + 8] = struct.pack("!H", 185)       # a later fragment
    assert relay.corrupt_frame(bytes(f), 5, 3) is None
    st = relay.new_stats()["in"]
    d = relay.Decider(1, "in", relay.params({"corrupt": 1.0})).decide()
    out = relay.apply(d, arp, st)
    assert out == [(0.0, arp)] and st["corrupt_skipped"] == 1


# ---- 3. on the wire, without QEMU -----------------------------------------

def udp_in_csum_errors():
    """Linux's Udp InCsumErrors in this namespace (/proc/net/snmp)."""
    with open("/proc/net/snmp") as f:
        lines = [ln.split() for ln in f if ln.startswith("Udp:")]
    return int(lines[1][lines[0].index("InCsumErrors")])


SO_RCVBUFFORCE = 33     # Linux: SO_RCVBUF beyond rmem_max (we are root)


def wire(a):
    """Script half (inside the namespace, relay running): N datagrams
    Linux -> the guest's end, and N frames the guest's end -> Linux, at
    `gap` seconds apart; prints what each end saw as JSON."""
    n, gap = a.count, a.gap
    g = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    lin = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for s in (g, lin):
        s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 8 << 20)
    g.bind(("127.0.0.1", RELAY_QEMU_PORT))
    lin.bind((PEER_IP, 6000))
    with open("/sys/class/net/%s/address" % a.tap) as f:
        tap_mac = bytes.fromhex(f.read().strip().replace(":", ""))
    csum0 = udp_in_csum_errors()
    res = {"in_seq": [], "in_bad": 0, "in_iphdr_bad": 0, "in_latency_min": 9,
           "in_latency_max": 0,
           "out_seq": [], "out_damaged": 0}
    sent_at = {}
    import select

    def pump(until, quiet_s=None):
        """Read both ends until `until` (or, with quiet_s, until they have
        been quiet that long)."""
        while True:
            now = time.monotonic()
            if now >= until:
                return
            ready, _, _ = select.select([g, lin], [], [],
                                        max(0, until - now))
            for s in ready:
                data = s.recv(65536)
                if quiet_s is not None:
                    until = time.monotonic() + quiet_s
                take(s, data)

    def take(s, data):
        if s is lin:
            m = re.match(rb"seq:(\d{6}):", data)
            i = int(m.group(1)) if m else -1
            want = b"seq:%06d:" % i + bytes((i + k) & 0xff for k in range(64))
            if data != want:
                res["out_damaged"] += 1
            res["out_seq"].append(i)
            return
        ok = l4_ok(data)
        if ok is None:
            res["in_iphdr_bad"] += 1
        elif not ok:
            res["in_bad"] += 1
        else:
            i = int(data[42 + 4:42 + 10])
            res["in_seq"].append(i)
            lat = time.monotonic() - sent_at[i]
            res["in_latency_min"] = min(res["in_latency_min"], lat)
            res["in_latency_max"] = max(res["in_latency_max"], lat)

    t0 = time.monotonic()
    for i in range(n):
        payload = b"seq:%06d:" % i + bytes((i + k) & 0xff for k in range(64))
        sent_at[i] = time.monotonic()
        lin.sendto(payload, (GUEST_IP, 5000))
        fr = bytearray(ip_frame(17, udp(payload, 5000, 6000), GUEST_IP,
                                PEER_IP))
        fr[0:6] = tap_mac
        g.sendto(bytes(fr), ("127.0.0.1", RELAY_PORT))
        pump(t0 + (i + 1) * gap)
    pump(time.monotonic() + 1.0, quiet_s=1.0)
    res["out_csum_errors"] = udp_in_csum_errors() - csum0
    print(json.dumps(res))


@pytest.fixture
def wirerig(workdir):
    rig = NetRig(workdir)
    try:
        rig.setup()
        # the scripted guest answers no ARP: tell Linux its MAC
        rig.ns_run(["ip", "neigh", "replace", GUEST_IP, "lladdr", GUEST_MAC,
                    "dev", rig.tap, "nud", "permanent"])
        yield rig
    finally:
        rig.close()


def run_wire(rig, count, gap):
    r = rig.ns_run([sys.executable or "/usr/bin/python3",
                    os.path.abspath(__file__), "wire", "--tap", rig.tap,
                    "--count", str(count), "--gap", str(gap)], timeout=120)
    return json.loads(r.stdout.strip().splitlines()[-1])


def out_of_order(seq):
    return sum(1 for a, b in zip(seq, seq[1:]) if b < a)


def test_relay_each_impairment_on_the_wire(wirerig):
    rig = wirerig
    n = 400
    cfg = {"seed": 11,
           "in": {"loss": 0.1, "dup": 0.1, "corrupt": 0.1, "reorder": 0.1,
                  "delay_ms": 30, "reorder_ms": 15},
           "out": {"loss": 0.1, "dup": 0.1, "corrupt": 0.1, "reorder": 0.1,
                   "reorder_ms": 15}}
    rig.start_relay(cfg)
    r = run_wire(rig, n, 0.002)
    st = rig.relay_stats()
    for d in ("in", "out"):
        assert st[d]["dropped"] > 0 and st[d]["duplicated"] > 0 and \
            st[d]["corrupted"] > 0 and st[d]["reordered"] > 0, st
    # Linux -> guest: every impairment visible at the guest's end
    got = r["in_seq"]
    assert r["in_iphdr_bad"] == 0
    assert r["in_bad"] >= st["in"]["corrupted"] > 0, (r["in_bad"], st)
    assert len(set(got)) < n, "no datagram lost"
    assert len(got) > len(set(got)), "no duplicate seen"
    assert out_of_order(got) > 0, "no reordering seen"
    assert r["in_latency_min"] >= 0.030, "delay not applied"
    # guest -> Linux: Linux drops corrupted frames by checksum and
    # delivers the others intact
    assert r["out_damaged"] == 0
    assert r["out_csum_errors"] >= st["out"]["corrupted"] > 0
    assert len(set(r["out_seq"])) < n
    assert len(r["out_seq"]) > len(set(r["out_seq"]))
    assert out_of_order(r["out_seq"]) > 0


def test_relay_jitter_spreads_the_delay(wirerig):
    "delay 20 ms + jitter 0..30 ms: no frame early, some 10 ms later"
    rig = wirerig
    rig.start_relay({"seed": 2, "in": {"delay_ms": 20, "jitter_ms": 30},
                     "out": {}})
    r = run_wire(rig, 100, 0.005)
    assert len(r["in_seq"]) == 100 and r["in_bad"] == 0, r
    assert r["in_latency_min"] >= 0.020, r["in_latency_min"]
    assert r["in_latency_max"] >= r["in_latency_min"] + 0.010, \
        (r["in_latency_min"], r["in_latency_max"])
    # frames leave in order of their release time: jitter reorders
    assert out_of_order(r["in_seq"]) > 0


def test_relay_same_seed_loses_the_same_frames(wirerig):
    rig = wirerig
    cfg = {"seed": 5, "in": {"loss": 0.2}, "out": {"loss": 0.2}}
    rig.start_relay(cfg)
    n = 150
    first = run_wire(rig, n, 0.003)
    rig.set_relay(cfg)                      # re-seed: the same decisions
    second = run_wire(rig, n, 0.003)
    rig.set_relay(dict(cfg, seed=6))
    third = run_wire(rig, n, 0.003)
    lost = lambda r, k: sorted(set(range(n)) - set(r[k]))  # noqa: E731
    for k in ("in_seq", "out_seq"):
        assert lost(first, k), "nothing lost at 20%"
        assert lost(first, k) == lost(second, k), k
        assert lost(first, k) != lost(third, k), k


# ---- 4. a guest behind the relay ------------------------------------------

def test_relay_guest_ping_delay_and_udp_checksum(netguest):
    rig, g = netguest(cpus=1, relay={"seed": 3, "in": {"delay_ms": 40},
                                     "out": {}})
    r = rig.ping(count=5, wait=3)
    assert r["received"] == 5 and r["bad"] == 0, r
    st = rig.relay_stats()
    assert st["in"]["delayed"] >= 5 and st["out"]["frames"] >= 5, st
    # datagrams to the guest's nc, a third of them corrupted on the way
    rig.set_relay({"seed": 3, "in": {"corrupt": 0.33}, "out": {}})
    bad0 = sysctl_int(g, "net.inet.udp.badsum")
    g.run("nc -u -d -l -p 5000 > /got.txt &")
    # nc has bound its port once it sleeps in recvfrom (it may start late)
    assert netkern.until(lambda: re.search(r"^\s*\d+ S\s+\S+\s+\S+ nc$",
                                           g.run("ps"), re.M)), g.run("ps")
    rig.ns_run([sys.executable or "/usr/bin/python3", "-c",
                "import socket,time\n"
                "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
                "for i in range(60):\n"
                "  s.sendto(b'line %03d xxxxxxxxxxxxxxxx\\n' % i, "
                "('" + GUEST_IP + "', 5000)); time.sleep(0.01)\n"])
    # every datagram counted bad or written by nc (a loaded host runs the
    # guest late: wait for it, not a fixed time)
    bad, lines = 0, []

    def all_in():
        nonlocal bad, lines
        bad = sysctl_int(g, "net.inet.udp.badsum") - bad0
        lines = g.read_file("/got.txt").splitlines()
        return bad + len(lines) >= 60
    netkern.until(all_in)
    st = rig.relay_stats()
    assert st["in"]["corrupted"] > 0
    assert bad == st["in"]["corrupted"], (bad, st["in"])
    assert len(lines) == 60 - bad
    for ln in lines:
        assert re.fullmatch(r"line \d{3} x{16}", ln), ln


if __name__ == "__main__":
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=["wire"])
    ap.add_argument("--tap", required=True)
    ap.add_argument("--count", type=int, default=400)
    ap.add_argument("--gap", type=float, default=0.002)
    wire(ap.parse_args())
