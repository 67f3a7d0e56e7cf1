"""bench/tcpbench.py: the TCP figures of `make bench` (used by bench/run.py).

Problem: how fast is the guest's TCP, against what the link can carry,
and what does a byte cost in guest instructions?  Wall-clock rates under
QEMU's TCG on a shared host move with the load; so each rate is put beside
a figure from the same run that moves with it, and the cost is measured
in instructions, which do not move.

Figures:
  tcp_e1000   goodput Linux -> guest and guest -> Linux over the e1000
              (tcpstream in the guest, this file's script half as the
              Linux end, same protocol).  Clean: Linux's end in the
              rig's namespace, on the tap itself.  With 2% loss: the
              same, with 2% of the TCP frames dropped each way on the
              tap (bench/taploss.py: a BPF filter on QEMU's tap file for
              what Linux sends, after Linux has let go of it; nftables at
              prerouting for what the guest sends), so both TCPs see
              real losses on the clean rows' path; the counters give the
              loss each direction really had.
              (Until 2026-12-06 the rule dropped on the tap at Linux's
              own input and output hooks: a drop at the output hook is a
              local transmit error to Linux's TCP, which just sends
              again, so the "Linux -> guest, 2% loss" figures of that
              time measured no loss at all.  From then until 2026-12-07
              Linux's end sat behind a second namespace that forwarded
              and dropped, bench/losspath.py, whose clean path alone
              carried a third of the tap's rate.)
              The table puts each goodput beside the raw e1000 receive
              rate of the same run as the ratio goodput /
              (frames/s x MSS), MSS = 1460: the share of the link's frame
              budget that became payload.  Two raw rates, both printed:
              "full" is the rate of 1514-byte frames (rxbench.py's
              blast1514), "small" that of 60-byte frames (run.py's blast).
              The floors of `make bench` (0.5 clean, 0.25 at 2% loss) are
              judged against the full-frame rate: frames/s x 1460 only
              means "what the link could carry as payload" for frames
              that can carry 1460 bytes, and the e1000 model, the tap and
              the guest's receive path each cost more per 1514-byte frame
              than per 60-byte one, so the small-frame rate overstates
              the link's payload capacity (it was the only figure before
              December 2026, and stays in the table so old results can be
              compared).
              guest -> Linux is also put beside the guest's raw transmit
              rate of 1514-byte frames (rxbench.py's txblast figure): the
              same ratio against what the guest can send at all.
  tcp_lo0     tcpstream over 127.0.0.1, 1 and 4 streams, on fresh slirp
              guests with CPUS=1 and CPUS=2.
  tcp_icount  instructions per byte: a CPUS=1 guest under
              `-icount shift=0,sleep=off` (one instruction = 1 ns of the
              guest's clock) runs `tcpstream -l 2 127.0.0.1`, which reads
              the clock and kern.idle_ns around its streams; busy
              instructions = elapsed - idle, minus the clock tick's share
              (bench/icount.py: cost), per byte.  Sender and receiver both
              run on the one hart, so the figure is the whole loopback
              path (send, lo0, IP, TCP input, receive, ACKs) per byte
              delivered.

The Linux end (script half, run in the namespace):
  ns-tcpsend --dst A --port P --secs S [--cc C]   connect (with
        congestion control C, e.g. cubic; default: the namespace's), 'S', send for S s,
        shutdown, read to the server's close; prints bytes, secs
  ns-tcpsink --port P [--bind A]         accept one connection, read its
        first byte ('S'), read to EOF, close; prints bytes, secs
"""

import json
import re
import socket
import subprocess
import sys
import time

from taploss import TapLoss

MSS = 1460
# The guest's counters (net.inet.tcp.*) each e1000 run reports: the
# sender's timeouts are what 2% loss costs most (each >= rto_min_ms); the
# receiver's out-of-order and duplicate segments show the losses it saw.
LOSS_KEYS = ("rexmttimeo", "sndrexmitpack", "recovery", "sack_recovery",
             "sack_limited", "tlp_probe", "tlp_recovered", "tlp_recovery",
             "tlp_rack", "tlp_lostrexmt", "prr_recovery", "persisttimeo",
             "rcvoopack",
             "rcvduppack", "rcvdupack")
# Linux's counters (nstat in the namespace of its end), under our names.
LINUX_KEYS = (("linux_timeouts", "TcpExtTCPTimeouts"),
              ("linux_rexmit", "TcpRetransSegs"),
              ("linux_lossprobes", "TcpExtTCPLossProbes"),
              ("linux_sack_recovery", "TcpExtTCPSackRecovery"),
              ("linux_ofo", "TcpExtTCPOFOQueue"))
PEER = "10.0.2.2"
GUEST = "10.0.2.15"


# ---- script half -----------------------------------------------------------

