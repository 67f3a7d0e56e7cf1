"""bench/mechbench.py: the figures of the three TCP mechanisms (issue 11),
used by bench/run.py (`make bench`, or BENCHFLAGS='--only mech').

Each mechanism is measured with its switch flipped in ONE boot, the two
settings alternating (on, off, on, off) so that a change of host load
hits both alike; the ratio on/off is the figure.  Wall-clock rates under
QEMU's TCG move with the host load: read the ratio, not the absolute.

Every run is kept with the host's load average and, as deltas of the
guest's counters, its context switches and IPIs per MB, the harts' idle
share, the PRU_RCVD messages (sent, found in flight, synchronous) and the
waits for so_rcv's lock (net.inet.tcp.rcvlock_*): the figures that say
why a run was fast or slow.

Figures:
  mech_rcvd      net.inet.tcp.async_rcvd 1 vs 0, 4 rounds each:
                 `tcpstream -P 4` over lo0 (its server reads 64 KB at a
                 time), CPUS=2 and 4 (the issue's configuration), the same
                 with net.inet.tcp.rcvd_every_read=1 (a PRU_RCVD per
                 read, the configuration DragonFly's commit measured); and
                 `tcpstream -P 4 -R -m 4096` (the client reads 4 KB at a
                 time, so reads that free room are frequent), CPUS=2 and
                 4, and CPUS=2 with kern.sched_wake_affine 1 (the reader joins the
                 netisr's CPU) and 0 (it stays on its own, so the netisr
                 often runs on the other CPU), and with wake-affine
                 net.inet.tcp.async_rcvd_lazy 1 vs 0. Every run's streams
                 land on the same netisrs (tcpstream -B, bench/flowhash.py:
                 2 per netisr with CPUS=2, 1 with CPUS=4). And guest
                 instructions per byte on a CPUS=1 guest under -icount:
                 both commands, and 64 KB reads with
                 net.inet.tcp.rcvd_every_read=1 (a message per read, as
                 DragonFly's soreceive sends), each with async_rcvd 1, 0,
                 and 1 with async_rcvd_lazy=0 ("plain send").
  mech_srs       net.inet.tcp.soreceive_stream 1 vs 0, 4 rounds each:
                 `tcpstream -P 2` over lo0 (64 KB reads), CPUS=2, with
                 wake-affine on and off; and the same on a CPUS=1 guest
                 under `-icount shift=0,sleep=off` (busy guest
                 instructions per byte: elapsed - kern.idle_ns over the
                 streams, minus the clock tick's share; bench/icount.py).
  mech_reuseport connections served per second from Linux over the tap
                 by `reuseport -T` with 1 and with 2 listeners (CPUS=2),
                 4 rounds of 2,000 connections alternating; Linux's side
                 is a closed loop (bench/acceptload.py: 32 open at a
                 time, each waits for the guest's FIN after its accept,
                 read to EOF and close), so no accept queue overflows
                 and the figure is the rate the guest serves, not the
                 1 s SYN retransmissions of an overflowed queue. Then
                 the share max/min over 4 listeners of 10,000
                 connections; before it, the 1-vs-2 rounds again with
                 kern.sched_wake_affine=0. Every run keeps the guest's
                 listen drops and Linux's SYN retransmissions (0
                 expected).  Needs the rig.
"""

import json
import os
import re
import sys
from pathlib import Path

import flowhash
import icount
import tcpbench

