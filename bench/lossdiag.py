#!/usr/bin/python3
"""bench/lossdiag.py: where does the time go in a TCP stream at N% loss?
The evidence behind docs/tcp.md "Where the time goes at 2% loss".

Problem: make bench's loss rows (bench/tcpbench.py) give one goodput per
direction and a few counters: enough to see that loss is expensive, not
why.  The answers are spread over both ends -- Linux's congestion state
(cwnd, RTT, retransmissions, receive-window limits), the guest's
counters and window, and the packets themselves.

Idea: one guest on the rig's tap (tests/netrig.py, with its capture of
everything net0 sees), the loss made on the tap itself with Linux's end
on it (bench/taploss.py, as make bench's loss rows), or with --path
forward Linux's end behind the dropping namespace (bench/losspath.py),
and for each loss rate and direction one stream
(tcpstream in the guest, tcpbench's ns-tcpsend / ns-tcpsink in Linux's
namespace) while a thread runs `ss -tin` in that namespace every 100 ms.
Around each run: the guest's `netstat -s`, its busy share
(kern.idle_us against kern.uptime_ms), the path's forwarded and dropped
packets, and Linux's own counters in its namespace (`nstat -asz`:
PAWS, out-of-window, pruning, delayed ACKs ...; the record's "linux").
With --linux-pcap (--path forward only) a capture on Linux's veth too
(linux.pcap: what its TCP really received and sent, behind the dropping
path; bench/lossgaps.py
--linux matches it with net.pcap).  With --guest-sample the guest's own `netstat -T` (cwnd,
ssthresh, send queue) is sampled too, from the console while the
stream runs in the background: that takes the guest's CPU, so the
goodput of such a run is not comparable with the others.
--set 'k=v k=v' (repeatable) runs every direction once per group of
sysctls, in one boot; every group is undone (each knob back to its
value at boot) before the next.

Output, in --out (default /tmp/lossdiag): res.json (one record per
run: direction, loss, sysctls, Mbit/s, busy, host load, the counter
deltas of both ends, the path's counters), ss-<run>.txt, netstat-<run>.txt
(before, "=====", after), guest-<run>.txt (--guest-sample), net.pcap
(the rig's capture of the whole boot), linux.pcap (--linux-pcap).  Each run's record is also printed.

--linux-cc bbr,cubic,reno runs Linux -> guest once per congestion
control of Linux's sender (ns-tcpsend --cc; guest -> Linux as often).

Usage (root: network namespaces):
  bench/lossdiag.py [--cpus N] [--secs S] [--loss 0,2] [--rounds R]
                    [--dirs l2g,g2l] [--set 'net.inet.tcp.prr=0'] ...
                    [--linux-cc bbr,cubic] [--path tap|forward]
                    [--guest-sample] [--linux-pcap] [--out DIR]
Measured, never asserted.  Testing: it is a tool; tests/netrig.py,
bench/taploss.py (tests/test_taploss.py) and bench/tcpbench.py, which
it drives, are exercised by make test and make bench; bench/losspath.py
only by --path forward.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))
import run                        # noqa: E402  (the Bench: rig, guest, life cycle)
import tcpbench                   # noqa: E402
import tcpdiag                    # noqa: E402  (QEMU's threads, the host's CPU)
from losspath import LossPath     # noqa: E402
from taploss import TapLoss       # noqa: E402


def sampler(argv, period, stop, into):
    """Run argv every period seconds until stop is set; (t, stdout) into."""
    while not stop.is_set():
        p = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        into.append((time.monotonic(), p.stdout))
        stop.wait(period)


def guest_ms(b, g):
    """The guest's kern.idle_us (all harts) and kern.uptime_ms now."""
    return (b.nr.sysctl_tree(g, "kern.idle_us").get("kern.idle_us", 0),
            b.nr.sysctl_tree(g, "kern.uptime_ms").get("kern.uptime_ms", 0))


def nstat(lp):
    """Linux's SNMP and TcpExt counters in its namespace (absolute)."""
    p = subprocess.run(lp.ns_argv(["nstat", "-asz"]), capture_output=True,
                       text=True, timeout=30)
    return {f[0]: int(f[1]) for f in (ln.split() for ln in p.stdout.splitlines())
            if len(f) >= 2 and f[1].isdigit()}