def ns_tcpsend(a):
    end = time.monotonic() + 30
    while True:                      # the guest's server may be starting
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if a.cc:        # any the kernel has, also one not in its allowed list (root)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, a.cc.encode())
        s.settimeout(30)
        try:
            s.connect((a.dst, a.port))
            break
        except ConnectionRefusedError:
            s.close()
            if time.monotonic() > end:
                raise
            time.sleep(0.2)
    s.sendall(b"S")
    buf = bytes(65536)
    n = 0
    t0 = time.monotonic()
    end = t0 + a.secs
    while time.monotonic() < end:
        n += s.send(buf)
    s.shutdown(socket.SHUT_WR)
    s.settimeout(60)
    while s.recv(65536):
        pass
    secs = time.monotonic() - t0
    s.close()
    print(json.dumps({"bytes": n, "secs": secs}))


def ns_tcpsink(a):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((a.bind, a.port))
    ls.listen(4)
    print(json.dumps({"listening": a.port}), flush=True)
    ls.settimeout(120)
    c, _ = ls.accept()
    c.settimeout(120)
    t0 = time.monotonic()
    first = c.recv(1)
    n = 0
    while True:
        b = c.recv(1 << 16)
        if not b:
            break
        n += len(b)
    secs = time.monotonic() - t0
    c.close()
    print(json.dumps({"bytes": n, "secs": secs, "first": first.decode()}))


def ns_main(cmd, argv):
    import argparse
    p = argparse.ArgumentParser()
    p.add_argument("--dst", default=GUEST)
    p.add_argument("--bind", default=PEER)
    p.add_argument("--port", type=int, default=5201)
    p.add_argument("--secs", type=float, default=5)
    p.add_argument("--cc", default="",
                   help="ns-tcpsend: the socket's congestion control (TCP_CONGESTION)")
    a = p.parse_args(argv)
    {"ns-tcpsend": ns_tcpsend, "ns-tcpsink": ns_tcpsink}[cmd](a)


# ---- the figures (host side) -----------------------------------------------

def total_line(out):
    """tcpstream's last line as a dict (total Mbit/s, streams, bytes)."""
    m = re.search(r"^tcpstream: total=([\d.]+) streams=(\d+) bytes=(\d+)",
                  out, re.M)
    if not m:
        raise RuntimeError("no tcpstream total line in:\n" + out[-600:])
    ms = [int(x) for x in re.findall(r"^stream \d+: .* ms=(\d+)", out, re.M)]
    return {"mbps": float(m.group(1)), "streams": int(m.group(2)),
            "bytes": int(m.group(3)), "ms": max(ms) if ms else None}


def start_server(g, args, timeout=30):
    """tcpstream -s in the background; returns once it listens."""
    g.run("tcpstream -s %s > /tcps.txt &" % args, timeout=timeout)
    for _ in range(100):
        if "tcpstream: server port" in g.read_file("/tcps.txt",
                                                   timeout=timeout):
            return
        time.sleep(0.2)
    raise RuntimeError("tcpstream -s did not start")


def ns_script(b, end, args, timeout):
    """This bench's script half in end's namespace (the rig, or a
    TapLoss or a losspath.LossPath); its last JSON line."""
    r = end.ns_run([sys.executable, str(b.script)] + args, timeout=timeout)
    return json.loads(r.stdout.strip().splitlines()[-1])


class LinuxSink:
    """ns-tcpsink, Linux's end of a guest -> Linux run, in end's namespace
    (the rig's, a TapLoss's or a losspath.LossPath's, listening on its .addr; the
    script is b.script, bench/run.py): accepts one connection on port and
    reads it to the end.  `with LinuxSink(b, end, port) as sink:` returns
    once it listens; sink.result() waits for its end and returns its JSON
    line (bytes, secs).  Killed on the way out if still running."""

    def __init__(self, b, end, port):
        self.argv = end.ns_argv([sys.executable, str(b.script), "ns-tcpsink",
                                 "--port", str(port), "--bind",
                                 getattr(end, "addr", PEER)])
        self.p = None
    def __enter__(self):
        self.p = subprocess.Popen(self.argv, stdout=subprocess.PIPE, text=True)
        try:
            self.p.stdout.readline()        # listening
        except BaseException:
            self.__exit__()
            raise
        return self

    def result(self, timeout=120):
        return json.loads(self.p.communicate(timeout=timeout)[0].splitlines()[-1])

    def __exit__(self, *exc):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()


