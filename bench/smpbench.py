"""bench/smpbench.py: figure 11 of `make bench` (bench/run.py --only smp):
two harts against one for loopback request/response.

The targets (issue: per-packet cost and SMP scaling): with CPUS=2 a
single ping-pong over lo0 no more than 1.2x slower than with CPUS=1, and
two independent loopback flows at least 1.6x the exchanges per second of
CPUS=1. What decides them is where the work runs (docs/kernel.md,
"Flow-affine: who runs where"): sends on the flow's netisr
(net.netisr.send_flow), processes kept on their flow's CPU
(kern.sched_flow_stay), poll wake-ups for the socket's own poller only
(kern.ipc.poll_targeted).

How: one CPUS=1 guest and one CPUS=2 guest, one after the other (one
QEMU at a time). Each runs ROUNDS rounds of
  netbench rtt -n N            ICMP echo over lo0 (raw socket; the kernel answers)
  netbench udprtt -n N         UDP request/response with an echo process
  netbench udpflows -F 2 -d D  two such flows at once, one per netisr
and the CPUS=2 guest runs every round twice, with the three switches on
and off, so the old and new behaviour are compared on one boot. Wall clock
only: under -icount QEMU runs the harts in turn on one host thread and the
virtual clock adds up both harts' instructions, so two harts can never
look faster there. Every run is kept (with the host load), and the
kern.ipis / kern.ctxsw deltas per exchange with it: the counts do not
move with the host's load, the times do.

And the same once more under `-icount shift=0,sleep=off` (one round per
guest: the runs repeat to the microsecond): there the guest's clock is
the instructions executed by both harts together, so the ping-pong
ratio is the price of the second hart in instructions and waits --
which must be close to 1 -- and does not move with the host's load;
the two-flow ratio cannot exceed 1 there (two busy harts advance the
clock twice as fast), so only the wall-clock rounds speak for it.
"""

import os
import statistics

ROUNDS = 3
N = 500
FLOW_MS = 2000
ICOUNT = ["-icount", "shift=0,sleep=off"]
SWITCHES = {"on": "net.netisr.send_flow=1 kern.sched_flow_stay=1 kern.ipc.poll_targeted=1",
            "off": "net.netisr.send_flow=0 kern.sched_flow_stay=0 kern.ipc.poll_targeted=0"}