def host_share(t0, h0, t1, h1, wall):
    """QEMU's threads' CPU (% of one host core, by thread name) and the
    host's user/sys/softirq/idle shares (% of all cores) between two
    tcpdiag.thread_stats / host_cpu readings."""
    hz = os.sysconf("SC_CLK_TCK")
    th = {}
    for tid, (name, cpu, _, _) in t1.items():
        if tid in t0:
            th[name] = th.get(name, 0) + round(100 * (cpu - t0[tid][1]) / hz / wall, 1)
    dh = [x - y for x, y in zip(h1, h0)]
    tot = max(1, sum(dh))
    host = {k: round(100 * dh[i] / tot, 1)
            for k, i in (("user", 0), ("sys", 2), ("softirq", 6), ("idle", 3))}
    return {k: v for k, v in th.items() if v}, host


def one_run(b, g, lp, a, d, cc=""):
    """One stream in direction d; its record and its samples.  lp is the
    TapLoss or LossPath, or the rig itself (Linux on the tap: --tap); cc
    Linux's congestion control for Linux -> guest ("": its default)."""
    tb = tcpbench.TcpBench(b)
    addr = getattr(lp, "addr", tcpbench.PEER)
    qpid = tcpdiag.qemu_pid(g)
    stop, ss, gs = threading.Event(), [], []
    ns0 = g.run("netstat -s")
    counters = getattr(lp, "counters", dict)
    c0, p0, (i0, u0) = tb.guest_counters(lp), counters(), guest_ms(b, g)
    n0 = nstat(lp)
    t0, h0, w0 = tcpdiag.thread_stats(qpid), tcpdiag.host_cpu(), time.monotonic()
    load = os.getloadavg()[0]
    th = threading.Thread(target=sampler, args=(
        lp.ns_argv(["ss", "-tin", "state", "established"]), 0.1, stop, ss))
    th.start()
    b.tcp_port += 1
    try:
        if d == "l2g":
            tcpbench.start_server(g, "-p %d" % b.tcp_port)
            r = tcpbench.ns_script(b, lp, ["ns-tcpsend", "--dst", tcpbench.GUEST,
                                           "--port", str(b.tcp_port),
                                           "--secs", str(a.secs)]
                                   + (["--cc", cc] if cc else []),
                                   timeout=a.secs + 120)
            mbps = r["bytes"] * 8 / r["secs"] / 1e6
        else:
            cmd = "tcpstream -l %d -p %d %s" % (a.secs, b.tcp_port, addr)
            with tcpbench.LinuxSink(b, lp, b.tcp_port) as sink:
                if a.guest_sample:
                    g.run(cmd + " > /lossdiag.txt &")
                    end = time.monotonic() + a.secs
                    while time.monotonic() < end:
                        gs.append((time.monotonic(), g.run("netstat -T")))
                        time.sleep(0.1)
                    sink.result(timeout=a.secs * 10 + 120)
                    out = g.read_file("/lossdiag.txt")
                else:
                    out = g.run(cmd, timeout=a.secs * 10 + 120)
                    sink.result()
            mbps = tcpbench.total_line(out)["mbps"]
    finally:
        stop.set()
        th.join()
    threads, host = host_share(t0, h0, tcpdiag.thread_stats(qpid), tcpdiag.host_cpu(),
                               time.monotonic() - w0)
    c1, p1, (i1, u1) = tb.guest_counters(lp), counters(), guest_ms(b, g)
    n1 = nstat(lp)
    ns1 = g.run("netstat -s")
    busy = 1 - (i1 - i0) / 1000 / max(u1 - u0, 1) / a.cpus
    rec = {"dir": d, "mbps": round(mbps, 2), "busy": round(busy, 3),
           "load": round(load, 2), "ctr": {k: c1[k] - c0[k] for k in c0},
           "path": {k: p1.get(k, 0) - p0.get(k, 0) for k in p1},
           "qemu": threads, "host": host,
           "linux": {k: n1[k] - n0.get(k, 0) for k in n1 if n1[k] != n0.get(k, 0)}}
    return rec, ss, gs, ns0 + "\n=====\n" + ns1


