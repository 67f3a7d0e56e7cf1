"""bench/mechbench.py: the figures of the three TCP mechanisms (issue 11),
used by bench/run.py (`make bench`, or BENCHFLAGS='--only mech').

Each mechanism is measured with its switch flipped in ONE boot, the two
settings alternating (on, off, on, off) so that a change of host load
hits both alike; the ratio on/off is the figure.  Wall-clock rates under
QEMU's TCG move with the host load: read the ratio, not the absolute.

Figures:
  mech_rcvd      net.inet.tcp.async_rcvd 1 vs 0: `tcpstream -P 4` over
                 lo0 (its server reads 64 KB at a time), CPUS=2 and 4;
                 and guest instructions per byte on a CPUS=1 guest under
                 -icount (the same work either way: the gain is overlap).
  mech_srs       net.inet.tcp.soreceive_stream 1 vs 0: `tcpstream -P 2`
                 over lo0, CPUS=2 (goodput), and the same on a CPUS=1
                 guest under `-icount shift=0,sleep=off` (guest
                 instructions per byte = guest ms x 10^6 / bytes).
  mech_reuseport accepts per second from Linux over the tap into
                 `reuseport -T` with 1 and with 2 listeners (CPUS=2), and
                 the share max/min over 4 listeners.  Needs the rig.
"""

import re
import subprocess
import sys
import time
from pathlib import Path

import tcpbench

HERE = Path(__file__).resolve().parent
TCPPEER = HERE.parent / "tests" / "tcppeer.py"


def _mbps(out):
    return tcpbench.total_line(out)


class MechBench:
    def __init__(self, bench):
        self.b = bench

    def _guest(self, cpus, name, extra=()):
        b = self.b
        fs = b.nk.copy_fsimg(b.work, "fs-%s.img" % name)
        g = b.nk.Guest(fs, cpus=cpus, qemu_args=b.qargs + list(extra),
                       log=b.results / "console.tmp", name="bench-" + name)
        g.boot(timeout=300)
        g.run("sysctl vm.junk_fill=0")
        return g

    def _flip(self, g, knob, streams, secs, rounds=2):
        """tcpstream -P streams with knob=1 and =0, alternating."""
        res = {1: [], 0: []}
        for _ in range(rounds):
            for v in (1, 0):
                g.run("sysctl %s=%d" % (knob, v))
                t = _mbps(g.run("tcpstream -l %d -P %d 127.0.0.1" % (secs, streams),
                                timeout=secs * 30 + 120))
                res[v].append(t)
        g.run("sysctl %s=1" % knob)
        on = sum(t["mbps"] for t in res[1]) / rounds
        off = sum(t["mbps"] for t in res[0]) / rounds
        return {"on_mbps": round(on, 2), "off_mbps": round(off, 2),
                "ratio": round(on / off, 3) if off else None,
                "runs_on": [t["mbps"] for t in res[1]],
                "runs_off": [t["mbps"] for t in res[0]]}

    def _icount(self, knob, streams, name):
        """Guest instructions per byte with knob 1 and 0 on a CPUS=1 guest
        under -icount shift=0 (one instruction = 1 ns of guest time, so
        tcpstream's guest milliseconds x 10^6 / bytes is instructions per
        byte, the same from run to run to a fraction of a percent)."""
        g = self._guest(1, name, ["-icount", "shift=0,sleep=off"])
        try:
            tcpbench.start_server(g, "", timeout=120)
            ipb = {}
            for v in (1, 0):
                g.run("sysctl %s=%d" % (knob, v))
                t = _mbps(g.run("tcpstream -l 2 -P %d 127.0.0.1" % streams,
                                timeout=900))
                ipb[v] = {"bytes": t["bytes"], "guest_ms": t["ms"],
                          "insn_per_byte": round(t["ms"] * 1e6 / t["bytes"], 2)
                          if t["bytes"] else None}
            g.run("sysctl %s=1" % knob)
        finally:
            g.close()
        return {"on": ipb[1], "off": ipb[0],
                "command": "qemu ... -smp 1 -icount shift=0,sleep=off; "
                           "tcpstream -s & tcpstream -l 2 -P %d 127.0.0.1" % streams}

    def rcvd(self):
        secs = max(2, int(self.b.secs))
        out = {}
        for cpus in (2, 4):
            g = self._guest(cpus, "rcvd%d" % cpus)
            try:
                tcpbench.start_server(g, "")
                out["cpus%d" % cpus] = self._flip(g, "net.inet.tcp.async_rcvd", 4, secs)
                c = self.b.nr.sysctl_tree(g, "net.inet.tcp")
                out["cpus%d" % cpus]["counters"] = {
                    k.rsplit(".", 1)[-1]: v for k, v in c.items()
                    if "rcvd" in k and "async_rcvd" not in k}
            finally:
                g.close()
        # One hart: the work per byte with and without the asynchronous
        # update. The mechanism saves no instructions (the same message is
        # handled either way); what it buys is overlap, the reader copying
        # on one CPU while the netisr sends the window update on another,
        # which one hart cannot show.
        out["icount"] = self._icount(knob="net.inet.tcp.async_rcvd",
                                     streams=4, name="rcvdicount")
        return out

    def srs(self):
        secs = max(2, int(self.b.secs))
        g = self._guest(2, "srs")
        try:
            tcpbench.start_server(g, "")
            res = {"cpus2": self._flip(g, "net.inet.tcp.soreceive_stream", 2, secs)}
        finally:
            g.close()
        res["icount"] = self._icount(knob="net.inet.tcp.soreceive_stream",
                                     streams=2, name="srsicount")
        return res

    def _accepts(self, g, n, count, port):
        """reuseport -T -n n; Linux opens count connections (8 at a
        time); returns (per-listener counts, connections/s at Linux)."""
        b = self.b
        g.sendline("reuseport -T -n %d -p %d -t 600 -c %d" % (n, port, count))
        g.expect(r"reuseport: ready n=%d" % n, 60, "reuseport's ready line")
        t0 = time.monotonic()
        r = b.rig.ns_run([sys.executable, str(TCPPEER), "opens", "--port",
                          str(port), "--count", str(count), "--parallel", "8",
                          "--deadline", "580"], timeout=600)
        secs = time.monotonic() - t0
        out = g.wait_prompt(600, "reuseport's report")
        m = re.search(r"^reuseport: tcp accepted=([\d,]+)$", out, re.M)
        if not m:
            raise RuntimeError("no accepted line:\n" + out[-800:])
        counts = [int(x) for x in m.group(1).split(",")]
        ok = len(r.stdout.strip().splitlines()) and '"ok"' in r.stdout
        return counts, (count / secs if ok else None)

    def reuseport(self):
        b = self.b
        g = b.guest()
        count = 600
        c1, r1 = self._accepts(g, 1, count, 9201)
        c2, r2 = self._accepts(g, 2, count, 9202)
        c4, _ = self._accepts(g, 4, 2 * count, 9203)
        return {"conns": count, "rate_1": round(r1, 1), "rate_2": round(r2, 1),
                "ratio_2_1": round(r2 / r1, 3), "counts_1": c1, "counts_2": c2,
                "counts_4": c4, "share_max_min_4": round(max(c4) / max(1, min(c4)), 3)}


