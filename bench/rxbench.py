"""bench/rxbench.py: the e1000 receive-cost, raw transmit and e1000
send-queue figures of `make bench` (used by bench/run.py).

Problem: the raw receive rate (run.py's blast figure) moves with the load
of the host, and it counts frames the driver took off the ring even when
the stack dropped them later.  What the receive path costs, and whether
the ifq serializer pays off on a real driver with several senders, need
figures that say more.

Figures:
  blast1514   the raw receive rate with full-size frames: run.py's blast
              (Linux sends flat out on the tap from an AF_PACKET socket,
              the guest counts dev.e1000.0.hw.gprc) with 1514-byte frames
              instead of 60-byte ones.  A TCP segment of 1460 bytes rides
              in a 1514-byte frame, so this is the frame rate the TCP
              rows' ratio is judged by (bench/tcpbench.py says why); the
              small-frame rate stays beside it.
  rx_icount   guest instructions per received frame.  A CPUS=1 guest
              under `-icount shift=0` (one instruction = 1 ns of the
              guest's clock) on the tap; Linux sends 60-byte and
              1000-byte frames of an ethertype nothing handles, paced at
              3,000/s and at 20,000/s, for secs each.  Two numbers per
              run: the RX interrupt path (dev.e1000.0.rx_time_us: the time
              spent draining the ring, so its instructions) per frame the
              driver took, and the whole guest ((elapsed - kern.idle_us),
              minus the same for a run of the same length with no frames)
              per frame.  Also how many frames reached ether_input
              (net.link.ether.unknown_type) and how many the netisr queue
              dropped.
  txblast     the guest's raw transmit rate: `sysctl dev.e1000.0.txblast=MS`
              sends frames of an ethertype nothing handles flat out through
              the send queue and the driver for the run's secs (60 and
              1514 bytes); frames/s from the guest's own count and clock,
              and the tap's rx_packets as Linux saw them.  The TCP rows
              put guest -> Linux goodput beside it too.
  ifq_e1000   ICMP echo requests to Linux from 1, 2 and 4 processes
              (netbench icmp ... 10.0.2.2) with the serializer on and
              with the plain lock (net.ifq.serializer=0), on the run's
              guest (CPUS=--cpus): packets/s and the e1000 send queue's
              counters (how often a sender found the start routine busy
              and left its packets to the running owner).

The Linux end (script half, run in the namespace):
  ns-pace --iface T --rate R --secs S --size N   N-byte frames to the
        guest's MAC at R frames/s (bursts of 10); prints sent, secs
"""

import json
import socket
import struct
import time

ETHERTYPE_BENCH = 0x88B5
GUEST_MAC = "52:54:00:12:34:56"
PEER = "10.0.2.2"
RX_RUNS = ((60, 3000), (1000, 3000), (60, 20000), (1000, 20000))


# ---- script half -----------------------------------------------------------

def ns_pace(a):
    with open("/sys/class/net/%s/address" % a.iface) as f:
        src = bytes.fromhex(f.read().strip().replace(":", ""))
    dst = bytes.fromhex(GUEST_MAC.replace(":", ""))
    frame = dst + src + struct.pack("!H", ETHERTYPE_BENCH) + bytes(a.size - 14)
    sent = 0
    t0 = time.monotonic()
    end = t0 + a.secs
    if a.rate > 0:
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        s.bind((a.iface, 0))
        while True:
            now = time.monotonic()
            if now >= end:
                break
            while sent < int((now - t0) * a.rate):
                try:
                    s.send(frame)
                except OSError:
                    pass
                sent += 1
            time.sleep(10.0 / a.rate)
    else:
        time.sleep(a.secs)
    print(json.dumps({"sent": sent, "secs": time.monotonic() - t0}))


def ns_main(argv):
    import argparse
    p = argparse.ArgumentParser()
    p.add_argument("--iface", required=True)
    p.add_argument("--rate", type=float, default=3000)
    p.add_argument("--secs", type=float, default=4)
    p.add_argument("--size", type=int, default=60)
    ns_pace(p.parse_args(argv))


# ---- the figures (run on the host) -----------------------------------------

