"""bench/icount.py: instructions per operation, the figures of `make bench`
that do not move with the host's load (used by bench/run.py).

Problem: packets per second under QEMU's TCG on a shared 2-core host move
by tens of percent from run to run; a change that saves 5% is lost in the
noise. Instructions do not move.

How: the guest runs under `qemu -icount shift=0,sleep=off`, where the
RISC-V instret counter counts the guest's instructions exactly (all harts
together) and idle time costs none. `netbench` reads instret (insn_count(),
user/lib/clock.c) before and after the measured exchanges and prints the
instructions per exchange:
  icmp      `netbench rtt -n N`: one ICMP echo round trip over lo0 (ping's
            path: raw socket -> ip_output -> lo0 ifq -> netisr -> icmp_input
            -> reply -> raw socket), with net.ifq.serializer 1 and 0.
  udp       `netbench udprtt -n N`: one 32-byte UDP request/response over
            lo0 with an echo server process; with net.inet.udp.fast_demux
            1 and 0, net.ifq.serializer 0, and (two echo servers in a
            SO_REUSEPORT group) net.inet.udp.reuseport_ext 1 and 0.
  e1000     (the "host blasting" row; the steady e1000 rows are
            bench/rxbatch.py's, which choose the batch: this one's batch
            is whatever the host's pace made it, so it moves with the
            load) `netbench rxcount -n N` while the host blasts minimum-size
            frames of an unhandled ethertype at the guest's e1000 (the
            rig's namespace and tap; root only): instructions from the
            first frame to the Nth, minus the time the hart idled
            (kern.idle_us: under -icount sleep=off instret counts idle time
            too, the clock jumps over it) and minus the baseline of the same
            loop without traffic (timer ticks, the polling), per frame
            received.
  tcp       busy instructions per MSS of TCP payload over the e1000, each
            direction, Linux as the peer (bench/tcpbench.py's ns-tcpsink /
            ns-tcpsend), sending also with dev.e1000.0.tso=0 and with
            txcsum=0 as well; and per byte over lo0 with
            net.link.lo0.hwassist 1 and 0.  Busy = elapsed - idle as
            tcpstream reads them in the guest around the transfer (the
            clock and kern.idle_ns: sleep=off counts idle time in the
            clock, not as work), minus the clock tick's share (tick_rate:
            busy ns per elapsed ns of `netbench idle`, x elapsed).  Until
            December 2026 these read kern.uptime_ms / kern.idle_us from the
            host before and after the command, which also counted the
            shell, the exec, and the ticks of every ms the guest waited at
            the prompt or for Linux; `raw_per` in the JSON detail is the
            figure without the tick correction.
On a CPUS=1 guest: with 2 harts, QEMU 7.2 under -icount does not reach
the shell prompt today (it stops after "fs: ..." or "init: starting sh"),
so these figures are for one hart; CPUS_ICOUNT below is where to add 2
once it boots. Two runs agree to a fraction of a percent on lo0 (the
exchanges are deterministic under -icount); the e1000 blast figure
depends on how many frames each interrupt finds, so it moves with the
host's load (5-13% between runs; bench/rxbatch.py fixes the batch).
"""

import re
import time

import tcpbench

MSS = 1460
ICOUNT = ["-icount", "shift=0,sleep=off"]
N = 300
CPUS_ICOUNT = (1,)
# Guest -> Linux runs send this many bytes (not for a time: under
# sleep=off the guest clock races through its waits, so 2 s of it carry
# anywhere from 0.2 to 46 MB, and the connection's fixed cost with them).
G2L_BYTES = 16 << 20
GUEST = "10.0.2.15"


def tick_rate(b, g):
    """Busy guest ns per ns of elapsed guest time while the guest has
    nothing to do (`netbench idle`: one sleep): the HZ clock tick and
    what it runs. A run that waits for a peer ticks through its waits
    too, and how long it waits moves with the host's load; this rate x
    the run's elapsed time is taken off its busy time."""
    r = b.netbench(g.run("netbench idle -d 1000", timeout=600), "idle")
    return r["busy_ns"] / r["elapsed_ns"] if r["elapsed_ns"] else 0.0


