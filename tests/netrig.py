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

The Linux side's tools run inside the namespace through `ip netns exec`:
tests/netrig_ns.py is the script run there (python3 netrig_ns.py ping ...):
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
import re
import secrets
import shlex
import signal
import socket
import struct
import subprocess
import sys
import time


GUEST_IP = "10.0.2.15"
GUEST_MAC = "52:54:00:12:34:56"
PEER_IP = "10.0.2.2"
PREFIX = 24
RELAY_PORT = 10000          # relay.py's UDP port (QEMU sends frames there)
RELAY_QEMU_PORT = 10001     # QEMU's dgram netdev (the relay sends there)
# The script half, run inside the namespace (ping, blast, udpecho, udpflows).
NS_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "netrig_ns.py")


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

    def _relay_wait(self, key, before, timeout=30):
        """Stats once their `key` acknowledgement passed `before` (the
        relay is a process of a busy host: give it time)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
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
        args = [sys.executable or "/usr/bin/python3", NS_SCRIPT,
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

    def blast(self, seed, count, dst_mac=GUEST_MAC, timeout=600):
        """Send `count` seeded malformed frames; returns the per-kind
        counts the script printed.  (Building 10,000 frames with scapy
        takes some 8 s of CPU: minutes on a loaded host.)"""
        args = [sys.executable or "/usr/bin/python3", NS_SCRIPT,
                "blast", "--iface", self.tap, "--seed", str(seed), "--count",
                str(count), "--dst-mac", dst_mac]
        r = self.ns_run(args, timeout=timeout)
        return json.loads(r.stdout.strip().splitlines()[-1])

    def frames(self, count, size=60, timeout=120):
        """Send `count` frames of `size` bytes of the bench ethertype
        0x88b5 (the guest counts them in net.link.ether.unknown_type) back
        to back; returns sent, errors, tap_dropped."""
        args = [sys.executable or "/usr/bin/python3", NS_SCRIPT, "frames",
                "--iface", self.tap, "--count", str(count), "--size", str(size)]
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
                NS_SCRIPT, "udpecho", "--dst", dst,
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
                NS_SCRIPT, "udpflows", "--dst", dst,
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


KMALLOC_CLASSES = {"32": 32, "64": 64, "128": 128, "256": 256, "512": 512,
                   "1024": 1024, "2048": 2048, "page": 4096}


def kmem(g):
    """The guest's memory, read in one `sysctl vm`: {"packed": free pages
    with kmalloc's objects counted as packed tight, "<size>": objects of
    each kmalloc class in use}.  packed is the free pages, plus the pages
    of slabs that hold at least one object (vm.kmalloc.busy_pages), less
    the bytes of the objects allocated (every vm.kmalloc.<size>.inuse),
    in pages.  Which pages the objects end up on moves with the order of
    frees (an e1000 RX ring refilled during a flood may keep one cluster
    per page), so a leak check compares these before and after, not
    vm.pages_free alone (kernel/kmalloc.c, sysctl_busy_pages)."""
    v = sysctl_tree(g, "vm")
    for k in ["vm.pages_free", "vm.kmalloc.busy_pages"] + \
            ["vm.kmalloc.%s.inuse" % c for c in KMALLOC_CLASSES]:
        assert k in v, "sysctl vm: no %s in %r" % (k, sorted(v))
    m = {c: v["vm.kmalloc.%s.inuse" % c] for c in KMALLOC_CLASSES}
    objbytes = sum(m[c] * size for c, size in KMALLOC_CLASSES.items())
    m["packed"] = (v["vm.pages_free"] + v["vm.kmalloc.busy_pages"]
                   - (objbytes + 4095) // 4096)
    return m


def kmem_back(g, base, slack, what, timeout=30, delay=1.0):
    """Read kmem(g) until it is back to base (timers expiring, per-CPU
    caches draining): no class holds more objects than in base, and
    packed is within slack pages of base's.  Asserts that it came back
    within timeout seconds (what: after what, for the message); returns
    the last reading."""
    deadline = time.monotonic() + timeout
    while True:
        now = kmem(g)
        out = {c: (base[c], now[c]) for c in KMALLOC_CLASSES if now[c] > base[c]}
        if now["packed"] < base["packed"] - slack:
            out["packed"] = (base["packed"], now["packed"])
        if not out:
            return now
        assert time.monotonic() < deadline, (
            "memory not back after %s (before, after): %r; vm: %r"
            % (what, out, sysctl_tree(g, "vm")))
        time.sleep(delay)


def wait_sysctl(g, name, pred, tries=None, delay=0.5, timeout=None):
    """Read name until pred(value) holds (queues draining, timers running);
    returns the last value read (the caller asserts on it).  Gives up
    after `timeout` seconds (netkern.WAIT_TIMEOUT: a loaded host runs the
    guest late), or after `tries` reads when the caller only probes."""
    import netkern
    v = sysctl_int(g, name)
    if tries is None:
        deadline = time.monotonic() + (timeout or netkern.WAIT_TIMEOUT)
        while not pred(v) and time.monotonic() < deadline:
            time.sleep(delay)
            v = sysctl_int(g, name)
        return v
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


if __name__ == "__main__":
    # The script half moved to tests/netrig_ns.py; this keeps the old
    # command line working.
    import netrig_ns
    netrig_ns.main(sys.argv[1:])
