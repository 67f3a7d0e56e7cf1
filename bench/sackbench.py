"""bench/sackbench.py: goodput with and without SACK at 2% loss (make bench).

Problem: what does SACK (RFC 2018 blocks, RFC 6675 recovery) buy on a
lossy path, each way, with delay?  (A packet dropped in Linux's own
OUTPUT hook is not a network loss: its TCP sees a local error and resends
as if it had never left; tcpbench's loss2 therefore drops on a forwarded
path, bench/losspath.py, which adds no delay.)

Idea: a guest of its own behind the seeded relay (tests/relay.py), which
drops 2% of the frames each way and adds 5 ms each way, so both TCPs
meet real losses.  Goodput Linux -> guest (tcpstream -s in the guest,
tcpbench's ns-tcpsend) and guest -> Linux (tcpstream, ns-tcpsink), with
the guest's net.inet.tcp.sack at 1 and at 0 (Linux always offers SACK;
with 0 the guest does not, so neither direction uses it), alternated over
ROUNDS rounds so a change of the host's load hits both settings.  Beside
each figure: the senders' recoveries and timeouts (the guest's counters;
Linux's from nstat in the namespace).  Measured, never asserted: under
TCG on a shared host, compare only the figures of one run.
"""

import json
import statistics
import sys

from tcpbench import GUEST, PEER, LinuxSink, RelayGuest, start_server, total_line

ROUNDS = 2
LOSS = 0.02
DELAY_MS = 5
GUEST_KEYS = ("recovery", "sack_recovery", "rexmttimeo", "sndrexmitbyte",
              "sack_rexmitbyte", "sack_lostbyte", "sack_sndblocks")
LINUX_KEYS = ("TcpRetransSegs", "TcpExtTCPSackRecovery",
              "TcpExtTCPRenoRecovery", "TcpExtTCPTimeouts")


class SackBench(RelayGuest):
    def __init__(self, bench):
        self.b = bench
        self.rig = None
        self.g = None
        self.port = 5500

    def boot(self):
        d = {"loss": LOSS, "delay_ms": DELAY_MS}
        self.boot_relay({"seed": 7, "in": d, "out": d}, "fs-sack.img", "bench-sack")

    def guest_counters(self):
        t = self.b.nr.sysctl_tree(self.g, "net.inet.tcp")
        return {k: t.get("net.inet.tcp." + k, 0) for k in GUEST_KEYS}

    def linux_counters(self):
        p = self.rig.ns_run(["nstat", "-az", "--json"], check=False)
        try:
            k = json.loads(p.stdout).get("kernel", {})
        except ValueError:
            k = {}
        return {n: k.get(n, 0) for n in LINUX_KEYS}

    def measured(self, fn):
        """fn's result with the counters' growth on both ends meanwhile."""
        g0, l0 = self.guest_counters(), self.linux_counters()
        r = fn()
        g1, l1 = self.guest_counters(), self.linux_counters()
        r["guest"] = {k: g1[k] - g0[k] for k in g0}
        r["linux"] = {k: l1[k] - l0[k] for k in l0}
        return r

    def l2g(self, secs):
        self.port += 1
        start_server(self.g, "-p %d" % self.port)
        r = self.rig.ns_run([sys.executable, str(self.b.script), "ns-tcpsend",
                             "--dst", GUEST, "--port", str(self.port),
                             "--secs", str(secs)], timeout=secs + 180)
        r = json.loads(r.stdout.strip().splitlines()[-1])
        return {"mbps": round(r["bytes"] * 8 / r["secs"] / 1e6, 3)}

    def g2l(self, secs):
        self.port += 1
        with LinuxSink(self.b, self.rig, self.port) as sink:
            out = self.g.run("tcpstream -l %d -p %d %s" % (secs, self.port, PEER),
                             timeout=secs * 10 + 120)
            sink.result()
        return {"mbps": total_line(out)["mbps"]}

    def run(self):
        secs = max(3, int(self.b.secs))
        runs = {"sack1": {"l2g": [], "g2l": []}, "sack0": {"l2g": [], "g2l": []}}
        try:
            self.boot()
            for _ in range(ROUNDS):
                for on in (1, 0):
                    self.g.run("sysctl net.inet.tcp.sack=%d" % on)
                    runs["sack%d" % on]["l2g"].append(
                        self.measured(lambda: self.l2g(secs)))
                    runs["sack%d" % on]["g2l"].append(
                        self.measured(lambda: self.g2l(secs)))
        finally:
            self.close()
        return {"loss": LOSS, "delay_ms_each_way": DELAY_MS, "secs": secs,
                "rounds": ROUNDS, "runs": runs}


def table_rows(f, row, err):
    if err("   relay, 2% loss each way, sack", "tcp_sack"):
        return
    d = f["tcp_sack"]
    row("5c. TCP goodput through the relay, %d%% loss and %d ms each way "
        "(Mbit/s, median of %d)" % (d["loss"] * 100, d["delay_ms_each_way"],
                                    d["rounds"]), "", "")
    for on in (1, 0):
        for k, name, who in (("l2g", "Linux -> guest", "linux"),
                             ("g2l", "guest -> Linux", "guest")):
            rs = d["runs"]["sack%d" % on][k]
            med = statistics.median(r["mbps"] for r in rs)
            each = "/".join("%.2f" % r["mbps"] for r in rs)
            if who == "guest":
                c = [r["guest"] for r in rs]
                detail = "runs %s; guest: %d recoveries (%d SACK), %d timeouts" % (
                    each, sum(x["recovery"] for x in c),
                    sum(x["sack_recovery"] for x in c),
                    sum(x["rexmttimeo"] for x in c))
            else:
                c = [r["linux"] for r in rs]
                detail = "runs %s; Linux: %d SACK / %d Reno recoveries, %d timeouts" % (
                    each, sum(x["TcpExtTCPSackRecovery"] for x in c),
                    sum(x["TcpExtTCPRenoRecovery"] for x in c),
                    sum(x["TcpExtTCPTimeouts"] for x in c))
            row("   %s, sack=%d" % (name, on), "%.2f" % med, detail)
