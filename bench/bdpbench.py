"""bench/bdpbench.py: the bandwidth-delay-product curve of `make bench`.

Problem: a receiver never has more than its window in flight towards it,
so over a path of round-trip time RTT its goodput is at most
window / RTT, and at most what the link carries: goodput ~
min(link, SO_RCVBUF / RTT).  Before RFC 7323 the window stopped at 64 KB
whatever SO_RCVBUF said; with window scaling (and receive autotuning for
sockets that set no SO_RCVBUF) the curve should follow the prediction up
to the link.

Idea: a guest of its own behind the seeded relay (tests/relay.py) in a
namespace of its own (tests/netrig.NetRig), the relay adding 10 ms each
way.  First the two numbers of the prediction, measured in this run:
  rtt   median of 20 ICMP echoes from Linux through the relay (ns-ping);
  link  goodput Linux -> guest with SO_RCVBUF = 1 MB and no added delay
        (the relay re-configured to 0 ms), i.e. what the e1000 path
        carries when the window is not the limit; measured before and
        after the curve, the larger one counts (the host's load moves).
Then, with the delay back, goodput Linux -> guest (tcpstream -s -b N in
the guest, bench/tcpbench.py's ns-tcpsend as the Linux end) for each
SO_RCVBUF N in 16K .. 1M, and once without -b (autotuned; its row also
reports the buffer growths, net.inet.tcp.rcvbufgrow).  Each row puts the
measured goodput beside min(link, N / rtt), and counts the segments the
guest queued out of order (net.inet.tcp.rcvoopack): a large window lets
Linux send bursts that overflow a queue on the way (the e1000's receive
ring when the guest is slow), and the losses cost goodput the simple
prediction does not know about.

Output: rows in run.py's table, bench/results/bdp.txt (the table alone)
and bench/results/bdp.svg (both curves, log-2 axis of SO_RCVBUF; the SVG
is written here, no plotting library).  Measured, never asserted.
"""

import json
import os
import re
import statistics
import sys
import time

from tcpbench import GUEST, RelayGuest, start_server, total_line

SIZES = [16 << 10, 32 << 10, 64 << 10, 128 << 10, 256 << 10, 512 << 10,
         1 << 20]
DELAY_MS = 10                       # each way: 20 ms added to the RTT
LINK_BUF = 1 << 20


def kb(n):
    return "%dK" % (n >> 10) if n < (1 << 20) else "%dM" % (n >> 20)


