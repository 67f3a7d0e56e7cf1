"""netrig.py: a netkern guest wired to a real Linux peer over a tap device.

Problem: the network tests need an independent, real TCP/IP stack to talk
to the guest (Linux's), without touching the host's own network, with a
packet capture of everything that crossed the wire, and with nothing left
behind (namespace, tap, QEMU) whatever happens to the test -- and two runs
must be able to go side by side.

Idea: every rig makes its own network namespace nk<pid><rand>; inside it a
tap device tk<pid><rand> with 10.0.2.2/24 (the guest's gateway), IPv6 off
(no router solicitations or MLD noise in the capture).  QEMU is started
inside the namespace (`ip netns exec NS qemu-system-riscv64 ...`, argv
passed to netkern.Guest, so the Guest kills it by PID as usual), with
NETDEV=tap,ifname=<tap> and a filter-dump of net0 into <workdir>/net.pcap.
Teardown: the guests are killed by the `boot` fixture of conftest.py (its
finally), then the namespace is deleted, which deletes the tap.

The Linux side's tools run inside the namespace through `ip netns exec`.
This file is also a script run there (python3 netrig.py ping|blast ...):
  ping   ICMP echo through Linux's own stack (a raw ICMP socket: Linux does
         ARP, fragments what is larger than the MTU and reassembles the
         replies); prints one JSON line with sent/received counts.  Used
         instead of iputils ping, which Debian 12 does not install by
         default and is not among the project's dependencies.
  blast  seeded malformed frames (scapy builds them, an AF_PACKET socket
         sends them) to the guest's MAC; the same seed gives the same
         frames.
  udpecho  UDP datagrams of given sizes to an echo server, one at a time
         (each waits for its reply) and then in a burst; every reply is
         compared byte for byte; prints one JSON line.
  udpflows  datagrams from many bound source ports (a range), round robin,
         to a server that echoes them (reuseport -e); at most `window`
         unanswered at a time, so the echoes pace the sender and the guest
         is never overrun; prints one JSON line with sent/echoed counts.

Invariants:
  - names carry the pid and a random suffix: no clash with another run;
  - every command run in the namespace has a timeout;
  - close() is idempotent and runs in the fixture's finally.

Usage (tests/test_net.py):

    def test_x(netguest):
        rig, g = netguest(cpus=2)
        r = rig.ping("10.0.2.15", count=10)
        assert r["received"] == 10
"""

import json
import os
import random
import re
import secrets
import shlex
import signal
import socket
import struct
import subprocess
import sys
import time

from inetsum import cksum

GUEST_IP = "10.0.2.15"
GUEST_MAC = "52:54:00:12:34:56"
PEER_IP = "10.0.2.2"
PREFIX = 24
RELAY_PORT = 10000          # relay.py's UDP port (QEMU sends frames there)
RELAY_QEMU_PORT = 10001     # QEMU's dgram netdev (the relay sends there)


def ip_to_int(a):
    """Dotted quad -> the host-order integer the guest's sysctls take."""
    return struct.unpack("!I", socket.inet_aton(a))[0]


# ---- the rig (runs in the test process) -----------------------------------