class SmpBench:
    def __init__(self, bench):
        self.b = bench
        self.port = 9600

    def guest(self, cpus, icount=False):
        """A booted guest. Under -icount with 2 harts QEMU 7.2 sometimes
        stops during boot (bench/icount.py): up to 3 tries then."""
        b = self.b
        for attempt in range(3 if icount else 1):
            fs = b.nk.copy_fsimg(b.work, "fs-smp-%d.img" % cpus)
            g = b.nk.Guest(fs, cpus=cpus, qemu_args=(ICOUNT if icount else []) + b.qargs,
                           log=b.results / "console.tmp", name="bench-smp%d" % cpus)
            try:
                g.boot(timeout=150 if icount else 120)
                g.run("sysctl vm.junk_fill=0")
                return g
            except b.nk.GuestError:
                g.close()
                if attempt == (2 if icount else 0):
                    raise
            except BaseException:
                g.close()
                raise
        raise RuntimeError("not reached")

    def one(self, g):
        """One round: the three commands, as a dict of figures."""
        nb = self.b.netbench
        self.port += 10
        a = nb(g.run("netbench rtt -n %d" % N, timeout=600), "rtt")
        u = nb(g.run("netbench udprtt -n %d -p %d" % (N, self.port), timeout=600), "udprtt")
        f = nb(g.run("netbench udpflows -F 2 -d %d -p %d" % (FLOW_MS, self.port + 3),
                     timeout=600), "udpflows")
        return {"load": round(os.getloadavg()[0], 1),
                "rtt_us": round(a["us"] / max(N - a["lost"], 1), 1), "rtt_ipis": round(a["ipis"] / N, 2),
                "rtt_ctxsw": round(a["ctxsw"] / N, 2),
                "udp_us": round(u["us"] / max(N - u["lost"], 1), 1), "udp_ipis": round(u["ipis"] / N, 2),
                "udp_ctxsw": round(u["ctxsw"] / N, 2),
                "udp_cpus": "%s/%s/%s" % (u["cpu_client"], u["cpu_server"], u["cpu_flow"]),
                "flows_xps": f["xps"], "flows_per": f["per"],
                "flows_ipis": round(f["ipis"] / max(f["n"], 1), 2)}

    def on(self, cpus, icount=False):
        g = self.guest(cpus, icount)
        runs = []
        try:
            for r in range(1 if icount else ROUNDS):
                for name in (("on", "off") if cpus > 1 else ("on",)):
                    g.run("sysctl " + SWITCHES[name])
                    row = self.one(g)
                    row.update({"round": r, "switches": name})
                    runs.append(row)
            g.run("sysctl " + SWITCHES["on"])
        finally:
            g.close()
        return runs

    def run(self):
        res = {"cpus1": self.on(1), "cpus2": self.on(2)}
        try:
            res["icount_cpus1"] = self.on(1, True)
            res["icount_cpus2"] = self.on(2, True)
        except Exception as e:   # the wall-clock rounds stand on their own
            res["icount_error"] = str(e).splitlines()[0][:200]
            res.pop("icount_cpus1", None)

        def med(cpus, sw, k):
            v = [r[k] for r in res[cpus] if r["switches"] == sw]
            return statistics.median(v) if v else None

        for pre in ("", "icount_"):
            for sw in ("on", "off"):
                if pre + "cpus1" not in res:
                    continue
                c1r, c1u, c1f = (med(pre + "cpus1", "on", k)
                                 for k in ("rtt_us", "udp_us", "flows_xps"))
                c2r, c2u, c2f = (med(pre + "cpus2", sw, k)
                                 for k in ("rtt_us", "udp_us", "flows_xps"))
                res[pre + "ratio_" + sw] = {
                    "rtt_slowdown": round(c2r / c1r, 3) if c1r else None,
                    "udp_slowdown": round(c2u / c1u, 3) if c1u else None,
                    "flows_speedup": round(c2f / c1f, 3) if c1f else None}
        return res


def table_rows(f, row, err):
    """Rows for run.py's table."""
    row("11. CPUS=2 against CPUS=1 over lo0 (wall clock medians; -icount)", "", "")
    if err("   smp", "smp"):
        return
    d = f["smp"]
    for sw in ("on", "off"):
        r = d["ratio_" + sw]
        row("   switches %s: ping-pong slowdown ICMP / UDP" % sw,
            "%s / %s" % (r["rtt_slowdown"], r["udp_slowdown"]),
            "target <= 1.2 (send_flow, sched_flow_stay, poll_targeted)")
        row("   switches %s: 2 flows speed-up" % sw, "%s" % r["flows_speedup"],
            "target >= 1.6 (netbench udpflows -F 2)")
    for sw in ("on", "off"):
        r = d.get("icount_ratio_" + sw)
        if r:
            row("   -icount, switches %s: ping-pong ICMP / UDP, 2 flows" % sw,
                "%s / %s, %s" % (r["rtt_slowdown"], r["udp_slowdown"], r["flows_speedup"]),
                "virtual time (both harts' instructions): flows cannot exceed 1 here")
    if "icount_error" in d:
        row("   -icount", "error", d["icount_error"][:70])
    for cpus in ("cpus1", "cpus2", "icount_cpus1", "icount_cpus2"):
        if cpus not in d:
            continue
        for x in d[cpus]:
            row("   %s %s round %d" % (cpus, x["switches"], x["round"]),
                "%s/%s us" % (x["rtt_us"], x["udp_us"]),
                "%d xps; IPIs/exchange %s/%s/%s, ctxsw %s/%s; load %s"
                % (x["flows_xps"], x["rtt_ipis"], x["udp_ipis"], x["flows_ipis"],
                   x["rtt_ctxsw"], x["udp_ctxsw"], x["load"]))
