"""bench/lossbench.py: the guest's loss recovery at 2% loss, switch on and
off in one boot (`make bench`, `bench/run.py --only lossflip`).

Problem: what do the tail loss probe (net/tcp_tlp.c, net.inet.tcp.tlp),
proportional rate reduction (net/tcp_prr.c, net.inet.tcp.prr), the
probe timeout's allowance for a delayed ACK when one segment is out
(net.inet.tcp.tlp_wcdelack_ms) and the RTO floor
(net.inet.tcp.rto_min_ms) change in the guest's
sending over the e1000 at 2% loss?  Wall-clock goodput under TCG on a
shared host moves by 20-300% with the load of the others, so two runs
on two boots at two moments compare the host's load more than the code.

Idea: one guest (run.py's, on the tap), Linux's end on the tap too,
which drops 2% of the TCP frames each way (bench/taploss.py, as
tcpbench's loss rows), and guest -> Linux streams of
--secs each (tcpstream against ns-tcpsink) with the settings of SETTINGS
in turn, ROUNDS times over, so a change of the host's load hits every
setting alike.  Beside each run: the host's load average at its start
and the guest's counters during it (timeouts, probes, recoveries) --
counts, which do not move with the load the way the rates do.

Figures (tcp_lossflip): per setting, the goodput of every run, and the
summed counters.  Measured, never asserted.
"""

import os

from taploss import TapLoss
from tcpbench import LinuxSink, TcpBench, total_line

ROUNDS = 2
SETTINGS = (("tlp=1, prr=0", {"net.inet.tcp.tlp": 1}),
            ("prr=1", {"net.inet.tcp.prr": 1}),
            ("tlp=0", {"net.inet.tcp.tlp": 0}),
            ("tlp_wcdelack_ms=40", {"net.inet.tcp.tlp_wcdelack_ms": 40}),
            ("tlp=1, rto_min_ms=30", {"net.inet.tcp.tlp": 1,
                                      "net.inet.tcp.rto_min_ms": 30}))
DEFAULTS = {"net.inet.tcp.tlp": 1, "net.inet.tcp.prr": 0,
            "net.inet.tcp.tlp_wcdelack_ms": 200, "net.inet.tcp.rto_min_ms": 200}
SHOWN = ("rexmttimeo", "tlp_probe", "tlp_lostrexmt", "sack_recovery",
         "prr_recovery")


class LossBench:
    def __init__(self, bench):
        self.b = bench
        self.tcp = TcpBench(bench)

    def g2l(self, secs, lp):
        """One guest -> Linux stream through lp: Mbit/s and the counters."""
        b, g = self.b, self.b.guest()
        b.tcp_port += 1
        c0 = self.tcp.guest_counters(lp)
        with LinuxSink(b, lp, b.tcp_port) as sink:
            out = g.run("tcpstream -l %d -p %d %s" % (secs, b.tcp_port,
                                                      lp.addr),
                        timeout=secs * 10 + 120)
            sink.result()
        c1 = self.tcp.guest_counters(lp)
        return {"mbps": total_line(out)["mbps"],
                "ctr": {k: c1[k] - c0[k] for k in c0}}

    def set(self, knobs):
        for k, v in sorted(knobs.items()):
            self.b.run("sysctl %s=%d" % (k, v))

    def run(self):
        secs = max(2, int(self.b.secs))
        res = {"secs": secs, "rounds": ROUNDS, "runs": []}
        try:
            with TapLoss(self.b.rig, 2) as lp:
                for rnd in range(ROUNDS):
                    for name, knobs in SETTINGS:
                        self.set(DEFAULTS)
                        self.set(knobs)
                        load = round(os.getloadavg()[0], 2)
                        r = self.g2l(secs, lp)
                        r.update({"setting": name, "round": rnd, "load": load})
                        res["runs"].append(r)
        finally:
            self.set(DEFAULTS)
        return res


def table_rows(f, row, err):
    """Rows for run.py's table."""
    if "tcp_lossflip" not in f:
        return
    row("5d. guest -> Linux at 2% loss, switches flipped in one boot (Mbit/s)",
        "", "")
    if err("   e1000", "tcp_lossflip"):
        return
    runs = f["tcp_lossflip"]["runs"]
    for name, _ in SETTINGS:
        mine = [r for r in runs if r["setting"] == name]
        if not mine:
            continue
        tot = {k: sum(r["ctr"].get(k, 0) for r in mine) for k in SHOWN}
        row("   " + name, "/".join("%.2f" % r["mbps"] for r in mine),
            "loads %s; RTO %d, TLP %d, lost rexmt resent %d, recoveries %d "
            "(%d by PRR)"
            % ("/".join("%.1f" % r["load"] for r in mine), tot["rexmttimeo"],
               tot["tlp_probe"], tot["tlp_lostrexmt"], tot["sack_recovery"],
               tot["prr_recovery"]))