class BdpBench(RelayGuest):
    def __init__(self, bench):
        self.b = bench
        self.rig = None
        self.g = None
        self.port = 5400

    def relay_cfg(self, delay):
        d = {"delay_ms": delay}
        return {"seed": 1, "in": d, "out": d}

    def boot(self):
        self.boot_relay(self.relay_cfg(0), "fs-bdp.img", "bench-bdp")

    def ns(self, args, timeout):
        r = self.rig.ns_run([sys.executable, str(self.b.script)] + args,
                            timeout=timeout)
        return json.loads(r.stdout.strip().splitlines()[-1])

    def counter(self, name):
        return int(self.g.run("sysctl -n %s" % name).split()[-1])

    def udp_rcvbuf_errors(self):
        """Datagrams the namespace's Linux dropped for a full UDP receive
        buffer: the relay's frames that QEMU's dgram socket had no room
        for (the relay and QEMU talk UDP over the namespace's loopback)."""
        lines = [l.split() for l in self.rig.ns_run(["cat", "/proc/net/snmp"]
                                                    ).stdout.splitlines()
                 if l.startswith("Udp:")]
        return int(dict(zip(lines[0], lines[1]))["RcvbufErrors"])

    def goodput(self, buf, secs):
        """Linux -> guest into tcpstream -s [-b buf]: Mbit/s, and the
        segments the guest queued out of order meanwhile (each one is
        behind a frame lost on the way)."""
        self.port += 1
        start_server(self.g, "-p %d%s" % (self.port,
                                          " -b %d" % buf if buf else ""))
        ooo = self.counter("net.inet.tcp.rcvoopack")
        mpc = self.counter("dev.e1000.0.hw.mpc")
        udp = self.udp_rcvbuf_errors()
        r = self.ns(["ns-tcpsend", "--dst", GUEST, "--port", str(self.port),
                     "--secs", str(secs)], timeout=secs + 180)
        return (round(r["bytes"] * 8 / r["secs"] / 1e6, 3),
                self.counter("net.inet.tcp.rcvoopack") - ooo,
                self.counter("dev.e1000.0.hw.mpc") - mpc,
                self.udp_rcvbuf_errors() - udp)

    def rtt_ms(self):
        r = self.ns(["ns-ping", "--dst", GUEST, "--count", "20"], timeout=60)
        if not r["rtt_us"]:
            raise RuntimeError("no echo reply through the relay")
        return statistics.median(r["rtt_us"]) / 1000.0

    def run(self):
        secs = max(3, int(self.b.secs))
        try:
            self.boot()
            link = link1 = self.goodput(LINK_BUF, secs)[0]
            base_rtt = self.rtt_ms()
            self.rig.set_relay(self.relay_cfg(DELAY_MS))
            rtt = self.rtt_ms()
            rows = []
            for n in SIZES:
                pred = min(link, n * 8 / (rtt / 1000.0) / 1e6)
                mbps, ooo, mpc, udp = self.goodput(n, secs)
                rows.append({"rcvbuf": n, "mbps": mbps, "ooo": ooo, "mpc": mpc,
                             "udp_drops": udp,
                             "predicted": round(pred, 3)})
            g0 = self.counter("net.inet.tcp.rcvbufgrow")
            auto, auto_ooo, auto_mpc, auto_udp = self.goodput(0, secs)
            grows = self.counter("net.inet.tcp.rcvbufgrow") - g0
            maxbuf = self.counter("net.inet.tcp.recvbuf_max")
            self.rig.set_relay(self.relay_cfg(0))
            link2 = self.goodput(LINK_BUF, secs)[0]
            if link2 > link:            # the host's load moved: the better one
                link = link2
                for r in rows:
                    r["predicted"] = round(min(link, r["rcvbuf"] * 8 /
                                               (rtt / 1000.0) / 1e6), 3)
        finally:
            self.close()
        res = {"link_mbps": link, "link_runs_mbps": [link1, link2],
               "rtt_ms": round(rtt, 2),
               "base_rtt_ms": round(base_rtt, 2), "delay_ms_each_way": DELAY_MS,
               "secs": secs, "rows": rows,
               "auto": {"mbps": auto, "grows": grows, "ooo": auto_ooo,
                        "mpc": auto_mpc, "udp_drops": auto_udp,
                        "recvbuf_max": maxbuf,
                        "predicted": round(min(link, maxbuf * 8 /
                                               (rtt / 1000.0) / 1e6), 3)}}
        self.write(res)
        return res

        # -- what the options cost: guest instructions per byte --

    def icount(self):
        """A CPUS=1 guest under -icount shift=0,sleep=off (1 instruction =
        1 ns of guest time) runs `tcpstream -l 2 127.0.0.1` with
        net.inet.tcp.wscale and .timestamps on and off, alternating
        (on, off, on, off); busy instructions per byte (elapsed -
        kern.idle_ns over the streams, minus the tick's share), as
        bench/tcpbench.py's tcp_icount (bench/icount.py: cost)."""
        import icount   # bench/icount.py
        b = self.b
        fs = b.nk.copy_fsimg(b.work, "fs-optsicount.img")
        g = b.nk.Guest(fs, cpus=1,
                       qemu_args=["-icount", "shift=0,sleep=off"] + b.qargs,
                       log=b.results / "console.tmp", name="bench-optsicount")
        runs = {1: [], 0: []}
        try:
            g.boot(timeout=300)
            start_server(g, "", timeout=120)
            rate = icount.tick_rate(b, g)
            for on in (1, 0, 1, 0):
                g.run("sysctl net.inet.tcp.wscale=%d" % on)
                g.run("sysctl net.inet.tcp.timestamps=%d" % on)
                out = g.run("tcpstream -l 2 127.0.0.1", timeout=600)
                t = total_line(out)
                line = re.search(r"^tcpstream: total=.*$", out, re.M).group(0)
                per, _ = icount.cost(line, t["bytes"], 1, rate)
                if per is None:
                    raise RuntimeError("no bytes or no elapsed_ns/idle_ns: " + line)
                runs[on].append(per)
        finally:
            g.close()
        return {"on": round(statistics.mean(runs[1]), 2),
                "off": round(statistics.mean(runs[0]), 2),
                "runs_on": [round(x, 2) for x in runs[1]],
                "runs_off": [round(x, 2) for x in runs[0]],
                "command": "qemu ... -smp 1 -icount shift=0,sleep=off; "
                           "sysctl net.inet.tcp.wscale=N net.inet.tcp.timestamps=N; "
                           "tcpstream -s & tcpstream -l 2 127.0.0.1"}

    # -- output --

    def write(self, res):
        lines = table_lines(res)
        text = ("netkern make bench: TCP goodput Linux -> guest against "
                "SO_RCVBUF, %d ms added each way (%s, host load %.1f, "
                "%d s per row; one run, QEMU TCG on a shared host: rows move "
                "with the load)\n\n"
                % (DELAY_MS, time.strftime("%Y-%m-%dT%H:%M:%S"),
                   os.getloadavg()[0], res["secs"]) +
                "\n".join(lines) + "\n")
        (self.b.results / "bdp.txt").write_text(text)
        (self.b.results / "bdp.svg").write_text(svg(res))