def table_rows(f, row, err):
    row("9. TCP mechanisms (switch on vs off, one boot)", "", "")
    if not err("   async_rcvd, lo0 -P 4", "mech_rcvd"):
        for c in ("cpus2", "cpus4"):
            d = f["mech_rcvd"].get(c)
            if d:
                row("   async_rcvd on/off, %s" % c.replace("cpus", "CPUS="),
                    "%s" % d["ratio"], "%.2f vs %.2f Mbit/s (tcpstream -P 4 over lo0)"
                    % (d["on_mbps"], d["off_mbps"]))
        i = f["mech_rcvd"].get("icount")
        if i:
            row("   async_rcvd insn/byte on, off", "%s, %s"
                % (i["on"]["insn_per_byte"], i["off"]["insn_per_byte"]),
                "CPUS=1, -icount shift=0, tcpstream -l 2 -P 4")
    if not err("   soreceive_stream, lo0 -P 2", "mech_srs"):
        d = f["mech_srs"]["cpus2"]
        row("   soreceive_stream on/off, CPUS=2", "%s" % d["ratio"],
            "%.2f vs %.2f Mbit/s (tcpstream -P 2, 64 KB reads)"
            % (d["on_mbps"], d["off_mbps"]))
        i = f["mech_srs"].get("icount")
        if i:
            row("   soreceive_stream insn/byte on, off", "%s, %s"
                % (i["on"]["insn_per_byte"], i["off"]["insn_per_byte"]),
                "CPUS=1, -icount shift=0, tcpstream -l 2 -P 2")
    if not err("   reuseport accepts", "mech_reuseport"):
        d = f["mech_reuseport"]
        row("   reuseport accepts/s 2 vs 1 listeners", "%s" % d["ratio_2_1"],
            "%.1f vs %.1f conn/s from Linux, %d connections"
            % (d["rate_2"], d["rate_1"], d["conns"]))
        row("   reuseport share max/min, 4 listeners", "%s" % d["share_max_min_4"],
            "accepted %s" % d["counts_4"])
