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
  e1000     `netbench rxcount -n N` while the host blasts minimum-size
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
            net.link.lo0.hwassist 1 and 0.  Busy = uptime minus kern.idle_us
            (sleep=off counts idle time in the clock, not as work).
On a CPUS=1 guest: with 2 harts, QEMU 7.2 under -icount does not reach
the shell prompt today (it stops after "fs: ..." or "init: starting sh"),
so these figures are for one hart; CPUS_ICOUNT below is where to add 2
once it boots. Two runs agree to a fraction of a percent on lo0 (the
exchanges are deterministic under -icount); the e1000 figure depends on
how many frames each interrupt finds, so it moves a little more.
"""

import re
import time

import tcpbench

MSS = 1460
ICOUNT = ["-icount", "shift=0,sleep=off"]
N = 300
CPUS_ICOUNT = (1,)


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
            g.sendline("netbench rxcount -n %d -d 20000" % frames)
            g.expect(r"netbench: rxwait", 60, "rxcount ready")
            b.ns_script(["ns-blast", "--iface", b.rig.tap, "--secs", str(b.secs)],
                        timeout=b.secs + 120)
            out = g.wait_prompt(600, "rxcount end")
            r = b.netbench(out, "rxcount")
        finally:
            g.close()
        if r["frames"] <= 0:
            raise RuntimeError("no frames counted:\n" + out[-500:])
        busy = r["insns"] - r["idle_us"] * 1000 - rate * (r["us"] - r["idle_us"])
        return {"frames": r["frames"], "insns": r["insns"], "us": r["us"],
                "idle_us": r["idle_us"], "idle_insn_per_us": round(rate, 2),
                "insn_per_frame": round(busy / r["frames"])}

    def e1000(self):
        return {"cpus%d" % c: self.e1000_on(c) for c in CPUS_ICOUNT}

    # -- per TCP segment --

    def busy(self, g):
        """Guest instructions so far that were not idle: under -icount
        shift=0,sleep=off one ns of uptime is one instruction, and
        kern.idle_us is the time the hart sat in wfi."""
        t = self.b.nr.sysctl_tree(g, "kern.uptime_ms kern.idle_us")
        return t["kern.uptime_ms"] * 1e6 - t["kern.idle_us"] * 1e3

    def g2l(self, g, secs):
        b = self.b
        b.tcp_port += 1
        with tcpbench.LinuxSink(b, b.rig, b.tcp_port) as sink:
            x0 = self.busy(g)
            g.run("tcpstream -l %d -p %d 10.0.2.2" % (secs, b.tcp_port), timeout=600)
            x1 = self.busy(g)
            n = sink.result()["bytes"]
        return round((x1 - x0) * MSS / n) if n else None

    def l2g(self, g, secs):
        b = self.b
        b.tcp_port += 1
        tcpbench.start_server(g, "-p %d" % b.tcp_port, timeout=120)
        x0 = self.busy(g)
        r = b.ns_script(["ns-tcpsend", "--dst", "10.0.2.15", "--port", str(b.tcp_port),
                         "--secs", str(secs)], timeout=600)
        time.sleep(0.5)
        x1 = self.busy(g)
        return round((x1 - x0) * MSS / r["bytes"]) if r["bytes"] else None

    def tcp_e1000(self):
        """Busy guest instructions per MSS (1460 bytes) of TCP payload over
        the e1000, each direction, with Linux in the namespace as the other
        end (CPUS=1): everything the guest does for it -- segments, ACKs,
        interrupts, the copies to and from the user, the checksums. Sending
        also with the offloads switched off (dev.e1000.0.tso=0, then
        txcsum=0 too)."""
        g = self.guest(1, rig=True)
        secs = 2
        try:
            # Under -icount sleep=off the guest's clock jumps ahead
            # whenever it idles waiting for Linux, so a 200 ms RTO expires
            # after a fraction of that in real time: spurious
            # retransmissions would be counted as the cost of a segment.
            g.run("sysctl net.inet.tcp.rto_min_ms=60000")
            res = {"g2l": self.g2l(g, secs), "l2g": self.l2g(g, secs)}
            g.run("sysctl dev.e1000.0.tso=0")
            res["g2l_tso0"] = self.g2l(g, secs)
            g.run("sysctl dev.e1000.0.txcsum=0")
            res["g2l_offload0"] = self.g2l(g, secs)
        finally:
            g.close()
        return res

    def tcp_lo0(self):
        """Busy instructions per byte of a 2 s tcpstream over lo0 (CPUS=1),
        with lo0's checksum offload on and off (net.link.lo0.hwassist)."""
        g = self.guest(1)
        res = {}
        try:
            tcpbench.start_server(g, "", timeout=120)
            for hw in (1, 0):
                g.run("sysctl net.link.lo0.hwassist=%d" % hw)
                x0 = self.busy(g)
                t = tcpbench.total_line(g.run("tcpstream -l 2 127.0.0.1", timeout=600))
                x1 = self.busy(g)
                res["hwassist%d" % hw] = round((x1 - x0) / t["bytes"], 2) if t["bytes"] else None
        finally:
            g.close()
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
            "the receiver: segments in, ACKs out, copy to the reader")
    if not err("   TCP over lo0 per byte", "icount_tcplo"):
        d = f["icount_tcplo"]
        row("   TCP over lo0 per byte", "%s" % d["hwassist1"],
            "net.link.lo0.hwassist=0 (checksums computed): %s" % d["hwassist0"])
    if not err("   e1000 frame received", "icount_e1000"):
        d = f["icount_e1000"]
        row("   e1000 frame received",
            " / ".join("%d" % d[c]["insn_per_frame"] for c in sorted(d) if c.startswith("cpus")),
            "netbench rxcount -n 20000, host blasting; %s frames, base %s insn/us"
            % (" / ".join("%d" % d[c]["frames"] for c in sorted(d) if c.startswith("cpus")),
               " / ".join("%g" % d[c]["idle_insn_per_us"] for c in sorted(d) if c.startswith("cpus"))))
