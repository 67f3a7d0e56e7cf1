#!/usr/bin/python3
"""bench/tcpdiag.py: where does the time go in a TCP stream over a clean
e1000 link?  The evidence behind docs/tcp.md "Where the time goes on a
clean e1000 link".

Problem: make bench's e1000 rows (bench/tcpbench.py) give one goodput per
direction.  Under QEMU's TCG a stream costs the host in three places --
the vCPU threads (the guest's instructions, and QEMU's e1000 transmit
path, which runs in the vCPU that writes TDT, tap writes included), the
main loop (reading the tap, DMAing every received frame) and Linux's
end -- and which one is saturated decides what is worth cutting.

Idea: one guest on the rig's tap (tests/netrig.py), QEMU started with
`-name nk,debug-threads=on` so its threads are named (CPU 0/TCG, ...,
and the main loop); for each run, one stream (tcpstream in the guest,
tcpbench's ns-tcpsend / ns-tcpsink as Linux's end) and around it:
  - each QEMU thread's CPU time (/proc/PID/task/*/stat) and voluntary /
    involuntary context switches (.../status), per second;
  - the host's user/sys/softirq/idle shares (/proc/stat);
  - the guest's counters (net.inet.tcp, dev.e1000.0) per 1460 bytes:
    frames in and out, interrupts, TSO packets, ACKs sent and received;
  - with --perf, a `perf record` of the QEMU process (perf-<n>.data in
    --out; `perf report -i F --sort comm,dso`).  perf is optional: the
    bench and the tests never need it.
Runs are given as a comma list; each is `l2g` or `g2l`, optionally
`g2l/ARGS` (extra tcpstream arguments, e.g. `g2l/-m 65536`) and
`:CMD` (a guest shell command run before it, e.g. a sysctl), all in one
boot, so a switch can be flipped between runs of one load level:

  bench/tcpdiag.py --runs 'l2g:sysctl net.inet.tcp.ack_batch_max=0,l2g:sysctl net.inet.tcp.ack_batch_max=65535'
  bench/tcpdiag.py --runs 'g2l,g2l/-b 262144,g2l/-m 65536'

Root only (network namespaces).  Wall-clock figures move with the host's
load; the per-segment counts do not.
"""

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run        # noqa: E402  (bench/run.py: the Bench and its rig)
import tcpbench   # noqa: E402

MSS = 1460


def thread_stats(pid):
    """{tid: (name, cpu ticks, voluntary, involuntary switches)}"""
    d = {}
    for t in os.listdir("/proc/%d/task" % pid):
        try:
            s = open("/proc/%d/task/%s/stat" % (pid, t)).read()
            st = open("/proc/%d/task/%s/status" % (pid, t)).read()
        except OSError:
            continue            # the thread ended
        f = s[s.rindex(")") + 2:].split()
        v = re.search(r"^voluntary_ctxt_switches:\s+(\d+)", st, re.M)
        nv = re.search(r"^nonvoluntary_ctxt_switches:\s+(\d+)", st, re.M)
        d[t] = (s[s.index("(") + 1:s.rindex(")")], int(f[11]) + int(f[12]),
                int(v.group(1)), int(nv.group(1)))
    return d


def host_cpu():
    return [int(x) for x in open("/proc/stat").readline().split()[1:]]


def qemu_pid(g):
    """The QEMU process of guest g (its argv may start with ip netns exec)."""
    if "qemu" in open("/proc/%d/comm" % g.pid).read():
        return g.pid
    kids = subprocess.run(["pgrep", "-P", str(g.pid)], capture_output=True,
                          text=True).stdout.split()
    return int(kids[0])


def guest_idle(g):
    """{hart: idle ns} from kern.cp_idle ("cpuN <ns>" per line)."""
    d = {}
    for line in g.run("sysctl -n kern.cp_idle").splitlines():
        m = re.match(r"\s*cpu(\d+)\s+(\d+)", line)
        if m:
            d[int(m.group(1))] = int(m.group(2))
    return d