class RelayGuest:
    """The part of a bench whose guest sits behind the relay
    (tests/netrig.py: delay, loss on the path). self.b is the Bench;
    boot_relay sets self.rig and self.g as it goes, so close() undoes
    whatever was done, also after a failed boot."""
    rig = None
    g = None

    def boot_relay(self, relay_cfg, img, name):
        b = self.b
        self.rig = b.nr.NetRig(b.work)
        self.rig.setup()
        self.rig.start_relay(relay_cfg)
        fs = b.nk.copy_fsimg(b.work, img)
        argv = self.rig.ns_argv(b.nk.qemu_argv(fs, b.cpus, self.rig.netdev(),
                                               b.qargs))
        self.g = b.nk.Guest(fs, cpus=b.cpus, argv=argv, qemu_args=b.qargs,
                            log=b.results / "console.tmp", name=name)
        self.g.boot(timeout=120)
        self.g.run("sysctl vm.junk_fill=0")

    def close(self):
        try:
            if self.g is not None:
                self.g.close()
        finally:
            if self.rig is not None:
                self.rig.close()         # stops the relay, deletes the ns
            self.g = self.rig = None


class TcpBench:
    def __init__(self, bench):
        self.b = bench

    def guest_counters(self, end=None):
        """The guest's LOSS_KEYS, and Linux's LINUX_KEYS (nstat in end's
        namespace: the rig's, a TapLoss's or a losspath.LossPath's)."""
        end = end or self.b.rig
        t = self.b.nr.sysctl_tree(self.b.guest(), "net.inet.tcp")
        c = {k: t.get("net.inet.tcp." + k, 0) for k in LOSS_KEYS}
        p = end.ns_run(["nstat", "-az", "--json"], check=False)
        try:
            k = json.loads(p.stdout).get("kernel", {})
        except ValueError:
            k = {}
        for ours, theirs in LINUX_KEYS:
            c[ours] = k.get(theirs, 0)
        return c

    def directions(self, secs, end=None):
        """Goodput both ways over the e1000 (Mbit/s) between the guest and
        Linux's end in end's namespace (default: the rig's, on the tap),
        and the growth of both sides' counters during each (l2g_ctr,
        g2l_ctr; with a TapLoss or LossPath also its frames and drops)."""
        b, g = self.b, self.b.guest()
        end = end or b.rig
        path = getattr(end, "counters", dict)

        def ctr():
            c = self.guest_counters(end)
            c.update(("path_" + k, v) for k, v in path().items())
            return c
        b.tcp_port += 1
        start_server(g, "-p %d" % b.tcp_port)
        c0 = ctr()
        r = ns_script(b, end, ["ns-tcpsend", "--dst", GUEST, "--port",
                               str(b.tcp_port), "--secs", str(secs)],
                      timeout=secs + 120)
        c1 = ctr()
        l2g = r["bytes"] * 8 / r["secs"] / 1e6
        b.tcp_port += 1
        with LinuxSink(b, end, b.tcp_port) as sink:
            out = g.run("tcpstream -l %d -p %d %s" % (
                secs, b.tcp_port, getattr(end, "addr", PEER)),
                timeout=secs * 10 + 120)
            s = sink.result()
        t = total_line(out)
        c2 = ctr()
        return {"l2g_mbps": round(l2g, 2), "l2g_bytes": r["bytes"],
                "g2l_mbps": t["mbps"], "g2l_bytes": t["bytes"],
                "g2l_linux_bytes": s["bytes"],
                "l2g_ctr": {k: c1[k] - c0[k] for k in c0},
                "g2l_ctr": {k: c2[k] - c1[k] for k in c1}}

    def e1000(self):
        """Clean: Linux on the tap (as always).  2% loss: the same tap,
        dropping 2% of the TCP frames each way (taploss.py)."""
        secs = max(2, int(self.b.secs))
        res = {"clean": self.directions(secs)}
        with TapLoss(self.b.rig, 2) as lp:
            res["loss2"] = self.directions(secs, lp)
        g = self.b.guest()
        res["retransmits"] = self.b.nr.sysctl_tree(g, "net.inet.tcp").get(
            "net.inet.tcp.sndrexmitpack")
        return res

    def lo0_on(self, cpus, extra=()):
        b = self.b
        fs = b.nk.copy_fsimg(b.work, "fs-tcp%d.img" % cpus)
        g = b.nk.Guest(fs, cpus=cpus, qemu_args=list(extra) + b.qargs,
                       log=b.results / "console.tmp", name="bench-tcp")
        try:
            g.boot(timeout=120)
            start_server(g, "")
            secs = max(2, int(b.secs))
            return {"P%d" % P: total_line(g.run(
                "tcpstream -l %d -P %d 127.0.0.1" % (secs, P),
                timeout=secs * 20 + 120)) for P in (1, 4)}
        finally:
            g.close()

    def lo0(self):
        return {"cpus%d" % c: self.lo0_on(c) for c in (1, 2)}

    def icount(self):
        import icount   # bench/icount.py imports this file
        b = self.b
        fs = b.nk.copy_fsimg(b.work, "fs-icount.img")
        g = b.nk.Guest(fs, cpus=1,
                       qemu_args=["-icount", "shift=0,sleep=off"] + b.qargs,
                       log=b.results / "console.tmp", name="bench-icount")
        try:
            g.boot(timeout=300)
            start_server(g, "", timeout=120)
            rate = icount.tick_rate(b, g)
            out = g.run("tcpstream -l 2 127.0.0.1", timeout=600)
            t = total_line(out)
        finally:
            g.close()
        m = re.search(r"^tcpstream: total=.*$", out, re.M)
        per, d = icount.cost(m.group(0), t["bytes"], 1, rate)
        return dict(d, guest_ms=t["ms"], insn_per_byte=per,
                    command="qemu ... -smp 1 -icount shift=0,sleep=off; "
                            "tcpstream -s & tcpstream -l 2 127.0.0.1")