HERE = Path(__file__).resolve().parent
ACCEPTLOAD = HERE / "acceptload.py"


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

    # Counters read around every run (deltas): where a run's time went.
    COUNTERS = ("kern.ctxsw", "kern.ipis", "kern.idle_us",
                "net.inet.tcp.rcvd_async_sent", "net.inet.tcp.rcvd_async_inflight",
                "net.inet.tcp.rcvd_sync", "net.inet.tcp.sndwinup",
                "net.inet.tcp.rcvd_reads", "net.inet.tcp.rcvd_reads_full",
                "net.inet.tcp.persisttimeo",
                "net.inet.tcp.rcvlock_waits_netisr", "net.inet.tcp.rcvlock_wait_us_netisr",
                "net.inet.tcp.rcvlock_waits_reader", "net.inet.tcp.rcvlock_wait_us_reader")

    def _counters(self, g):
        c = {}
        for prefix in ("kern", "net.inet.tcp", "net.netisr"):
            c.update(self.b.nr.sysctl_tree(g, prefix))
        out = {k: c.get(k, 0) for k in self.COUNTERS}
        # Packets per netisr: shows where the run's connections landed.
        for k, v in c.items():
            if re.match(r"net\.netisr\.\d+\.(pkts|batches)$", k):
                out[k] = v
        return out

    def _run(self, g, cmd, secs, cpus):
        """One tcpstream run: Mbit/s, the host's load average, and the
        counters per MB (context switches, IPIs, PRU_RCVD messages, lock
        waits) and the harts' idle share."""
        load = round(os.getloadavg()[0], 2)
        a = self._counters(g)
        t = _mbps(g.run(cmd, timeout=secs * 30 + 120))
        b = self._counters(g)
        d = {k.rsplit(".", 1)[-1]: b[k] - a[k] for k in self.COUNTERS}
        netisr = {k: b[k] - a.get(k, 0) for k in b if k.startswith("net.netisr.")}
        mb = max(t["bytes"], 1) / 1e6
        run = {"mbps": t["mbps"], "load": load, "bytes": t["bytes"],
               "ctxsw_per_mb": round(d["ctxsw"] / mb, 1),
               "ipis_per_mb": round(d["ipis"] / mb, 1),
               "idle_pct": round(100.0 * d["idle_us"] / (cpus * 1000.0 * t["ms"]), 1)
               if t["ms"] else None}
        for k in ("rcvd_async_sent", "rcvd_async_inflight", "rcvd_sync", "sndwinup",
                  "rcvd_reads", "rcvd_reads_full",
                  "persisttimeo", "rcvlock_waits_netisr", "rcvlock_waits_reader"):
            run[k] = d[k]
        run["ctxsw"] = d["ctxsw"]
        run["netisr_pkts"] = [netisr.get("net.netisr.%d.pkts" % i, 0) for i in range(cpus)]
        run["netisr_batches"] = [netisr.get("net.netisr.%d.batches" % i, 0) for i in range(cpus)]
        run["rcvlock_wait_us_netisr"] = d["rcvlock_wait_us_netisr"]
        run["rcvlock_wait_us_reader"] = d["rcvlock_wait_us_reader"]
        return run

    def _flip(self, g, knob, cmd, secs, cpus, rounds=4, place=None):
        """cmd with knob=1 and =0, alternating, rounds times; every run is
        kept (the wall clock on a shared host scatters run to run).
        place: the netisr of each stream (cmd gets -B port, a fresh base
        port per run with that placement, bench/flowhash.py), so that
        both settings run with the connections spread alike: with
        ephemeral ports the placement changes run to run and moves the
        rate by up to 2x, more than the switch does. The order alternates
        (on, off, off, on, ...): a drift of the host's load, or anything
        that favours the first or second run of a pair, hits both alike."""
        res = {1: [], 0: []}
        ports = flowhash.bases(place, cpus) if place else None
        for r in range(rounds):
            for v in ((1, 0) if r % 2 == 0 else (0, 1)):
                g.run("sysctl %s=%d" % (knob, v))
                c = cmd if ports is None else cmd.replace(
                    " 127.0.0.1", " -B %d 127.0.0.1" % next(ports))
                res[v].append(self._run(g, c, secs, cpus))
        g.run("sysctl %s=1" % knob)
        on = sum(r["mbps"] for r in res[1]) / rounds
        off = sum(r["mbps"] for r in res[0]) / rounds
        wins = sum(1 for a, b in zip(res[1], res[0]) if a["mbps"] > b["mbps"])
        return {"command": cmd, "placement": list(place) if place else None,
                "on_mbps": round(on, 2), "off_mbps": round(off, 2),
                "ratio": round(on / off, 3) if off else None,
                "rounds_on_faster": "%d/%d" % (wins, rounds),
                "runs_on": res[1], "runs_off": res[0]}

    def _icount(self, knob, cmd, name, extra=(), base=(), pre=()):
        """Guest instructions per byte with knob 1 and 0 (and each of
        extra: (key, [settings])), each run after the settings of base
        (the defaults it restores), pre once after boot, on a CPUS=1 guest
        under -icount shift=0 (one instruction = 1 ns of guest time):
        busy = elapsed - kern.idle_ns, which tcpstream reads in the guest
        around its streams, minus the clock tick's share
        (bench/icount.py: tick_rate, cost), per byte."""
        g = self._guest(1, name, ["-icount", "shift=0,sleep=off"])
        try:
            for p in pre:
                g.run(p)
            tcpbench.start_server(g, "", timeout=120)
            rate = icount.tick_rate(self.b, g)
            ipb = {}
            runs = [(1, ["%s=1" % knob]), (0, ["%s=0" % knob])] + list(extra)
            for v, sets in runs:
                for s in list(base) + sets:
                    g.run("sysctl " + s)
                a = self._counters(g)
                out = g.run(cmd, timeout=900)
                t = _mbps(out)
                b = self._counters(g)
                mb = max(t["bytes"], 1) / 1e6
                m = re.search(r"^tcpstream: total=.*$", out, re.M)
                per, d = icount.cost(m.group(0), t["bytes"], 1, rate)
                ipb[v] = dict(d, guest_ms=t["ms"], insn_per_byte=per,
                              ctxsw_per_mb=round((b["kern.ctxsw"] - a["kern.ctxsw"]) / mb, 1),
                              rcvd_msgs_per_mb=round(sum(
                                  b[k] - a[k] for k in ("net.inet.tcp.rcvd_async_sent",
                                                        "net.inet.tcp.rcvd_sync")) / mb, 1),
                              reads_per_mb=round((b["net.inet.tcp.rcvd_reads"] -
                                                  a["net.inet.tcp.rcvd_reads"]) / mb, 1),
                              settings=sets)
            for s in ["%s=1" % knob] + list(base):
                g.run("sysctl " + s)
        finally:
            g.close()
        out = {k: v for k, v in ipb.items() if k not in (0, 1)}
        out.update({"on": ipb[1], "off": ipb[0],
                    "command": "qemu ... -smp 1 -icount shift=0,sleep=off; "
                               "tcpstream -s & " + cmd})
        return out

    def _flip_guest(self, cpus, name, knob, cmd, secs, pre=(), place=None):
        g = self._guest(cpus, name)
        try:
            for p in pre:
                g.run(p)
            tcpbench.start_server(g, "")
            out = self._flip(g, knob, cmd, secs, cpus, place=place)
            out["settings"] = list(pre)
        finally:
            g.close()
        return out

    def rcvd(self):
        secs = max(2, int(self.b.secs))
        knob = "net.inet.tcp.async_rcvd"
        lazy = "net.inet.tcp.async_rcvd_lazy"
        # Every run with the same placement: two streams per netisr with
        # CPUS=2, one per netisr with CPUS=4 (tcpstream -B, flowhash.py).
        spread = {2: (0, 1, 0, 1), 4: (0, 1, 2, 3)}
        p4 = "tcpstream -l %d -P 4 127.0.0.1" % secs
        # The configuration: the server reads 64 KB at a time.
        out = {"cpus%d" % c: self._flip_guest(c, "rcvd%d" % c, knob, p4, secs, place=spread[c])
               for c in (2, 4)}
        # The same with a PRU_RCVD after every read that took data, as
        # DragonFly's soreceive sends it (net.inet.tcp.rcvd_every_read=1):
        # the configuration the original commit measured (+12%).
        for c in (2, 4):
            out["cpus%d_every_read" % c] = self._flip_guest(
                c, "rcvdev%d" % c, knob, p4, secs, place=spread[c],
                pre=["sysctl net.inet.tcp.rcvd_every_read=1"])
        # Reads that free room often (4 KB reads, the server sending:
        # tcpstream -R): with wake-affine (the reader joins the netisr's
        # CPU, where the lazy send lets it read on instead of being
        # preempted), the same with the lazy send off, and without
        # wake-affine (the netisr often on the other CPU).
        r4k = "tcpstream -l %d -P 4 -R -m 4096 127.0.0.1" % secs
        out["cpus2_read4k"] = self._flip_guest(2, "rcvd4k", knob, r4k, secs, place=spread[2])
        out["cpus4_read4k"] = self._flip_guest(4, "rcvd4k4", knob, r4k, secs, place=spread[4])
        out["cpus2_read4k_lazy"] = self._flip_guest(2, "rcvd4kl", lazy, r4k, secs,
                                                    place=spread[2])
        out["cpus2_read4k_noaffine"] = self._flip_guest(
            2, "rcvd4kna", knob, r4k, secs, pre=["sysctl kern.sched_wake_affine=0"],
            place=spread[2])
        # One hart, -icount: the work per byte. There the netisr is always
        # on the reader's CPU; "on_plain" is the asynchronous message sent
        # without the lazy wake (it preempts the reader at once: the same
        # two switches as the synchronous request).
        plain = [("on_plain", [knob + "=1", lazy + "=0"])]
        base = [lazy + "=1"]
        out["icount"] = self._icount(knob, "tcpstream -l 2 -P 4 127.0.0.1", "rcvdicount",
                                     plain, base)
        out["icount_read4k"] = self._icount(knob, "tcpstream -l 2 -P 4 -R -m 4096 127.0.0.1",
                                            "rcvdicount4k", plain, base)
        # DragonFly's soreceive sends PRU_RCVD after every read that took
        # data (net.inet.tcp.rcvd_every_read=1): what the message saves
        # when there is one per read.
        out["icount_every_read"] = self._icount(
            knob, "tcpstream -l 2 -P 4 127.0.0.1", "rcvdicountev", plain, base,
            pre=["sysctl net.inet.tcp.rcvd_every_read=1"])
        return out

    def srs(self):
        secs = max(2, int(self.b.secs))
        knob = "net.inet.tcp.soreceive_stream"
        p2 = "tcpstream -l %d -P 2 127.0.0.1" % secs
        res = {"cpus2": self._flip_guest(2, "srs", knob, p2, secs),
               # Reader and netisr on different harts, where the locked
               # copy of the generic path makes the netisr wait.
               "cpus2_noaffine": self._flip_guest(2, "srsna", knob, p2, secs,
                                                  pre=["sysctl kern.sched_wake_affine=0"])}
        res["icount"] = self._icount(knob, "tcpstream -l 2 -P 2 127.0.0.1", "srsicount")
        return res

    # Accept figures (mech_reuseport): connections per run, at most CONC
    # open at once (bench/acceptload.py: well under the backlog of 128,
    # so no accept queue overflows and no SYN waits for Linux's 1 s
    # retransmission), rounds of 1 and 2 listeners alternating.
    ACCEPT_CONNS = 2000
    ACCEPT_CONC = 32
    ACCEPT_ROUNDS = 4
    SHARE_CONNS = 10000
    ACCEPT_COUNTERS = ("net.inet.tcp.listendrop", "net.inet.tcp.syncache.listendrop",
              "net.inet.tcp.syncache.overflowed", "net.inet.tcp.drop_badseq")

    def _accepts(self, g, n, count, port):
        """`reuseport -T -n n` in the guest, Linux's closed loop
        (bench/acceptload.py) opening count connections: the run's rate
        at Linux, the per-listener counts, the connection times, and the
        counters that show a lost SYN or handshake (the guest's listen
        drops, Linux's SYN retransmissions), which should all be 0."""
        b = self.b
        a = b.nr.sysctl_tree(g, "net.inet.tcp")
        g.sendline("reuseport -T -n %d -p %d -t 900 -c %d" % (n, port, count))
        g.expect(r"reuseport: ready n=%d" % n, 60, "reuseport's ready line")
        load = round(os.getloadavg()[0], 2)
        r = b.rig.ns_run([sys.executable, str(ACCEPTLOAD), "--port", str(port),
                          "--count", str(count), "--conc", str(self.ACCEPT_CONC),
                          "--deadline", "840"], timeout=900)
        res = json.loads(r.stdout.strip().splitlines()[-1])
        out = g.wait_prompt(120, "reuseport's report")
        m = re.search(r"^reuseport: tcp accepted=([\d,]+)$", out, re.M)
        if not m:
            raise RuntimeError("no accepted line:\n" + out[-800:])
        z = b.nr.sysctl_tree(g, "net.inet.tcp")
        if res["ok"] != count:
            raise RuntimeError("%d listeners: %d of %d connections served: %s"
                               % (n, res["ok"], count, res["errors"]))
        res.update(listeners=n, load=load, accepted=[int(x) for x in m.group(1).split(",")],
                   guest={k.split("net.inet.tcp.")[1]: z.get(k, 0) - a.get(k, 0)
                          for k in self.ACCEPT_COUNTERS})
        return res

    def _listener_rounds(self, g, port):
        """ACCEPT_ROUNDS rounds of 1 and 2 listeners, alternating 1,2 /
        2,1, every run kept: (figures, next free port)."""
        runs = {1: [], 2: []}
        for r in range(self.ACCEPT_ROUNDS):
            for n in ((1, 2) if r % 2 == 0 else (2, 1)):
                runs[n].append(self._accepts(g, n, self.ACCEPT_CONNS, port))
                port += 1
        r1 = sum(x["rate"] for x in runs[1]) / len(runs[1])
        r2 = sum(x["rate"] for x in runs[2]) / len(runs[2])
        return {"rate_1": round(r1, 1), "rate_2": round(r2, 1),
                "ratio_2_1": round(r2 / r1, 3),
                "rounds_2_faster": "%d/%d" % (sum(1 for a, b in zip(runs[2], runs[1])
                                                  if a["rate"] > b["rate"]), len(runs[1])),
                "runs_1": runs[1], "runs_2": runs[2]}, port

    def reuseport(self):
        """Accepts/s with 2 listeners against 1 (CPUS as the bench's,
        default 2), ACCEPT_ROUNDS rounds in one boot; the same with
        kern.sched_wake_affine=0 (a woken listener stays on its own hart
        instead of joining the netisr that completed the handshake: one
        listener then serves about half as fast); then the share over 4
        listeners of SHARE_CONNS connections."""
        g = self.b.guest()
        out, port = self._listener_rounds(g, 9201)
        g.run("sysctl kern.sched_wake_affine=0")
        try:
            out["noaffine"], port = self._listener_rounds(g, port)
        finally:
            g.run("sysctl kern.sched_wake_affine=1")
        share = self._accepts(g, 4, self.SHARE_CONNS, port)
        c4 = share["accepted"]
        out.update({"conns": self.ACCEPT_CONNS, "conc": self.ACCEPT_CONC,
                    "command": "reuseport -T -n N -c %d; bench/acceptload.py --count %d "
                               "--conc %d" % (self.ACCEPT_CONNS, self.ACCEPT_CONNS,
                                              self.ACCEPT_CONC),
                    "share_conns": self.SHARE_CONNS, "share_run": share,
                    "counts_4": c4, "share_max_min_4": round(max(c4) / max(1, min(c4)), 3)})
        return out


