"""bench/basefigs.py: the first figures of `make bench` (bench/run.py):
1. ping RTT (e1000 both ways, lo0), 2. the e1000's raw receive rate,
3. the ifq serializer against a plain lock on lo0, 4. UDP receive rates
(lo0 and Linux -> guest, fast demux on and off), and the lo0 figures again
with CPUS=1 for context.  BaseFigures is a part of bench/run.py's Bench
(it uses its guest, rig, counters, netbench, delta); table_rows adds their
rows to the report.  bench/results/README.md explains every figure.
"""

import re
import statistics
import time

from nsside import GUEST_IP
import rxbench                 # (bench/rxbench.py: the full-frame receive rate row)


class BaseFigures:
    """Figures 1-4 and CPUS=1; mixed into bench/run.py's Bench."""

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

    def blast(self, size=60):
        keys = ["dev.e1000.0.hw.gprc", "dev.e1000.0.rx_packets",
                "dev.e1000.0.hw.mpc", "dev.e1000.0.hw.rnbc",
                "dev.e1000.0.rx_drops", "dev.e1000.0.rx_overruns",
                "dev.e1000.0.intr"]
        b = self.counters("dev.e1000.0")
        b.update(self.counters("net.link.ether"))
        r = self.ns_script(["ns-blast", "--iface", self.rig.tap, "--secs",
                            str(self.secs), "--size", str(size)],
                           timeout=self.secs + 120)
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
        return {"size": size, "secs": round(secs, 2), "host_sent": r["sent"],
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
        g = self.nk.Guest(fs, cpus=1, log=self.results / "console.tmp",
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


def table_rows(f, meta, row, err):
    """The report's rows of figures 1-4 (f: the figures, meta: the run's)."""
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
    rxbench.blast_rows(f, row, err)
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
    udp = meta.get("udp")
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