def link_ratios(mbps, full_fps, small_fps):
    """goodput / (frames/s x MSS) against the full-frame raw receive rate
    (the one the floors are judged by) and the small-frame one."""
    parts = []
    for name, fps in (("full", full_fps), ("small", small_fps)):
        if fps:
            parts.append("%.2f of %s %d/s" % (mbps * 1e6 / 8 / (fps * MSS),
                                              name, fps))
    if not parts:
        return "no raw frame rate in this run"
    return "ratio " + ", ".join(parts) + " x %d" % MSS


def loss_detail(k, c):
    """One line of what a 2% loss run saw: the packets the path dropped
    (data direction, then ACK direction), the sender's recoveries, the
    receiver's out-of-order segments."""
    data, acks = ("to_guest", "from_guest") if k == "l2g" else \
        ("from_guest", "to_guest")
    t = "dropped %d/%d data, %d/%d ACK packets; " % (
        c.get("path_%s_drop" % data, 0), c.get("path_" + data, 0),
        c.get("path_%s_drop" % acks, 0), c.get("path_" + acks, 0))
    if k == "l2g":
        return t + ("Linux sender: %d rexmit, %d RTO, %d loss probes, %d "
                    "SACK recoveries; guest: %d out of order, %d dup" % (
                        c["linux_rexmit"], c["linux_timeouts"],
                        c.get("linux_lossprobes", 0),
                        c.get("linux_sack_recovery", 0),
                        c.get("rcvoopack", 0), c.get("rcvduppack", 0)))
    return t + ("guest sender: %d rexmit, %d RTO, %d TLP, %d SACK "
                "recoveries; Linux: %d out of order" % (
                    c["sndrexmitpack"], c["rexmttimeo"], c["tlp_probe"],
                    c["sack_recovery"], c.get("linux_ofo", 0)))


def table_rows(f, row, err):
    """Rows for run.py's table."""
    blast = f.get("blast", {})
    fps = blast.get("recv_fps") if "error" not in blast else None
    full = f.get("blast1514", {})
    ffps = full.get("recv_fps") if "error" not in full else None
    tx = f.get("txblast", {})
    txfps = tx.get("s1514", {}).get("fps") if "error" not in tx else None
    row("5. TCP goodput (Mbit/s)", "", "")
    if not err("   e1000", "tcp_e1000"):
        for cond in ("clean", "loss2"):
            d = f["tcp_e1000"].get(cond)
            if d is None:
                continue
            for k, name in (("l2g", "Linux -> guest"), ("g2l", "guest -> Linux")):
                mbps = d["%s_mbps" % k]
                ratio = link_ratios(mbps, ffps, fps)
                if k == "g2l" and txfps:
                    ratio += "; %.2f of raw TX %d/s" % (
                        mbps * 1e6 / 8 / (txfps * MSS), txfps)
                row("   e1000 %s%s" % (name, ", 2% loss" if cond == "loss2"
                                        else ""), "%.2f" % mbps, ratio)
                ctr = d.get("%s_ctr" % k)
                if ctr and cond == "loss2":
                    row("", "", loss_detail(k, ctr))
    if not err("   lo0", "tcp_lo0"):
        for c in ("cpus1", "cpus2"):
            for P in ("P1", "P4"):
                d = f["tcp_lo0"][c][P]
                row("   lo0 %s, %s stream%s" % (c.replace("cpus", "CPUS="),
                                                P[1:], "s" if P == "P4" else ""),
                    "%.2f" % d["mbps"], "%d bytes" % d["bytes"])
    if not err("   instructions per byte (lo0)", "tcp_icount"):
        d = f["tcp_icount"]
        row("   instructions per byte (lo0)", "%s" % d["insn_per_byte"],
            "CPUS=1, -icount shift=0: %d bytes in %d guest ms"
            % (d["bytes"], d["guest_ms"]))