def table_lines(res):
    out = ["%-18s %8s %10s %9s %10s %10s" % ("SO_RCVBUF", "Mbit/s", "predicted",
                                              "ooo segs", "e1000 mpc", "udp drops")]
    for r in [dict(x, name=kb(x["rcvbuf"])) for x in res["rows"]] + \
            [dict(res["auto"], name="auto (to %s)" % kb(res["auto"]["recvbuf_max"]))]:
        out.append("%-18s %8.2f %10.2f %9d %10d %10d" % (
            r["name"], r["mbps"], r["predicted"], r["ooo"], r["mpc"], r["udp_drops"]))
    a = res["auto"]
    out.append("predicted = min(link %.2f Mbit/s, SO_RCVBUF / RTT %.1f ms); "
               "autotuned buffer grew %d times" % (res["link_mbps"], res["rtt_ms"],
                                                   a["grows"]))
    out.append("link: 1M, no added delay, before and after the curve: %s Mbit/s; "
               "RTT without the delay %.1f ms" % (
                   " and ".join("%.2f" % x for x in res["link_runs_mbps"]),
                   res["base_rtt_ms"]))
    out.append("ooo segs: segments the guest queued out of order during the "
               "run (each sits behind a frame lost on the way); e1000 mpc: "
               "frames the NIC missed for want of a receive descriptor; udp "
               "drops: frames the relay sent that QEMU's socket had no room for")
    return out


