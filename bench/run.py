"""bench/run.py: `make bench` -- netkern's network figures, measured and
reported, never asserted (docs/design.md section 8, tier 5).

Problem: the figures of issues 3 and 4 (ping RTT over the e1000 and lo0,
the e1000's raw receive rate under QEMU, ifq serializer versus a plain
lock, UDP receive rates) need a guest, a real Linux peer on a tap, host
traffic generators and a lot of counter reading -- and nothing may be left
behind (namespace, QEMU) whatever happens.

Idea: one guest (CPUS=2 by default) on a private copy of fs.img, attached
to a tap in a network namespace made for this run (tests/netrig.NetRig:
unique names, deleted in a finally); the guest side of each figure is
user/netbench.c (or ping), the Linux side is this file run as a script
inside the namespace (`ip netns exec NS python3 bench/run.py ns-...`).
Each figure is one function; a figure that fails is reported as "error"
and the guest is rebooted for the next one if it died.  If the namespace
cannot be made (not root), the lo0 figures still run on a slirp guest.

Output: a table on stdout, and in bench/results/: latest.txt (the table
plus the raw numbers), latest.json, and <date>.json; the guest's console
is in bench/results/console.tmp (ignored by git).  bench/results/README.md
explains every figure.

Usage: make bench            (builds, then /usr/bin/python3 bench/run.py)
       bench/run.py [--cpus N] [--secs S] [--only ping,blast,ifq,udp,tcp,sack,bdp,mech,tcpe1000]
                    [--lockcheck]
TCP figures: bench/tcpbench.py; goodput against SO_RCVBUF over a 20 ms
path (the bandwidth-delay product, bench/results/bdp.svg):
bench/bdpbench.py; the TCP mechanisms: bench/mechbench.py.
Instructions per operation (lo0 ICMP and UDP round trips, e1000 frame
received, each with its mechanism switched off beside it): bench/icount.py.
e1000 receive cost per frame size and rate, and ifq on e1000:
bench/rxbench.py.
The guest boots with "lockcheck=0" (QEMU -append): the lock-order checker
(kernel/lockcheck.c) is for tests, and its bookkeeping would be measured
as part of every lock; --lockcheck keeps it on, to see what it costs.
Testing: tests/netkern.py and tests/netrig.py are the harness this uses.
"""

import argparse
import atexit
import datetime
import json
import os
import re
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
import tcpbench                 # noqa: E402  (bench/tcpbench.py: TCP figures)
import bdpbench                 # noqa: E402  (bench/bdpbench.py: goodput against SO_RCVBUF)
import sackbench                # noqa: E402  (bench/sackbench.py: goodput with and without SACK)
import icount                   # noqa: E402  (bench/icount.py: instructions per operation)
import rxbench                  # noqa: E402  (bench/rxbench.py: e1000 RX cost, ifq)
import mechbench                # noqa: E402  (bench/mechbench.py: issue 11)
from inetsum import cksum      # noqa: E402  (tests/inetsum.py)
RESULTS = ROOT / "bench" / "results"

GUEST_IP = "10.0.2.15"
GUEST_MAC = "52:54:00:12:34:56"
UDP_PORT = 9000
ETHERTYPE_BENCH = 0x88B5      # IEEE local experimental: nothing handles it


# ---- script half: runs inside the namespace -------------------------------

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
    """Minimum-size frames (60 bytes before the FCS) to the guest's MAC with
    an ethertype nothing handles, flat out for a.secs seconds."""
    with open("/sys/class/net/%s/address" % a.iface) as f:
        src = bytes.fromhex(f.read().strip().replace(":", ""))
    dst = bytes.fromhex(a.dst_mac.replace(":", ""))
    frame = dst + src + struct.pack("!H", ETHERTYPE_BENCH) + bytes(46)
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
    if argv[0] in ("ns-tcpsend", "ns-tcpsink"):
        return tcpbench.ns_main(argv[0], argv[1:])
    a = p.parse_args(argv)
    {"ns-ping": ns_ping, "ns-blast": ns_blast, "ns-udp": ns_udp}[a.cmd](a)


# ---- the bench (runs on the host) ------------------------------------------

