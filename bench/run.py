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
Each figure is one function (figures 1-4: bench/basefigs.py; the Linux
side's scripts: bench/nsside.py); a figure that fails is reported as "error"
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
import lossbench                # noqa: E402  (bench/lossbench.py: tlp on/off at 2% loss, one boot)
import icount                   # noqa: E402  (bench/icount.py: instructions per operation)
import rxbench                  # noqa: E402  (bench/rxbench.py: e1000 RX cost, ifq)
import rxbatch                  # noqa: E402  (bench/rxbatch.py: per e1000 frame at a chosen batch)
import mechbench                # noqa: E402  (bench/mechbench.py: issue 11)
import basefigs                 # noqa: E402  (bench/basefigs.py: figures 1-4, CPUS=1)
import nsside                   # noqa: E402  (bench/nsside.py: the Linux side, ns-*)
import contendbench             # noqa: E402  (bench/contendbench.py: ifq, PCQ under contention)
import smpbench                 # noqa: E402  (bench/smpbench.py: CPUS=2 against CPUS=1)
RESULTS = ROOT / "bench" / "results"

UDP_PORT = 9000


# ---- the bench (runs on the host) ------------------------------------------

class Bench(basefigs.BaseFigures):
    """One run: the rig, the guest, the figures gathered so far (figures 1-4:
    bench/basefigs.py)."""

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
                self.figure("blast1514", rx.blast1514)
                self.figure("txblast", rx.txblast)
            if want("ifq") and self.rig:
                self.figure("ifq_e1000", rx.ifq_e1000)
            tcp = tcpbench.TcpBench(self)
            if (want("tcp") or want("tcpe1000")) and self.rig:
                self.figure("tcp_e1000", tcp.e1000)
            if want("lossflip") and self.rig:
                self.figure("tcp_lossflip", lossbench.LossBench(self).run)
            mech = mechbench.MechBench(self)
            if (want("mech") or want("mechrp")) and self.rig:
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
            if (want("icount") or want("rxbatch")) and self.rig:
                self.figure("icount_rxbatch", rxbatch.RxBatch(self).run)
            if want("icount") or want("tcp") or want("icounttcp"):
                self.figure("icount_tcplo", ic.tcp_lo0)
                if self.rig:
                    self.figure("icount_tcp", ic.tcp_e1000)
            if want("contend") and self.rig:
                cb = contendbench.ContendBench(self)
                self.figure("contend_ifq", cb.ifq)
                self.figure("contend_tcp", cb.tcp)
                self.figure("contend_pcq", cb.pcq)
                self.figure("contend_icount", cb.icount)
            if want("mech") or want("mechrcvd"):
                self.figure("mech_rcvd", mech.rcvd)
            if want("mech"):
                self.figure("mech_srs", mech.srs)
            if want("smp"):
                self.figure("smp", smpbench.SmpBench(self).run)
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

        basefigs.table_rows(f, self.meta, row, err)
        tcpbench.table_rows(f, row, err)
        bdpbench.table_rows(f, row, err)
        sackbench.table_rows(f, row, err)
        lossbench.table_rows(f, row, err)
        icount.table_rows(f, row, err)
        rxbatch.table_rows(f, row, err)
        rxbench.table_rows(f, row, err)
        mechbench.table_rows(f, row, err)
        contendbench.table_rows(f, row, err)
        smpbench.table_rows(f, row, err)
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
        return nsside.ns_main(argv)
    p = argparse.ArgumentParser(description="netkern network benchmarks")
    p.add_argument("--cpus", type=int, default=int(os.environ.get("CPUS", 2)))
    p.add_argument("--secs", type=float, default=5.0,
                   help="length of each rate run (default 5)")
    p.add_argument("--only", help="comma list of ping,ifq,udp,blast,cpus1,tcp,sack,bdp,icount,mech,contend,"
                   "tcpe1000 (raw receive and transmit rates and the e1000 TCP rows only), "
                   "lossflip (guest -> Linux at 2%% loss, net.inet.tcp.tlp and rto_min_ms flipped in one boot), "
                   "icounttcp (instructions per TCP segment and per byte only), "
                   "smp (CPUS=2 against CPUS=1 over lo0: ping-pong and two flows), "
                   "mechrcvd (the async_rcvd figures of mech only), "
                   "mechrp (the reuseport accept figures of mech only), "
                   "rxbatch (instructions per e1000 frame at batch 1, 16, 240 only)")
    p.add_argument("--lockcheck", action="store_true",
                   help="keep the kernel's lock-order checker on (off by default)")
    args = p.parse_args(argv)
    signal.signal(signal.SIGTERM, _sigterm)
    b = Bench(args)
    atexit.register(b.close)        # idempotent: also on an interrupted run
    b.main()


if __name__ == "__main__":
    main(sys.argv[1:])