def stream(b, g, d, extra, secs):
    """One stream; returns (Mbit/s, payload bytes)."""
    b.tcp_port += 1
    if d == "l2g":
        tcpbench.start_server(g, "-p %d" % b.tcp_port)
        r = tcpbench.ns_script(b, b.rig, ["ns-tcpsend", "--dst", tcpbench.GUEST,
                                          "--port", str(b.tcp_port), "--secs",
                                          str(secs)], timeout=secs + 120)
        return r["bytes"] * 8 / r["secs"] / 1e6, r["bytes"]
    with tcpbench.LinuxSink(b, b.rig, b.tcp_port) as sink:
        out = g.run("tcpstream %s -l %d -p %d %s" % (extra, secs, b.tcp_port,
                                                     tcpbench.PEER),
                    timeout=secs * 10 + 120)
        sink.result()
    t = tcpbench.total_line(out)
    return t["mbps"], t["bytes"]


def one_run(b, g, qpid, n, spec, a):
    spec, _, cmd = spec.partition(":")
    d, _, extra = spec.partition("/")
    if d not in ("l2g", "g2l"):
        raise SystemExit("tcpdiag: a run is l2g or g2l, not %r" % d)
    if cmd:
        print(g.run(cmd).strip())
    keys = "net.inet.tcp dev.e1000.0 kern"
    c0 = b.nr.sysctl_tree(g, keys)
    i0 = guest_idle(g)
    t0, h0, w0 = thread_stats(qpid), host_cpu(), time.monotonic()
    perf = None
    if a.perf:
        perf = subprocess.Popen(["perf", "record", "-q"] + a.perf_args.split() + ["-o",
                                 str(Path(a.out) / ("perf-%d.data" % n)), "-p",
                                 str(qpid), "--", "sleep", str(max(1, a.secs - 1))],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    mbps, nbytes = stream(b, g, d, extra, a.secs)
    wall = time.monotonic() - w0
    t1, h1 = thread_stats(qpid), host_cpu()
    if perf:
        perf.wait()
    i1 = guest_idle(g)
    c1 = b.nr.sysctl_tree(g, keys)
    print("== run %d: %s %s%s: %.1f Mbit/s, %d bytes, %.1f s" % (
        n, d, extra, (" after `%s`" % cmd) if cmd else "", mbps, nbytes, wall))
    hz = os.sysconf("SC_CLK_TCK")
    for tid in sorted(t1):
        if tid in t0 and t1[tid][1:] != t0[tid][1:]:
            name, cpu, v, nv = t1[tid]
            print("   thread %-16s %5.1f%% CPU, %6d voluntary %6d involuntary "
                  "switches/s" % (name, 100 * (cpu - t0[tid][1]) / hz / wall,
                                  (v - t0[tid][2]) / wall, (nv - t0[tid][3]) / wall))
    # The guest's own view: a hart's idle share of the same wall time
    # (its clock is the host's when not run under -icount). A vCPU thread
    # busy well below 100 - idle is waiting in QEMU (its big lock), not
    # in the guest's wfi.
    print("   guest idle: " + ", ".join(
        "cpu%d %.0f%%" % (h, 100 * (i1[h] - i0.get(h, 0)) / 1e9 / wall)
        for h in sorted(i1)))
    dh = [x - y for x, y in zip(h1, h0)]
    print("   host: user %.0f%% sys %.0f%% softirq %.0f%% idle %.0f%% of all cores"
          % tuple(100 * dh[i] / max(1, sum(dh)) for i in (0, 2, 6, 3)))
    segs = nbytes / MSS
    for k in sorted(c1):
        v = c1[k] - c0.get(k, 0)
        if isinstance(v, int) and v and not k.endswith("_us"):
            print("   %-44s %12d %9.3f per 1460 B" % (k, v, v / segs))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", default="l2g,g2l")
    p.add_argument("--secs", type=int, default=5)
    p.add_argument("--cpus", type=int, default=2)
    p.add_argument("--perf", action="store_true")
    p.add_argument("--perf-args", default="",
                   help="more perf record arguments, e.g. '-e sched:sched_switch -g'")
    p.add_argument("--out", default="/tmp/tcpdiag")
    a = p.parse_args()
    Path(a.out).mkdir(parents=True, exist_ok=True)
    b = run.Bench(argparse.Namespace(cpus=a.cpus, secs=a.secs, only="tcpdiag",
                                     lockcheck=False))
    b.qargs = b.qargs + ["-name", "nk,debug-threads=on"]
    try:
        b.setup_rig()
        if b.rig is None:
            raise SystemExit("tcpdiag: " + "; ".join(b.notes))
        g = b.guest()
        qpid = qemu_pid(g)
        for n, spec in enumerate(a.runs.split(",")):
            one_run(b, g, qpid, n, spec, a)
    finally:
        b.close()


if __name__ == "__main__":
    main()