def _runs(d):
    return "on %s / off %s Mbit/s, on faster %s" % (
        ",".join("%.0f" % r["mbps"] for r in d["runs_on"]),
        ",".join("%.0f" % r["mbps"] for r in d["runs_off"]), d["rounds_on_faster"])


def _icount_row(row, label, i):
    if i:
        vals = [i[k]["insn_per_byte"] for k in ("on", "off", "on_plain") if k in i]
        row(label, ", ".join("%s" % v for v in vals),
            "CPUS=1, -icount shift=0: " + i["command"].split("& ", 1)[-1])


def table_rows(f, row, err):
    row("9. TCP mechanisms (switch on vs off, one boot)", "", "")
    if not err("   async_rcvd, lo0 -P 4", "mech_rcvd"):
        names = (("cpus2", "CPUS=2, 64K reads"), ("cpus4", "CPUS=4, 64K reads"),
                 ("cpus2_every_read", "CPUS=2, 64K reads, rcvd_every_read=1"),
                 ("cpus4_every_read", "CPUS=4, 64K reads, rcvd_every_read=1"),
                 ("cpus2_read4k", "CPUS=2, 4K reads"), ("cpus4_read4k", "CPUS=4, 4K reads"),
                 ("cpus2_read4k_noaffine", "CPUS=2, 4K reads, no wake-affine"))
        for c, label in names:
            d = f["mech_rcvd"].get(c)
            if d:
                row("   async_rcvd on/off, %s" % label, "%s" % d["ratio"], _runs(d))
        d = f["mech_rcvd"].get("cpus2_read4k_lazy")
        if d:
            row("   async_rcvd_lazy on/off, CPUS=2, 4K reads", "%s" % d["ratio"], _runs(d))
        for k, label in (("icount", "64K reads"), ("icount_read4k", "4K reads"),
                         ("icount_every_read", "64K reads, rcvd_every_read=1")):
            _icount_row(row, "   async_rcvd insn/byte on, off, plain send: %s" % label,
                        f["mech_rcvd"].get(k))
    if not err("   soreceive_stream, lo0 -P 2", "mech_srs"):
        for c, label in (("cpus2", "CPUS=2"), ("cpus2_noaffine", "CPUS=2, no wake-affine")):
            d = f["mech_srs"].get(c)
            if d:
                row("   soreceive_stream on/off, %s" % label, "%s" % d["ratio"], _runs(d))
        _icount_row(row, "   soreceive_stream insn/byte on, off",
                    f["mech_srs"].get("icount"))
    if not err("   reuseport accepts", "mech_reuseport"):
        d = f["mech_reuseport"]
        for label, x in (("", d), (", no wake-affine", d.get("noaffine"))):
            if x:
                _accept_row(row, "   reuseport accepts/s 2 vs 1 listeners" + label, d, x)
        row("   reuseport share max/min, 4 listeners", "%s" % d["share_max_min_4"],
            "accepted %s of %d, %.0f conn/s" % (d["counts_4"], d["share_conns"],
                                               d["share_run"]["rate"]))


def _accept_row(row, label, d, x):
    runs = x["runs_1"] + x["runs_2"]
    lost = sum(r["linux"]["TCPSynRetrans"] + r["guest"]["listendrop"] for r in runs)
    row(label, "%s" % x["ratio_2_1"],
        "2: %s / 1: %s conn/s, 2 faster %s; %d conns, %d open at a time, "
        "SYNs lost %d, load %.1f-%.1f" % (
            ",".join("%.0f" % r["rate"] for r in x["runs_2"]),
            ",".join("%.0f" % r["rate"] for r in x["runs_1"]),
            x["rounds_2_faster"], d["conns"], d["conc"], lost,
            min(r["load"] for r in runs), max(r["load"] for r in runs)))