def dump(path, samples, t0):
    with open(path, "w") as f:
        for t, text in samples:
            f.write("@%.3f\n%s" % (t - t0, text))


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cpus", type=int, default=1)
    ap.add_argument("--secs", type=int, default=5)
    ap.add_argument("--loss", default="2", help="comma list of loss percentages")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--dirs", default="l2g,g2l")
    ap.add_argument("--set", action="append", default=[],
                    help="'k=v ...' guest sysctls for a group of runs (repeatable)")
    ap.add_argument("--guest-sample", action="store_true",
                    help="sample the guest's netstat -T during guest -> Linux runs")
    ap.add_argument("--linux-pcap", action="store_true",
                    help="also capture on Linux's veth, into --out/linux.pcap")
    ap.add_argument("--tap", action="store_true",
                    help="each round also runs with Linux on the tap (no path), as make bench's clean rows")
    ap.add_argument("--path-gso", action="store_true",
                    help="each loss rate runs twice: as usual, then with Linux's TCP "
                    "sending GSO packets that its veth segments (LossPath.set_gso)")
    ap.add_argument("--path", choices=("tap", "forward"), default="tap",
                    help="where the loss is made: on the tap itself, Linux's end "
                    "on it (bench/taploss.py, make bench's loss rows), or in a "
                    "namespace that forwards to Linux's end (bench/losspath.py)")
    ap.add_argument("--linux-cc", default="",
                    help="comma list of Linux congestion controls (e.g. bbr,cubic,reno): "
                    "Linux -> guest runs once per one (ns-tcpsend --cc), guest -> Linux as often")
    ap.add_argument("--out", default="/tmp/lossdiag")
    a = ap.parse_args(argv)
    if a.path == "tap" and (a.linux_pcap or a.path_gso):
        ap.error("--linux-pcap and --path-gso need --path forward")
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    b = run.Bench(argparse.Namespace(cpus=a.cpus, secs=a.secs, lockcheck=False,
                                     only=""))
    b.setup_rig()
    if b.rig is None:
        sys.exit("lossdiag: no network namespace (root needed): %s" % b.notes)
    res = []
    b.qargs = b.qargs + ["-name", "nk,debug-threads=on"]   # QEMU's threads by name
    try:
        fs = b.nk.copy_fsimg(b.work, "fs-lossdiag.img")
        b.g = b.nk.Guest(fs, cpus=a.cpus, argv=b.rig.qemu_argv(fs, a.cpus) + b.qargs,
                         qemu_args=b.qargs, log=out / "console.txt", name="lossdiag")
        b.g.boot(timeout=120)
        g = b.g
        g.run("sysctl vm.junk_fill=0")
        groups = a.set or [""]
        knobs = sorted({kv.split("=")[0] for s in groups for kv in s.split()})
        boot_vals = {k: g.run("sysctl -n %s" % k).strip() for k in knobs}
        with (LossPath if a.path == "forward" else TapLoss)(b.rig, 0) as lp:
            cap = None
            if a.linux_pcap:
                # Linux's side of the path: what its TCP really received and sent
                cap = subprocess.Popen(lp.ns_argv(["dumpcap", "-q", "-i", lp.vb, "-s", "128",
                                                   "-f", "tcp", "-w", str(out / "linux.pcap")]),
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                time.sleep(1)
            for rnd in range(a.rounds):
                pcts = [int(x) for x in a.loss.split(",")]
                if a.path_gso:
                    pcts = [p for x in pcts for p in (x, "%dgso" % x)]
                for pct in (["tap"] if a.tap else []) + pcts:
                    end = b.rig if pct == "tap" else lp
                    if end is lp:
                        lp.set_loss(int(str(pct).replace("gso", "")))
                        if a.path == "forward":
                            lp.set_gso(str(pct).endswith("gso"))
                    for grp in groups:
                        for k, v in boot_vals.items():
                            g.run("sysctl %s=%s" % (k, v))
                        for kv in grp.split():
                            g.run("sysctl " + kv)
                        for d, cc in [(d, cc) for d in a.dirs.split(",")
                                      for cc in a.linux_cc.split(",")]:
                            t0 = time.monotonic()
                            rec, ss, gs, ns = one_run(b, g, end, a, d, cc)
                            rec.update({"loss": pct, "set": grp, "round": rnd,
                                        "linux_cc": cc or "default"})
                            name = "%s-%s-%d-%s%s" % (d, pct, rnd,
                                                      re.sub(r"[^\w.=]+", "_", grp) or "defaults",
                                                      "-" + cc if cc else "")
                            dump(out / ("ss-%s.txt" % name), ss, t0)
                            if gs:
                                dump(out / ("guest-%s.txt" % name), gs, t0)
                            (out / ("netstat-%s.txt" % name)).write_text(ns)
                            print(json.dumps(rec), flush=True)
                            res.append(rec)
            if cap:
                cap.terminate()
                cap.wait(timeout=30)
        (out / "res.json").write_text(json.dumps(res, indent=1) + "\n")
    finally:
        try:
            shutil.copy(b.rig.pcap, out / "net.pcap")
        except OSError as e:
            print("lossdiag: no capture: %s" % e, file=sys.stderr)
        b.close()


if __name__ == "__main__":
    main(sys.argv[1:])