def cost(line, nbytes, per, rate):
    """Instructions per `per` bytes from a tcpstream line carrying
    elapsed_ns and idle_ns (read in the guest around the transfer):
    busy = elapsed - idle (one ns is one instruction under -icount
    shift=0 on one hart), minus the tick rate x elapsed. Also the
    figure without the tick correction (raw), for the record."""
    m = re.search(r"elapsed_ns=(\d+) idle_ns=(\d+)", line)
    if not m or not nbytes:
        return None, {}
    el, idle = int(m.group(1)), int(m.group(2))
    busy = el - idle
    net = busy - rate * el
    return round(net * per / nbytes, 3 if per == 1 else 0), {
        "bytes": nbytes, "elapsed_ms": round(el / 1e6, 1),
        "idle_ms": round(idle / 1e6, 1), "busy_minsn": round(busy / 1e6, 2),
        "ticks_minsn": round(rate * el / 1e6, 2),
        "raw_per": round(busy * per / nbytes, 2)}


class IcountBench:
    def __init__(self, bench):
        self.b = bench

    def guest(self, cpus, rig=False):
        b = self.b
        fs = b.nk.copy_fsimg(b.work, "fs-icount-%d%s.img" % (cpus, "-rig" if rig else ""))
        if rig:
            argv = b.rig.ns_argv(b.nk.qemu_argv(fs, cpus, b.rig.netdev(),
                                                ICOUNT + b.qargs))
            g = b.nk.Guest(fs, cpus=cpus, argv=argv, log=b.results / "console.tmp",
                           name="bench-icount-rig")
        else:
            g = b.nk.Guest(fs, cpus=cpus, qemu_args=ICOUNT + b.qargs,
                           log=b.results / "console.tmp", name="bench-icount")
        try:
            g.boot(timeout=300)
            g.run("sysctl vm.junk_fill=0")
        except BaseException:
            g.close()
            raise
        return g

    def per(self, g, cmd, what):
        nb = self.b.netbench(g.run(cmd, timeout=600), what)
        if nb["lost"]:
            raise RuntimeError("%s: %d of %d lost" % (cmd, nb["lost"], nb["n"]))
        return nb["insn_per"]

    def lo0_on(self, cpus):
        g = self.guest(cpus)
        res = {}
        try:
            for ser in (1, 0):
                g.run("sysctl net.ifq.serializer=%d" % ser)
                res["icmp_ser%d" % ser] = self.per(g, "netbench rtt -n %d" % N, "rtt")
            g.run("sysctl net.ifq.serializer=1")
            for fd in (1, 0):
                g.run("sysctl net.inet.udp.fast_demux=%d" % fd)
                res["udp_fd%d" % fd] = self.per(g, "netbench udprtt -n %d -p 9100" % N,
                                                "udprtt")
            g.run("sysctl net.inet.udp.fast_demux=1")
            g.run("sysctl net.ifq.serializer=0")
            res["udp_ser0"] = self.per(g, "netbench udprtt -n %d -p 9101" % N, "udprtt")
            g.run("sysctl net.ifq.serializer=1")
            for ext in (1, 0):
                g.run("sysctl net.inet.udp.reuseport_ext=%d" % ext)
                res["udp_rp2_ext%d" % ext] = self.per(
                    g, "netbench udprtt -n %d -k 2 -p %d" % (N, 9102 + ext), "udprtt")
            g.run("sysctl net.inet.udp.reuseport_ext=1")
        finally:
            g.close()
        return res

    def lo0(self):
        return {"cpus%d" % c: self.lo0_on(c) for c in CPUS_ICOUNT}

    def e1000_on(self, cpus, frames=20000):
        b = self.b
        g = self.guest(cpus, rig=True)
        try:
            base = b.netbench(g.run("netbench rxcount -d 2000", timeout=600), "rxcount")
            # Busy instructions per us with no traffic: timer ticks and the
            # polling loop; instret minus the idle time (which -icount
            # sleep=off skips but still counts).
            rate = (base["insns"] - base["idle_us"] * 1000) / base["us"]
            i0 = b.nr.sysctl_tree(g, "dev.e1000.0.intr").get("dev.e1000.0.intr", 0)
            g.sendline("netbench rxcount -n %d -d 20000" % frames)
            g.expect(r"netbench: rxwait", 60, "rxcount ready")
            b.ns_script(["ns-blast", "--iface", b.rig.tap, "--secs", str(b.secs)],
                        timeout=b.secs + 120)
            out = g.wait_prompt(600, "rxcount end")
            r = b.netbench(out, "rxcount")
            r["intr"] = b.nr.sysctl_tree(g, "dev.e1000.0.intr").get("dev.e1000.0.intr", 0) - i0
        finally:
            g.close()
        if r["frames"] <= 0:
            raise RuntimeError("no frames counted:\n" + out[-500:])
        # The tick and the polling loop run once a ms of elapsed time,
        # idle or not: their share is rate x elapsed.
        busy = r["insns"] - r["idle_us"] * 1000 - rate * r["us"]
        return {"frames": r["frames"], "insns": r["insns"], "us": r["us"],
                "idle_us": r["idle_us"], "idle_insn_per_us": round(rate, 2),
                "insn_per_frame": round(busy / r["frames"]),
                # How the frames were batched, which the figure moves with
                # (the blaster's pace against the guest's): interrupts per
                # frame over the whole rxcount command.
                "intr_per_frame": round(r["intr"] / r["frames"], 4)}

    def e1000(self):
        return {"cpus%d" % c: self.e1000_on(c) for c in CPUS_ICOUNT}

    # -- per TCP segment --

    def counters(self, g):
        return self.b.nr.sysctl_tree(g, "net.inet.tcp dev.e1000.0")

    def per_mss(self, c0, c1, nbytes):
        """What the guest's counters did per MSS of payload: how the run
        was batched (ACKs per segment, interrupts per segment move with
        the peer's pace, and the cost with them)."""
        keys = ("net.inet.tcp.sndtotal", "net.inet.tcp.rcvtotal",
                "net.inet.tcp.rcvackpack", "dev.e1000.0.intr", "dev.e1000.0.interrupts",
                "dev.e1000.0.tx_packets", "dev.e1000.0.rx_packets",
                "net.inet.tcp.lro_mergedsegs", "net.inet.tcp.lro_merged")
        return {k.rsplit(".", 1)[-1]: round((c1[k] - c0[k]) * MSS / nbytes, 3)
                for k in keys if k in c0 and k in c1 and nbytes}

    def g2l(self, g, secs, rate, tag):
        b = self.b
        b.tcp_port += 1
        c0 = self.counters(g)
        with tcpbench.LinuxSink(b, b.rig, b.tcp_port) as sink:
            out = g.run("tcpstream -l 60 -n %d -p %d 10.0.2.2" % (G2L_BYTES, b.tcp_port),
                        timeout=600)
            n = sink.result()["bytes"]
        m = re.search(r"^tcpstream: total=.*$", out, re.M)
        v, self.detail[tag] = cost(m.group(0) if m else "", n, MSS, rate)
        self.detail[tag]["per_mss"] = self.per_mss(c0, self.counters(g), n)
        return v

    def served(self, g):
        return re.findall(r"^tcpstream: served recv .*$", g.read_file("/tcps.txt"), re.M)

    def l2g(self, g, secs, rate, tag="l2g"):
        b = self.b
        b.tcp_port += 1
        tcpbench.start_server(g, "-p %d" % b.tcp_port, timeout=120)
        c0 = self.counters(g)
        r = b.ns_script(["ns-tcpsend", "--dst", "10.0.2.15", "--port", str(b.tcp_port),
                         "--secs", str(secs)], timeout=600)
        lines = []
        for _ in range(50):          # the server prints once it has closed
            lines = self.served(g)
            if lines:
                break
            time.sleep(0.2)
        v, self.detail[tag] = cost(lines[-1] if lines else "", r["bytes"], MSS, rate)
        self.detail[tag]["per_mss"] = self.per_mss(c0, self.counters(g), r["bytes"])
        return v

    def tcp_e1000(self):
        """Busy guest instructions per MSS (1460 bytes) of TCP payload over
        the e1000, each direction, with Linux in the namespace as the other
        end (CPUS=1): everything the guest does for it -- segments, ACKs,
        interrupts, the copies to and from the user, the checksums. Sending
        also with the offloads switched off (dev.e1000.0.tso=0, then
        txcsum=0 too). Busy = elapsed - kern.idle_ns, read by tcpstream in
        the guest around the transfer, minus the clock tick's share (see
        tick_rate)."""
        g = self.guest(1, rig=True)
        secs = 2
        self.detail = {}
        # Linux ACKs every segment it receives from the guest (quickack on
        # the route to it) instead of when its delayed-ACK logic and its
        # load say: one ACK costs the guest ~7,700 instructions, and
        # without this Linux sent 0.3 to 0.8 per MSS from run to run.
        quick = ["ip", "route", "replace", GUEST + "/32", "dev", self.b.rig.tap, "quickack", "1"]
        try:
            self.b.rig.ns_run(quick)
            # Under -icount sleep=off the guest's clock jumps ahead
            # whenever it idles waiting for Linux, so a 200 ms RTO expires
            # after a fraction of that in real time: spurious
            # retransmissions would be counted as the cost of a segment.
            g.run("sysctl net.inet.tcp.rto_min_ms=60000")
            rate = tick_rate(self.b, g)
            res = {"g2l": self.g2l(g, secs, rate, "g2l"), "l2g": self.l2g(g, secs, rate)}
            # The receiver without coalescing (net/tcp_lro.c); "l2g" ran
            # with the kernel's default.
            g.run("sysctl net.inet.tcp.lro=0")
            res["l2g_lro0"] = self.l2g(g, secs, rate, "l2g_lro0")
            g.run("sysctl net.inet.tcp.lro=1")
            g.run("sysctl dev.e1000.0.tso=0")
            res["g2l_tso0"] = self.g2l(g, secs, rate, "g2l_tso0")
            g.run("sysctl dev.e1000.0.txcsum=0")
            res["g2l_offload0"] = self.g2l(g, secs, rate, "g2l_offload0")
        finally:
            g.close()
            self.b.rig.ns_run(["ip", "route", "del", GUEST + "/32"], check=False)
        res["tick_insn_per_ms"] = round(rate * 1e6)
        res["detail"] = self.detail
        return res

    def tcp_lo0(self):
        """Busy instructions per byte of a 2 s tcpstream over lo0 (CPUS=1),
        with lo0's checksum offload on and off (net.link.lo0.hwassist)."""
        g = self.guest(1)
        res = {}
        self.detail = {}
        try:
            tcpbench.start_server(g, "", timeout=120)
            rate = tick_rate(self.b, g)
            for hw in (1, 0):
                g.run("sysctl net.link.lo0.hwassist=%d" % hw)
                out = g.run("tcpstream -l 2 127.0.0.1", timeout=600)
                t = tcpbench.total_line(out)
                m = re.search(r"^tcpstream: total=.*$", out, re.M)
                res["hwassist%d" % hw], self.detail["hwassist%d" % hw] = cost(
                    m.group(0), t["bytes"], 1, rate)
        finally:
            g.close()
        res["tick_insn_per_ms"] = round(rate * 1e6)
        res["detail"] = self.detail
        return res