class Bench:
    """One run: the rig, the guest, the figures gathered so far."""

    def __init__(self, args):
        import netkern
        import netrig
        self.nk, self.nr = netkern, netrig
        self.args = args
        self.cpus = args.cpus
        self.secs = args.secs
        # Boot arguments: the lock-order checker off unless --lockcheck.
        self.qargs = [] if args.lockcheck else ["-append", "lockcheck=0"]
        self.work = Path(tempfile.mkdtemp(prefix="nkbench-"))
        self.rig = None
        self.g = None
        self.boots = 0
        self.fig = {}          # figure name -> dict of numbers (or error)
        self.notes = []
        self.port = UDP_PORT
        self.tcp_port = 5200
        self.script = Path(__file__).resolve()
        self.results = RESULTS
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "console.tmp").write_text("")

    # -- life cycle --

    def setup_rig(self):
        rig = self.nr.NetRig(self.work)
        try:
            rig.setup()
        except Exception as e:          # not root, no ip netns, ...
            rig.close()
            self.notes.append("no network namespace (%s): e1000 figures "
                              "skipped" % str(e).splitlines()[0])
            return
        self.rig = rig

    def guest(self):
        """The booted guest, booting (again) if there is none or it died."""
        if self.g is not None and self.g.alive():
            return self.g
        if self.g is not None:
            self.notes.append("guest died; rebooted")
            self.g.close()
        fs = self.nk.copy_fsimg(self.work, "fs-%d.img" % self.boots)
        self.boots += 1
        if self.rig:
            argv = self.rig.ns_argv(self.nk.qemu_argv(fs, self.cpus,
                                                      self.rig.netdev(),
                                                      self.qargs))
        else:
            argv = None
        self.g = self.nk.Guest(fs, cpus=self.cpus, argv=argv,
                               qemu_args=self.qargs,
                               log=RESULTS / "console.tmp", name="bench")
        self.g.boot(timeout=60)
        # Page junk-fill (vm.junk_fill) is on by default and in make
        # test; the figures are for the kernel without them.
        self.g.run("sysctl vm.junk_fill=0")
        return self.g

    def close(self):
        try:
            if self.g is not None:
                self.g.close()              # QEMU by PID, before the ns
        finally:
            if self.rig is not None:
                self.rig.close()
                self.rig = None
            shutil.rmtree(self.work, ignore_errors=True)

    # -- helpers --

    def run(self, cmd, timeout=120):
        return self.guest().run(cmd, timeout=timeout)

    def counters(self, prefix):
        return self.nr.sysctl_tree(self.guest(), prefix)

    def ns_script(self, args, timeout):
        r = self.rig.ns_run([sys.executable, str(Path(__file__).resolve())]
                            + args, timeout=timeout)
        return json.loads(r.stdout.strip().splitlines()[-1])

    @staticmethod
    def netbench(out, what):
        """The `netbench: <what> k=v ...` line of out as a dict."""
        m = re.search(r"^netbench: %s (.*)$" % what, out, re.M)
        if not m:
            raise RuntimeError("no 'netbench: %s' line in:\n%s" % (what, out))
        return {k: (int(v) if re.fullmatch(r"-?\d+", v) else v)
                for k, v in re.findall(r"(\w+)=(\S+)", m.group(1))}

    @staticmethod
    def delta(before, after, keys):
        return {k.rsplit(".", 1)[-1]: after.get(k, 0) - before.get(k, 0)
                for k in keys}

    def figure(self, name, fn):
        t0 = time.monotonic()
        print("bench: %s ..." % name, flush=True)
        try:
            self.fig[name] = fn()
        except Exception as e:
            msg = str(e).strip().splitlines()
            self.fig[name] = {"error": msg[0] if msg else type(e).__name__}
            self.notes.append("%s: %s" % (name, "\n  ".join(msg[:12])))
            traceback.print_exc()
            if self.g is not None and not self.g.alive():
                self.g.close()
                self.g = None
        self.fig[name]["wall_s"] = round(time.monotonic() - t0, 1)

    # -- figure 1: RTT --

    def ping_e1000(self):
        r = self.ns_script(["ns-ping", "--dst", GUEST_IP, "--count", "200"],
                           timeout=300)
        rt = r["rtt_us"]
        if not rt:
            raise RuntimeError("no echo reply from the guest")
        return {"sent": r["sent"], "lost": r["lost"],
                "min_us": round(min(rt)), "avg_us": round(statistics.mean(rt)),
                "median_us": round(statistics.median(rt)),
                "max_us": round(max(rt))}

    def guest_ping(self, host):
        out = self.run("ping -c 200 -i 0.01 %s" % host, timeout=300)
        m = re.search(r"(\d+) packets transmitted, (\d+) received", out)
        t = re.search(r"rtt min/avg/max = ([\d.]+)/([\d.]+)/([\d.]+) ms", out)
        if not m or not t:
            raise RuntimeError("ping: no summary:\n" + out[-500:])
        return {"sent": int(m.group(1)), "lost": int(m.group(1)) - int(m.group(2)),
                "min_ms": float(t.group(1)), "avg_ms": float(t.group(2)),
                "max_ms": float(t.group(3))}

    def ping_lo0(self):
        res = self.guest_ping("127.0.0.1")
        nb = self.netbench(self.run("netbench rtt -n 500 127.0.0.1",
                                    timeout=300), "rtt")
        res.update({"rtt_n": nb["n"], "rtt_lost": nb["lost"],
                    "rtt_avg_us": nb["avg_us"]})
        return res

    # -- figure 2: raw frame receive rate --

    def blast(self):
        keys = ["dev.e1000.0.hw.gprc", "dev.e1000.0.rx_packets",
                "dev.e1000.0.hw.mpc", "dev.e1000.0.hw.rnbc",
                "dev.e1000.0.rx_drops", "dev.e1000.0.rx_overruns",
                "dev.e1000.0.intr"]
        b = self.counters("dev.e1000.0")
        b.update(self.counters("net.link.ether"))
        r = self.ns_script(["ns-blast", "--iface", self.rig.tap, "--secs",
                            str(self.secs)], timeout=self.secs + 120)
        # let the guest drain its ring, then read until the count settles
        prev = None
        for _ in range(10):
            a = self.counters("dev.e1000.0")
            if prev is not None and a.get(keys[0]) == prev:
                break
            prev = a.get(keys[0])
            time.sleep(0.5)
        a.update(self.counters("net.link.ether"))
        d = self.delta(b, a, keys + ["net.link.ether.unknown_type"])
        secs = r["secs"]
        return {"secs": round(secs, 2), "host_sent": r["sent"],
                "host_errors": r["errors"], "tap_to_qemu": r["tap_tx"],
                "tap_dropped": r["tap_dropped"],
                "sent_fps": round(r["sent"] / secs),
                "gprc": d["gprc"], "rx_packets": d["rx_packets"],
                "unknown_type": d["unknown_type"],
                "mpc": d["mpc"], "rnbc": d["rnbc"], "rx_drops": d["rx_drops"],
                "intr": d["intr"],
                "rx_max_batch": a.get("dev.e1000.0.rx_max_batch"),
                "recv_fps": round(d["gprc"] / secs),
                "loss_pct": round(100.0 * (1 - d["gprc"] / r["sent"]), 1)
                if r["sent"] else None}

    # -- figure 3: ifq serializer vs plain lock on lo0 --

    def ifq(self):
        keys = ["net.ifq.lo0." + k for k in ("starts", "runs", "contended",
                                              "restarts", "dropped",
                                              "enqueued")]
        res = {}
        ms = int(self.secs * 1000)
        for mode, P in ((1, 1), (1, 2), (0, 2)):
            self.run("sysctl net.ifq.serializer=%d" % mode)
            b = self.counters("net.ifq.lo0")
            out = self.run("netbench icmp -d %d -P %d" % (ms, P),
                           timeout=self.secs * 10 + 60)
            a = self.counters("net.ifq.lo0")
            nb = self.netbench(out, "send")
            row = {"pps": nb["pps"], "sent": nb["ok"], "errors": nb["errors"],
                   "ms": nb["ms"]}
            row.update(self.delta(b, a, keys))
            res["one_sender" if P == 1 else
                "serializer" if mode else "plain_lock"] = row
        self.run("sysctl net.ifq.serializer=1")
        return res

    # -- figure 4: UDP --

    def udp_available(self):
        out = self.run("sysctl net.inet.udp.fast_demux")
        return re.search(r"fast_demux\s*[:=]\s*\d", out) is not None \
            and "netbench" in self.run("ls /netbench")

    UDPKEYS = ["net.inet.udp." + k for k in ("ipackets", "delivered",
                                              "fastpath", "fullsock",
                                              "pcqfull", "noport", "hdrops",
                                              "nombuf")]

    def udp_lo(self):
        res = {}
        ms = int(self.secs * 1000)
        for fd in (1, 0):
            self.run("sysctl net.inet.udp.fast_demux=%d" % fd)
            for nrecv in (1, 4):
                b = self.counters("net.inet.udp")
                self.port += 1
                out = self.run("netbench udp-lo -d %d -R %d -p %d -i 1000"
                               % (ms, nrecv, self.port),
                               timeout=self.secs * 10 + 60)
                a = self.counters("net.inet.udp")
                s, r = self.netbench(out, "send"), self.netbench(out, "recv")
                row = {"sent_pps": s["pps"], "sent": s["ok"],
                       "send_errors": s["errors"], "got": r["got"],
                       "recv_pps": r["pps"], "recv_ms": r["ms"],
                       "per_proc": r["per"]}
                row.update(self.delta(b, a, self.UDPKEYS))
                res["fd%d_r%d" % (fd, nrecv)] = row
        self.run("sysctl net.inet.udp.fast_demux=1")
        return res

    def udp_linux(self):
        res = {}
        g = self.guest()
        for fd in (1, 0):
            self.run("sysctl net.inet.udp.fast_demux=%d" % fd)
            for nrecv in (1, 4):
                b = self.counters("net.inet.udp")
                be = self.counters("dev.e1000.0.hw")
                # a port per run: what is still in flight from the last run
                # goes to a closed port (noport), not into this figure
                self.port += 1
                cmd = "netbench udp-recv -P %d -p %d -t %d -i 1000" % (
                    nrecv, self.port, int(self.secs) + 10)
                g.sendline(cmd)
                g.expect(r"netbench: ready recv", 60, "udp-recv ready")
                try:
                    h = self.ns_script(["ns-udp", "--dst", GUEST_IP, "--port",
                                        str(self.port), "--iface",
                                        self.rig.tap, "--secs",
                                        str(self.secs)],
                                       timeout=self.secs + 120)
                finally:
                    out = g.wait_prompt(self.secs * 10 + 90, "udp-recv end")
                a = self.counters("net.inet.udp")
                ae = self.counters("dev.e1000.0.hw")
                r = self.netbench(out, "recv")
                row = {"host_sent": h["sent"], "host_errors": h["errors"],
                       "sent_pps": round(h["sent"] / h["secs"]),
                       "tap_to_qemu": h.get("tap_to_qemu"),
                       "tap_dropped": h.get("tap_dropped"),
                       "got": r["got"], "recv_pps": r["pps"],
                       "recv_ms": r["ms"], "per_proc": r["per"],
                       "gprc": ae.get("dev.e1000.0.hw.gprc", 0)
                       - be.get("dev.e1000.0.hw.gprc", 0),
                       "loss_pct": round(100.0 * (1 - r["got"] / h["sent"]), 1)
                       if h["sent"] else None}
                row.update(self.delta(b, a, self.UDPKEYS))
                res["fd%d_r%d" % (fd, nrecv)] = row
        self.run("sysctl net.inet.udp.fast_demux=1")
        return res

    # -- context: the same lo0 figures on one hart --

    def cpus1(self):
        """netbench rtt and one ICMP sender with CPUS=1 (slirp, no ns): on
        one hart no wakeup has to cross to another CPU."""
        fs = self.nk.copy_fsimg(self.work, "fs-cpus1.img")
        g = self.nk.Guest(fs, cpus=1, log=RESULTS / "console.tmp",
                          qemu_args=self.qargs, name="bench-cpus1")
        try:
            g.boot(timeout=60)
            g.run("sysctl vm.junk_fill=0")
            rtt = self.netbench(g.run("netbench rtt -n 500 127.0.0.1",
                                      timeout=300), "rtt")
            snd = self.netbench(g.run("netbench icmp -d %d -P 1"
                                      % int(self.secs * 1000),
                                      timeout=self.secs * 10 + 60), "send")
        finally:
            g.close()
        return {"rtt_avg_us": rtt["avg_us"], "rtt_n": rtt["n"],
                "rtt_lost": rtt["lost"], "icmp1_pps": snd["pps"]}

    # -- the whole run --

    def main(self):
        only = set(self.args.only.split(",")) if self.args.only else None
        want = lambda k: only is None or k in only
        t0 = time.monotonic()
        self.meta = {
            "date": datetime.datetime.now().isoformat(timespec="seconds"),
            "git": subprocess.run(["git", "describe", "--always", "--dirty"],
                                  cwd=ROOT, capture_output=True,
                                  text=True).stdout.strip(),
            "cpus": self.cpus, "secs": self.secs,
            "host_cpus": os.cpu_count(),
            "loadavg_start": [round(x, 2) for x in os.getloadavg()],
            "qemu": subprocess.run(["qemu-system-riscv64", "--version"],
                                   capture_output=True, text=True
                                   ).stdout.splitlines()[0],
        }
        self.setup_rig()
        try:
            self.guest()
            self.meta["boot_s"] = round(self.g.boot_time, 2)
            self.meta["lockcheck"] = self.g.run("sysctl -n kern.lockcheck").strip()
            if want("ping"):
                if self.rig:
                    self.figure("ping_e1000", self.ping_e1000)
                    self.figure("ping_gw", lambda: self.guest_ping("10.0.2.2"))
                self.figure("ping_lo0", self.ping_lo0)
            if want("ifq"):
                self.figure("ifq", self.ifq)
            udp = None                  # None: not asked for (--only)
            if want("udp"):
                try:
                    udp = self.udp_available()
                except Exception as e:
                    self.notes.append("UDP check failed: %s" % e)
                if udp:
                    self.figure("udp_lo0", self.udp_lo)
                    if self.rig:
                        self.figure("udp_linux", self.udp_linux)
                else:
                    self.notes.append("UDP not available in this kernel "
                                      "(no net.inet.udp.fast_demux)")
            rx = rxbench.RxBench(self)
            if (want("blast") or want("tcpe1000")) and self.rig:
                self.figure("blast", self.blast)
                self.figure("txblast", rx.txblast)
            if want("ifq") and self.rig:
                self.figure("ifq_e1000", rx.ifq_e1000)
            tcp = tcpbench.TcpBench(self)
            if (want("tcp") or want("tcpe1000")) and self.rig:
                self.figure("tcp_e1000", tcp.e1000)
            mech = mechbench.MechBench(self)
            if want("mech") and self.rig:
                self.figure("mech_reuseport", mech.reuseport)
            self.meta["udp"] = udp
            try:
                m = self.counters("net.mbuf")
                self.meta["mbuf_inuse_end"] = m.get("net.mbuf.inuse")
            except Exception:
                pass
            self.g.close()              # one QEMU at a time
            self.g = None
            if want("bdp") and self.rig:
                self.figure("tcp_bdp", bdpbench.BdpBench(self).run)
            if want("bdp"):
                self.figure("tcp_opts_icount", bdpbench.BdpBench(self).icount)
            if want("sack") and self.rig:
                self.figure("tcp_sack", sackbench.SackBench(self).run)
            if want("cpus1"):
                self.figure("cpus1", self.cpus1)
            if want("blast") and self.rig:
                self.figure("rx_icount", rx.icount)
            if want("tcp"):
                self.figure("tcp_lo0", tcp.lo0)
                self.figure("tcp_icount", tcp.icount)
            ic = icount.IcountBench(self)
            if want("icount"):
                self.figure("icount_lo0", ic.lo0)
                if self.rig:
                    self.figure("icount_e1000", ic.e1000)
            if want("icount") or want("tcp") or want("icounttcp"):
                self.figure("icount_tcplo", ic.tcp_lo0)
                if self.rig:
                    self.figure("icount_tcp", ic.tcp_e1000)
            if want("mech"):
                self.figure("mech_rcvd", mech.rcvd)
                self.figure("mech_srs", mech.srs)
        finally:
            self.close()
        self.meta["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
        self.meta["wall_s"] = round(time.monotonic() - t0, 1)
        self.meta["boots"] = self.boots
        self.report()

    # -- output --

    def table(self):
        f = self.fig
        rows = []

        def row(name, value, detail=""):
            rows.append((name, value, detail))

        def err(name, k):
            if k not in f:
                row(name, "n/a", "not run")
                return True
            if "error" in f[k]:
                row(name, "error", f[k]["error"][:70])
                return True
            return False

        def nudp(name):
            row(name, "n/a (UDP not yet available)", "")

        row("1. ping RTT", "", "")
        if not err("   e1000, Linux -> guest (us)", "ping_e1000"):
            p = f["ping_e1000"]
            row("   e1000, Linux -> guest (us)",
                "%d/%d/%d" % (p["min_us"], p["avg_us"], p["max_us"]),
                "min/avg/max, median %d, %d sent, %d lost"
                % (p["median_us"], p["sent"], p["lost"]))
        if not err("   e1000, guest -> Linux (ms)", "ping_gw"):
            p = f["ping_gw"]
            row("   e1000, guest -> Linux (ms)",
                "%g/%g/%g" % (p["min_ms"], p["avg_ms"], p["max_ms"]),
                "guest ping, ms clock, %d sent, %d lost" % (p["sent"], p["lost"]))
        if not err("   lo0, guest ping (ms)", "ping_lo0"):
            p = f["ping_lo0"]
            row("   lo0, guest ping (ms)",
                "%g/%g/%g" % (p["min_ms"], p["avg_ms"], p["max_ms"]),
                "min/avg/max, %d sent, %d lost" % (p["sent"], p["lost"]))
            row("   lo0, netbench rtt avg (us)", "%d" % p["rtt_avg_us"],
                "%d round trips back to back, %d lost"
                % (p["rtt_n"], p["rtt_lost"]))
        if not err("   lo0, netbench rtt avg, CPUS=1 (us)", "cpus1"):
            row("   lo0, netbench rtt avg, CPUS=1 (us)",
                "%d" % f["cpus1"]["rtt_avg_us"],
                "same as above on one hart (context, see README)")
        row("2. e1000 raw receive (frames/s)", "", "")
        if not err("   sent by host", "blast"):
            b = f["blast"]
            row("   sent by host", "%d" % b["sent_fps"],
                "%d frames in %.1f s, %d dropped at the tap"
                % (b["host_sent"], b["secs"], b["tap_dropped"]))
            row("   received by guest (gprc)", "%d" % b["recv_fps"],
                "loss %s%%, mpc %d, rnbc %d, unknown_type %d"
                % (b["loss_pct"], b["mpc"], b["rnbc"], b["unknown_type"]))
        if "txblast" in f and "error" not in f["txblast"]:
            row("2b. e1000 raw transmit (frames/s)", "", "")
            for size in (60, 1514):
                t = f["txblast"]["s%d" % size]
                row("   sent by guest, %d B" % size, "%s" % t["fps"],
                    "%d frames in %.2f s (guest clock), %d reached the tap"
                    % (t["frames"], t["us"] / 1e6, t["tap_rx"]))
        row("3. ifq on lo0, 2 senders (pkt/s)", "", "")
        if not err("   serializer", "ifq"):
            for k, name in (("serializer", "   serializer"),
                            ("plain_lock", "   plain lock"),
                            ("one_sender", "   (1 sender, serializer)")):
                q = f["ifq"][k]
                row(name, "%d" % q["pps"],
                    "starts %d runs %d contended %d restarts %d drops %d"
                    % (q["starts"], q["runs"], q["contended"], q["restarts"],
                       q["dropped"] + q["errors"]))
        if "cpus1" in f and "error" not in f["cpus1"]:
            row("   (1 sender, CPUS=1)", "%d" % f["cpus1"]["icmp1_pps"],
                "context: the same sender on one hart")
        row("4. UDP receive (datagrams/s)", "", "")
        udp = self.meta.get("udp")
        for key, label in (("udp_linux", "Linux -> guest"),
                           ("udp_lo0", "lo0, guest -> guest")):
            for fd in (1, 0):
                for r in (1, 4):
                    name = "   %s, fast_demux=%d, %d recv" % (label, fd, r)
                    if udp is None:
                        row(name, "n/a", "not run")
                        continue
                    if not udp:
                        nudp(name)
                        continue
                    if err(name, key):
                        continue
                    u = f[key]["fd%d_r%d" % (fd, r)]
                    row(name, "%d" % u["recv_pps"],
                        "sent %d/s; got %d of %d in %.1f s; sock drops %d; per %s"
                        % (u["sent_pps"], u["got"],
                           u.get("host_sent", u.get("sent", 0)),
                           u["recv_ms"] / 1000.0,
                           u["fullsock"] + u["pcqfull"], u["per_proc"]))
        tcpbench.table_rows(f, row, err)
        bdpbench.table_rows(f, row, err)
        sackbench.table_rows(f, row, err)
        icount.table_rows(f, row, err)
        rxbench.table_rows(f, row, err)
        mechbench.table_rows(f, row, err)
        w = max(len(r[0]) for r in rows)
        v = max(len(r[1]) for r in rows)
        lines = ["%-*s  %*s  %s" % (w, a, v, b, c) if b or c else a
                 for a, b, c in rows]
        return "\n".join(l.rstrip() for l in lines)

    def report(self):
        m = self.meta
        head = ("netkern make bench  %s  git %s  CPUS=%s  %s s per rate run\n"
                "host: %s cores, load %s at start, %s at end; %s; boot %s s; "
                "whole run %s s" % (m["date"], m["git"], m["cpus"], m["secs"],
                                    m["host_cpus"], m["loadavg_start"],
                                    m["loadavg_end"], m["qemu"],
                                    m.get("boot_s"), m["wall_s"]))
        text = head + "\n\n" + self.table() + "\n"
        if m.get("udp") is False:
            text += ("\nUDP rows: n/a (UDP not yet available): the kernel has "
                     "no net.inet.udp.fast_demux or user/netbench is missing.\n")
        if self.notes:
            text += "\nnotes:\n" + "\n".join("  - " + n for n in self.notes) + "\n"
        text += ("\nFigures are measured, not asserted; QEMU runs the guest "
                 "with TCG on a shared host, so compare runs from one load "
                 "level only (see bench/results/README.md).\n")
        print("\n" + text)
        RESULTS.mkdir(parents=True, exist_ok=True)
        data = {"meta": m, "figures": self.fig, "notes": self.notes}
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        (RESULTS / "latest.txt").write_text(
            text + "\nraw numbers:\n" + json.dumps(data, indent=1) + "\n")
        js = json.dumps(data, indent=1) + "\n"
        (RESULTS / "latest.json").write_text(js)
        (RESULTS / ("%s.json" % stamp)).write_text(js)
        print("bench: wrote bench/results/latest.txt, latest.json, %s.json"
              % stamp)


def _sigterm(signum, frame):
    raise KeyboardInterrupt("SIGTERM")


def main(argv):
    if argv and argv[0].startswith("ns-"):
        return ns_main(argv)
    p = argparse.ArgumentParser(description="netkern network benchmarks")
    p.add_argument("--cpus", type=int, default=int(os.environ.get("CPUS", 2)))
    p.add_argument("--secs", type=float, default=5.0,
                   help="length of each rate run (default 5)")
    p.add_argument("--only", help="comma list of ping,ifq,udp,blast,cpus1,tcp,sack,bdp,icount,mech,"
                   "tcpe1000 (raw receive and transmit rates and the e1000 TCP rows only), "
                   "icounttcp (instructions per TCP segment and per byte only)")
    p.add_argument("--lockcheck", action="store_true",
                   help="keep the kernel's lock-order checker on (off by default)")
    args = p.parse_args(argv)
    signal.signal(signal.SIGTERM, _sigterm)
    b = Bench(args)
    atexit.register(b.close)        # idempotent: also on an interrupted run
    b.main()


if __name__ == "__main__":
    main(sys.argv[1:])