class NetRig:
    """One network namespace with one tap device in it."""

    def __init__(self, workdir):
        suffix = "%d%s" % (os.getpid() % 100000, secrets.token_hex(2))
        self.ns = "nk" + suffix
        self.tap = "tk" + suffix           # <= 15 chars (IFNAMSIZ)
        self.workdir = workdir
        self.pcap = os.path.join(str(workdir), "net.pcap")
        self.created = False
        self.extra_addrs = []
        self.relay = None

    # -- commands --

    def sh(self, argv, timeout=30, check=True):
        """Run a host command (not in the namespace)."""
        r = subprocess.run(argv, capture_output=True, text=True,
                           timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError("%s failed (%d):\n%s%s" % (
                " ".join(map(shlex.quote, argv)), r.returncode, r.stdout,
                r.stderr))
        return r

    def ns_argv(self, argv):
        return ["ip", "netns", "exec", self.ns] + list(argv)

    def ns_run(self, argv, timeout=30, check=True):
        """Run a command inside the namespace."""
        return self.sh(self.ns_argv(argv), timeout=timeout, check=check)

    # -- life cycle --

    def setup(self):
        self.sh(["ip", "netns", "add", self.ns])
        self.created = True
        self.ns_run(["ip", "link", "set", "lo", "up"])
        self.ns_run(["ip", "tuntap", "add", "dev", self.tap, "mode", "tap"])
        self.ns_run(["sysctl", "-q", "-w",
                     "net.ipv6.conf.%s.disable_ipv6=1" % self.tap])
        self.ns_run(["sysctl", "-q", "-w",
                     "net.ipv6.conf.default.disable_ipv6=1"])
        self.ns_run(["ip", "addr", "add", "%s/%d" % (PEER_IP, PREFIX),
                     "dev", self.tap])
        self.ns_run(["ip", "link", "set", self.tap, "up"])
        return self

    def add_addr(self, addr):
        """One more IPv4 address on the tap (a second Linux source)."""
        self.ns_run(["ip", "addr", "add", "%s/%d" % (addr, PREFIX),
                     "dev", self.tap])
        self.extra_addrs.append(addr)

    def close(self):
        """Delete the namespace (and with it the tap).  QEMU must be dead
        already (the boot fixture kills it first); if a process still holds
        the namespace open, deleting it still unmounts the name."""
        if not self.created:
            return
        self.created = False
        self.stop_relay()
        subprocess.run(["ip", "netns", "del", self.ns], capture_output=True,
                       timeout=30)

    # -- QEMU --

    def netdev(self):
        if self.relay is not None:
            # QEMU's end of the relay (tests/relay.py): the namespace's own
            # loopback, so fixed ports cannot clash with another run.
            return ("dgram,id=net0,local.type=inet,local.host=127.0.0.1,"
                    "local.port=%d,remote.type=inet,remote.host=127.0.0.1,"
                    "remote.port=%d" % (RELAY_QEMU_PORT, RELAY_PORT))
        return "tap,id=net0,ifname=%s,script=no,downscript=no" % self.tap

    # -- the impairment relay (tests/relay.py) --

    def start_relay(self, cfg):
        """Start the relay between QEMU's dgram netdev and the tap, with
        cfg ({"seed": n, "out": {...}, "in": {...}}, see relay.py); the
        guest booted afterwards is attached to it instead of the tap."""
        self.relay_cfg = os.path.join(str(self.workdir), "relay-%s.json" %
                                      self.ns)
        self.relay_stats_path = self.relay_cfg[:-5] + "-stats.json"
        with open(self.relay_cfg, "w") as f:
            json.dump(cfg, f)
        here = os.path.dirname(os.path.abspath(__file__))
        argv = self.ns_argv([sys.executable or "/usr/bin/python3",
                             os.path.join(here, "relay.py"), "--tap",
                             self.tap, "--listen",
                             "127.0.0.1:%d" % RELAY_PORT, "--peer",
                             "127.0.0.1:%d" % RELAY_QEMU_PORT, "--config",
                             self.relay_cfg, "--stats",
                             self.relay_stats_path])
        self.relay = subprocess.Popen(argv, stdout=subprocess.PIPE,
                                      text=True)
        line = self.relay.stdout.readline()
        if line.strip() != "relay: ready":
            self.stop_relay()
            raise AssertionError("relay did not start: %r" % line)
        self._relay_wait("loads", 0)
        return self

    def _relay_wait(self, key, before, tries=100):
        """Stats once their `key` acknowledgement passed `before`."""
        for _ in range(tries):
            try:
                with open(self.relay_stats_path) as f:
                    st = json.load(f)
                if st[key] > before:
                    return st
            except (OSError, ValueError, KeyError):
                pass
            if self.relay.poll() is not None:
                raise AssertionError("relay exited (%s)" %
                                     self.relay.returncode)
            time.sleep(0.05)
        raise AssertionError("relay did not acknowledge %s" % key)

    def relay_stats(self):
        """The relay's counters now ({"out": {...}, "in": {...}})."""
        try:
            with open(self.relay_stats_path) as f:
                before = json.load(f)["dumps"]
        except (OSError, ValueError, KeyError):
            before = 0
        self.relay.send_signal(signal.SIGUSR1)
        return self._relay_wait("dumps", before)

    def set_relay(self, cfg):
        """New impairment parameters (re-seeds both directions); returns
        once the relay uses them."""
        before = self.relay_stats()["loads"]
        with open(self.relay_cfg + ".tmp", "w") as f:
            json.dump(cfg, f)
        os.replace(self.relay_cfg + ".tmp", self.relay_cfg)
        self.relay.send_signal(signal.SIGHUP)
        return self._relay_wait("loads", before)

    def stop_relay(self):
        if self.relay is None or self.relay.poll() is not None:
            return
        self.relay.terminate()
        try:
            self.relay.wait(10)
        except subprocess.TimeoutExpired:
            self.relay.kill()
            self.relay.wait(10)

    def qemu_argv(self, fsimg, cpus):
        """The Makefile's QEMU command for this rig, run in the namespace,
        with a capture of net0 into self.pcap."""
        import netkern
        argv = netkern.qemu_argv(
            fsimg, cpus, self.netdev(),
            ["-object", "filter-dump,id=f0,netdev=net0,file=%s" % self.pcap])
        return self.ns_argv(argv)

    # -- the Linux peer --

    def tap_mac(self):
        r = self.ns_run(["cat", "/sys/class/net/%s/address" % self.tap])
        return r.stdout.strip().lower()

    def neigh(self, addr):
        """`ip neigh show ADDR` on the tap."""
        return self.ns_run(["ip", "neigh", "show", addr, "dev",
                            self.tap]).stdout

    def ping(self, dst=GUEST_IP, count=1, size=56, src=None, interval=0.0,
             wait=2.0, window=1, ident=None, timeout=None):
        """ICMP echo from Linux (inside the namespace) to dst.  window: at
        most that many requests outstanding (1 = like ping -f: the next one
        goes when the reply is in, or after wait).  Returns a dict with
        sent, received, bad (replies with wrong data), and errors."""
        args = [sys.executable or "/usr/bin/python3", os.path.abspath(__file__),
                "ping", "--dst", dst, "--count", str(count), "--size",
                str(size), "--interval", str(interval), "--wait", str(wait),
                "--window", str(window)]
        if src:
            args += ["--src", src]
        if ident is not None:
            args += ["--ident", str(ident)]
        if timeout is None:
            timeout = 30 + count * (interval + 0.05) + wait * 2
        # the script stops by itself before the hard timeout and reports
        # what it got, so a guest that stops answering gives a count
        args += ["--deadline", str(max(1.0, timeout - 10))]
        r = self.ns_run(args, timeout=timeout)
        line = r.stdout.strip().splitlines()[-1]
        return json.loads(line)

    def blast(self, seed, count, dst_mac=GUEST_MAC, timeout=120):
        """Send `count` seeded malformed frames; returns the per-kind
        counts the script printed."""
        args = [sys.executable or "/usr/bin/python3", os.path.abspath(__file__),
                "blast", "--iface", self.tap, "--seed", str(seed), "--count",
                str(count), "--dst-mac", dst_mac]
        r = self.ns_run(args, timeout=timeout)
        return json.loads(r.stdout.strip().splitlines()[-1])

    def udp_echo(self, port, sizes, dst=GUEST_IP, repeat=1, burst=0,
                 wait=2.0, tries=3, timeout=120):
        """UDP from Linux (in the namespace) to an echo server at
        dst:port: every size in `sizes` `repeat` times, one at a time (the
        next goes when the reply is in; a datagram without a reply after
        `wait` s is sent again, at most `tries` times in all), then `burst`
        datagrams back to back cycling through the sizes.  Returns a dict:
        results (per size: sent, ok, resent, lost, bad), burst (sent, ok,
        bad, missing), errors."""
        args = [sys.executable or "/usr/bin/python3",
                os.path.abspath(__file__), "udpecho", "--dst", dst,
                "--port", str(port), "--sizes",
                ",".join(str(x) for x in sizes), "--repeat", str(repeat),
                "--burst", str(burst), "--wait", str(wait), "--tries",
                str(tries), "--deadline", str(max(1.0, timeout - 10))]
        r = self.ns_run(args, timeout=timeout)
        return json.loads(r.stdout.strip().splitlines()[-1])

    def udp_flows(self, port, first_sport, nports, per_port, dst=GUEST_IP,
                  window=16, wait=2.0, tries=3, timeout=300):
        """`per_port` datagrams from each source port first_sport ..
        first_sport+nports-1 (one bound socket each) to dst:port, round
        robin, to a server that echoes (reuseport -e).  At most `window`
        unanswered datagrams; one unanswered after `wait` s is sent again
        (same source port), at most `tries` times in all.  Returns a dict:
        sent (first copies), resent, echoed, lost, bad, per_port_echoed
        (only ports with fewer echoes than per_port), errors."""
        args = [sys.executable or "/usr/bin/python3",
                os.path.abspath(__file__), "udpflows", "--dst", dst,
                "--port", str(port), "--first-sport", str(first_sport),
                "--nports", str(nports), "--per-port", str(per_port),
                "--window", str(window), "--wait", str(wait), "--tries",
                str(tries), "--deadline", str(max(1.0, timeout - 10))]
        r = self.ns_run(args, timeout=timeout)
        return json.loads(r.stdout.strip().splitlines()[-1])


# ---- guest-side helpers ----------------------------------------------------

def sysctl_int(g, name, timeout=None):
    """Value of an integer sysctl in the guest (sysctl -n name)."""
    kw = {} if timeout is None else {"timeout": timeout}
    out = g.run("sysctl -n %s" % name, **kw).strip()
    assert re.fullmatch(r"-?\d+", out), \
        "sysctl -n %s: expected an integer, got %r" % (name, out)
    return int(out)


def sysctl_tree(g, prefix):
    """All `name: value` or `name=value` lines under prefix as a dict of
    ints (non-integer values are skipped)."""
    out = g.run("sysctl %s" % prefix)
    vals = {}
    for line in out.splitlines():
        m = re.match(r"\s*([\w.]+)\s*[:=]\s*(-?\d+)\s*$", line)
        if m:
            vals[m.group(1)] = int(m.group(2))
    return vals


def wait_sysctl(g, name, pred, tries=20, delay=0.5):
    """Read name until pred(value) holds (queues draining, timers running);
    returns the last value read (the caller asserts on it)."""
    v = sysctl_int(g, name)
    for _ in range(tries):
        if pred(v):
            return v
        time.sleep(delay)
        v = sysctl_int(g, name)
    return v


# ---- the pytest fixture ----------------------------------------------------

try:
    import pytest
except ImportError:          # the script half runs without pytest
    pytest = None

if pytest is not None:
    @pytest.fixture
    def netguest(boot, workdir):
        """Factory: netguest(cpus=2) -> (rig, guest): a fresh namespace and
        tap, and a booted guest on it.  netguest(relay=cfg): the guest is
        attached to the tap through tests/relay.py with that config.  Teardown kills QEMU (through the
        boot fixture, which is torn down after this one... so kill it here
        first) and deletes the namespace."""
        made = []

        def _make(cpus=2, relay=None):
            rig = NetRig(workdir)
            made.append((rig, []))
            rig.setup()
            if relay is not None:
                rig.start_relay(relay)
            import netkern
            fs = netkern.copy_fsimg(workdir, "fs-net-%d.img" % len(made))
            g = boot(cpus=cpus, fsimg=fs, argv=rig.qemu_argv(fs, cpus))
            made[-1][1].append(g)
            return rig, g

        try:
            yield _make
        finally:
            for rig, guests in made:
                for g in guests:
                    try:
                        g.close()          # kill QEMU by PID before the ns
                    except Exception:
                        pass
                rig.close()


# ---- script half: runs inside the namespace --------------------------------

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
            break
        # wait for a reply or the next event
        deadlines = list(outstanding.values())
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
        if rid != ident or rseq not in outstanding or rseq in done:
            continue
        del outstanding[rseq]
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
     "udpflows": cmd_udpflows}[a.cmd](a)


if __name__ == "__main__":
    main(sys.argv[1:])