def table_rows(f, row, err):
    """Rows for run.py's table."""
    row("6. instructions per operation (-icount shift=0, CPUS=1)", "", "")
    names = [("icmp_ser1", "lo0 ICMP echo round trip", ""),
             ("icmp_ser0", "   same, net.ifq.serializer=0", ""),
             ("udp_fd1", "lo0 UDP request/response", ""),
             ("udp_fd0", "   same, net.inet.udp.fast_demux=0", ""),
             ("udp_ser0", "   same, net.ifq.serializer=0", ""),
             ("udp_rp2_ext1", "   2 servers in a reuseport group", ""),
             ("udp_rp2_ext0", "   same, net.inet.udp.reuseport_ext=0", "")]
    if not err("   lo0", "icount_lo0"):
        d = f["icount_lo0"]
        for k, name, _ in names:
            row("   " + name, " / ".join("%d" % d[c][k] for c in sorted(d) if c.startswith("cpus")),
                "netbench %s -n %d" % ("rtt" if k.startswith("icmp") else "udprtt", N))
    if not err("   TCP over e1000 per 1460 B", "icount_tcp"):
        d = f["icount_tcp"]
        row("   TCP per 1460 B, guest -> Linux", "%s" % d["g2l"],
            "TSO off %s, checksum offload off too %s (dev.e1000.0.tso/txcsum)"
            % (d["g2l_tso0"], d["g2l_offload0"]))
        row("   TCP per 1460 B, Linux -> guest", "%s" % d["l2g"],
            "the receiver: segments in, ACKs out, copy to the reader; "
            "net.inet.tcp.lro=0: %s" % d.get("l2g_lro0", "-"))
    if not err("   TCP over lo0 per byte", "icount_tcplo"):
        d = f["icount_tcplo"]
        row("   TCP over lo0 per byte", "%s" % d["hwassist1"],
            "net.link.lo0.hwassist=0 (checksums computed): %s" % d["hwassist0"])
    if not err("   e1000 frame received", "icount_e1000"):
        d = f["icount_e1000"]
        row("   e1000 frame received (host blasting)",
            " / ".join("%d" % d[c]["insn_per_frame"] for c in sorted(d) if c.startswith("cpus")),
            "netbench rxcount -n 20000, host blasting; %s frames, base %s insn/us"
            % (" / ".join("%d" % d[c]["frames"] for c in sorted(d) if c.startswith("cpus")),
               " / ".join("%g" % d[c]["idle_insn_per_us"] for c in sorted(d) if c.startswith("cpus"))))