def svg(res, w=640, h=400):
    """Measured and predicted goodput against log2(SO_RCVBUF)."""
    left, right, top, bottom = 70, 40, 40, 60
    rows = res["rows"]
    xs = list(range(len(rows) + 1))      # the last slot: autotuned
    ymax = max([r["mbps"] for r in rows] + [r["predicted"] for r in rows] +
               [res["auto"]["mbps"], res["link_mbps"]]) * 1.15 or 1.0

    def px(i):
        return left + i * (w - left - right) / (len(xs) - 1)

    def py(v):
        return top + (h - top - bottom) * (1 - v / ymax)

    def poly(vals, style):
        pts = " ".join("%.1f,%.1f" % (px(i), py(v)) for i, v in enumerate(vals))
        return '<polyline fill="none" %s points="%s"/>' % (style, pts)

    s = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
         'font-family="sans-serif" font-size="12">' % (w, h),
         '<rect width="100%" height="100%" fill="white"/>',
         '<text x="%d" y="20" text-anchor="middle" font-size="14">TCP goodput '
         'Linux &#8594; guest, RTT %.1f ms (relay +%d ms each way)</text>'
         % (w / 2, res["rtt_ms"], res["delay_ms_each_way"])]
    for k in range(6):                   # y grid and labels
        v = ymax * k / 5
        s.append('<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/>'
                 % (left, w - right, py(v), py(v)))
        s.append('<text x="%d" y="%.1f" text-anchor="end">%.1f</text>'
                 % (left - 6, py(v) + 4, v))
    labels = [kb(r["rcvbuf"]) for r in rows] + ["auto"]
    for i, lab in zip(xs, labels):
        s.append('<text x="%.1f" y="%d" text-anchor="middle">%s</text>'
                 % (px(i), h - bottom + 18, lab))
    s.append('<text x="%d" y="%d" text-anchor="middle">SO_RCVBUF (log 2 '
             'scale; auto = no SO_RCVBUF, autotuned)</text>' % (w / 2, h - 18))
    s.append('<text x="16" y="%d" transform="rotate(-90 16 %d)" '
             'text-anchor="middle">Mbit/s</text>' % (h / 2, h / 2))
    s.append('<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#999" '
             'stroke-dasharray="2,4"/>' % (left, w - right, py(res["link_mbps"]),
                                            py(res["link_mbps"])))
    pred = [r["predicted"] for r in rows] + [res["auto"]["predicted"]]
    meas = [r["mbps"] for r in rows] + [res["auto"]["mbps"]]
    s.append(poly(pred, 'stroke="#d62728" stroke-width="2" stroke-dasharray="6,4"'))
    s.append(poly(meas, 'stroke="#1f77b4" stroke-width="2"'))
    for i, v in enumerate(meas):
        s.append('<circle cx="%.1f" cy="%.1f" r="4" fill="#1f77b4"/>' % (px(i), py(v)))
    s.append('<text x="%d" y="%d" fill="#1f77b4">measured</text>' % (left + 10, top + 14))
    s.append('<text x="%d" y="%d" fill="#d62728">min(link, SO_RCVBUF / RTT)</text>'
             % (left + 10, top + 30))
    s.append('<text x="%d" y="%.1f" fill="#777">link %.2f</text>'
             % (w - right - 70, py(res["link_mbps"]) - 4, res["link_mbps"]))
    s.append("</svg>")
    return "\n".join(s) + "\n"


def table_rows(f, row, err):
    """Rows for run.py's table."""
    row("5b. TCP goodput against SO_RCVBUF, +20 ms RTT (Mbit/s)", "", "")
    if err("   bandwidth-delay product", "tcp_bdp"):
        return
    d = f["tcp_bdp"]
    for r in d["rows"]:
        row("   SO_RCVBUF %s" % kb(r["rcvbuf"]), "%.2f" % r["mbps"],
            "predicted %.2f; %d out of order; mpc %d; relay->QEMU drops %d"
            % (r["predicted"], r["ooo"], r["mpc"], r["udp_drops"]))
    a = d["auto"]
    row("   autotuned (no SO_RCVBUF)", "%.2f" % a["mbps"],
        "predicted %.2f; buffer grew %d times; %d out of order"
        % (a["predicted"], a["grows"], a["ooo"]))
    row("   link (1M, no delay) / RTT", "%.2f" % d["link_mbps"],
        "RTT %.1f ms (%.1f ms without the delay); bench/results/bdp.svg"
        % (d["rtt_ms"], d["base_rtt_ms"]))
    if not err("   RFC 7323 on/off, instructions per byte (lo0)", "tcp_opts_icount"):
        d = f["tcp_opts_icount"]
        row("   RFC 7323 on/off, instructions per byte (lo0)",
            "%.2f / %.2f" % (d["on"], d["off"]),
            "CPUS=1, -icount shift=0, tcpstream -l 2; runs %s / %s"
            % (d["runs_on"], d["runs_off"]))