class RxBench:
    def __init__(self, bench):
        self.b = bench

    def _counters(self, g):
        return self.b.nr.sysctl_tree(
            g, "dev.e1000.0 kern.uptime_ms kern.idle_us net.link.ether "
               "net.netisr")

    def _one(self, g, size, rate, secs):
        b = self.b
        c0 = self._counters(g)
        h = b.ns_script(["ns-pace", "--iface", b.rig.tap, "--rate", str(rate),
                         "--secs", str(secs), "--size", str(size)],
                        timeout=secs + 120)
        prev = None
        for _ in range(10):             # let the netisr drain its queue
            c1 = self._counters(g)
            if prev is not None and c1.get("dev.e1000.0.hw.gprc") == prev:
                break
            prev = c1.get("dev.e1000.0.hw.gprc")
            time.sleep(0.5)

        def d(k):
            return c1.get(k, 0) - c0.get(k, 0)
        busy_ns = d("kern.uptime_ms") * 1e6 - d("kern.idle_us") * 1e3
        return {"size": size, "rate": rate, "host_sent": h["sent"],
                "frames": d("dev.e1000.0.rx_packets"),
                "delivered": d("net.link.ether.unknown_type"),
                "qdrops": sum(c1[k] - c0.get(k, 0) for k in c1
                              if k.endswith(".qdrops")),
                "intr": d("dev.e1000.0.intr"),
                "rx_us": d("dev.e1000.0.rx_time_us"),
                "busy_insns": busy_ns}

    def blast1514(self):
        """run.py's raw receive blast with 1514-byte frames."""
        return self.b.blast(size=1514)

    def icount(self):
        b = self.b
        secs = 4
        fs = b.nk.copy_fsimg(b.work, "fs-rxicount.img")
        argv = b.rig.ns_argv(b.nk.qemu_argv(fs, 1, b.rig.netdev(),
                                            ["-icount", "shift=0"] + b.qargs))
        g = b.nk.Guest(fs, cpus=1, argv=argv, log=b.results / "console.tmp",
                       name="bench-rxicount")
        res = {"command": "qemu ... -smp 1 -icount shift=0 (tap); Linux "
                          "sends frames at the rate for %d s" % secs}
        try:
            g.boot(timeout=300)
            g.run("sysctl vm.junk_fill=0")
            idle = self._one(g, 60, 0, secs)
            res["idle_busy_insns"] = idle["busy_insns"]
            for size, rate in RX_RUNS:
                r = self._one(g, size, rate, secs)
                n = r["frames"]
                r["rx_insn_per_frame"] = round(r["rx_us"] * 1000 / n) if n else None
                r["guest_insn_per_frame"] = round(
                    (r["busy_insns"] - idle["busy_insns"]) / n) if n else None
                res["%d_%d" % (size, rate)] = r
        finally:
            g.close()
        return res

    def txblast(self):
        """The guest's raw transmit rate: dev.e1000.0.txblast sends frames
        flat out through the send queue and the driver for secs, 60-byte
        ones and 1514-byte ones (a full TCP segment's frame); the tap's
        rx_packets in the namespace counts what reached Linux."""
        b = self.b
        g = b.guest()
        ms = int(b.secs * 1000)
        res = {}
        for size in (60, 1514):
            b.run("sysctl dev.e1000.0.txblast_size=%d" % size)
            before = b.rig.ns_run(["cat", "/sys/class/net/%s/statistics/rx_packets"
                                   % b.rig.tap]).stdout
            g.run("sysctl dev.e1000.0.txblast=%d" % ms, timeout=b.secs * 10 + 60)
            time.sleep(0.3)
            after = b.rig.ns_run(["cat", "/sys/class/net/%s/statistics/rx_packets"
                                  % b.rig.tap]).stdout
            c = b.nr.sysctl_tree(g, "dev.e1000.0")
            fr = c["dev.e1000.0.txblast_frames"]
            us = c["dev.e1000.0.txblast_us"]
            res["s%d" % size] = {"frames": fr, "us": us,
                                 "fps": round(fr * 1e6 / us) if us else None,
                                 "tap_rx": int(after) - int(before)}
        b.run("sysctl dev.e1000.0.txblast_size=60")
        return res

    def ifq_e1000(self):
        b = self.b
        ms = int(b.secs * 1000)
        pre = "net.ifq.e1000.0"
        keys = [pre + "." + k for k in ("starts", "runs", "contended",
                                        "restarts", "dropped")]
        res = {}
        for mode, P in ((1, 1), (1, 2), (0, 2), (1, 4), (0, 4)):
            b.run("sysctl net.ifq.serializer=%d" % mode)
            c0 = b.counters(pre)
            out = b.run("netbench icmp -d %d -P %d %s" % (ms, P, PEER),
                        timeout=b.secs * 10 + 60)
            c1 = b.counters(pre)
            nb = b.netbench(out, "send")
            row = {"pps": nb["pps"], "sent": nb["ok"], "errors": nb["errors"]}
            row.update(b.delta(c0, c1, keys))
            res["%s_P%d" % ("serializer" if mode else "plain", P)] = row
        b.run("sysctl net.ifq.serializer=1")
        return res


def blast_rows(f, row, err):
    """The full-size receive rate, under figure 2 of run.py's table."""
    if "blast1514" not in f:
        return
    if not err("   received by guest, 1514 B (gprc)", "blast1514"):
        b = f["blast1514"]
        row("   received by guest, 1514 B (gprc)", "%d" % b["recv_fps"],
            "host sent %d/s, %d dropped at the tap; loss %s%%, mpc %d, rnbc %d"
            % (b["sent_fps"], b["tap_dropped"], b["loss_pct"], b["mpc"],
               b["rnbc"]))


def table_rows(f, row, err):
    """Rows for run.py's table."""
    row("7. e1000 receive cost (guest instructions per frame)", "", "")
    if not err("   (CPUS=1, -icount shift=0)", "rx_icount"):
        d = f["rx_icount"]
        for size, rate in RX_RUNS:
            r = d.get("%d_%d" % (size, rate))
            if not r:
                continue
            row("   %d B at %d/s: RX path / guest" % (size, rate),
                "%s / %s" % (r["rx_insn_per_frame"], r["guest_insn_per_frame"]),
                "%d frames, %d reached ether_input, %d netisr drops, %d intr"
                % (r["frames"], r["delivered"], r["qdrops"], r["intr"]))
    row("8. ifq on e1000, echo requests to Linux (pkt/s)", "", "")
    if not err("   e1000", "ifq_e1000"):
        for k, v in sorted(f["ifq_e1000"].items()):
            if not isinstance(v, dict):
                continue
            row("   %s, %s sender%s" % (k.split("_")[0], k.split("_P")[1],
                                       "" if k.endswith("P1") else "s"),
                "%d" % v["pps"],
                "starts %d runs %d contended %d restarts %d drops %d"
                % (v["starts"], v["runs"], v["contended"], v["restarts"],
                   v["dropped"] + v["errors"]))
