"""bench/contendbench.py: the ifq serializer and the UDP fast demux (PCQ)
where they are meant to win -- several CPUs at one interface, several
netisrs at one socket -- used by bench/run.py (`make bench`, or
BENCHFLAGS='--only contend').

Problem: both mechanisms remove waiting, not work.  The serializer lets a
CPU that finds the e1000's start routine busy leave its packet to the CPU
running it (net/ifq.c); the PCQ lets a netisr hand a datagram to a socket
without the socket-buffer lock its reader holds while it copies out
(net/udp.c, net/pcq.c).  With one sender, one netisr or one hart there is
nobody to wait for, and each only adds its own instructions: measured
there, both look slower.  The regime that shows them needs several CPUs
really running at once (QEMU's multi-threaded TCG, so wall clock, not
-icount, which runs the harts in turn on one host thread) and a count of
the waiting the naive path does.

Figures (each on fresh guests on the run's tap, CPUS=2 and CPUS=4; each
switch flipped ROUNDS times in one boot, on and off alternating, so that a
change of the host's load hits both settings; every run is kept):
  contend_ifq   `netbench udp -P P -k 1 -s 18 10.0.2.2 9` (P = 2 x CPUS
                processes, one socket each, to a Linux port nobody
                listens on): UDP sockets are spread over the netisrs
                (udp_attach_cpu), each sendto is a synchronous request to
                its socket's netisr, so with two senders per netisr every
                netisr has work queued and runs ip_output -> ifq_start
                while the others do.  (ICMP from
                raw sockets would not do: every raw-socket request runs in
                netisr 0, one CPU.)  Per run: packets/s the guest's
                sendto()s accepted, frames/s that reached Linux (the tap's
                rx_packets), and the deltas of net.ifq.e1000.0.*: starts,
                runs, run_us (wall-clock microseconds inside the start
                routine), contended (serializer: calls that left their
                packet to the owner), waits and wait_us (plain lock: calls that
                found it taken, and the microseconds they spun with
                interrupts off).
  contend_pcq   Linux sends 64-byte UDP datagrams to one guest port from
                16 source ports (ns-udp; the flow hash spreads them over
                every netisr) as fast as it can for secs, while ONE guest
                process reads them (`netbench udp-recv -P 1`).  Per run:
                the reader's datagrams/s, what the guest took off the wire
                (gprc), and deltas of net.inet.udp.*: drops (fullsock,
                pcqfull), tablewaits/tablewait_us (netisrs that found the
                pcb-table lock taken), sbwaits/sbwait_us (deliveries that
                found so_rcv's lock taken: the reader copying out),
                pcqwakeups (fast path: a netisr locked so_rcv to wake the
                sleeping reader).
  contend_icount  guest instructions per packet of the same two paths,
                switch on and off, on a CPUS=1 guest under `-icount
                shift=0` on the tap (one instruction = 1 ns of guest
                time while busy): busy = uptime - kern.idle_us over the run,
                minus the same for an idle run of the same length, over
                the packets.  ifq: `netbench udp -n 4000 -P 2 -k 1 -s 18`
                to Linux, per frame that reached the tap.  pcq: Linux
                sends UDP from 16 source ports at a steady 2,000/s
                (ns-udppace) for 4 s to `netbench udp-recv -P 1`, per
                datagram that reached UDP (net.inet.udp.ipackets; the
                datagrams read are beside it).  One hart has nothing to wait for: this is
                the price of each mechanism, not its gain.
The profile that explains the figures is in docs/ifq.md and docs/pcq.md.

  contend_tcp   the serializer under TCP senders: `tcpstream -l secs -P
                2xCPUS 10.0.2.2` (each connection's output runs in the
                netisr of its flow hash, so every netisr sends bursts of
                segments at once) against a Linux sink (ns-tcpsinkn),
                net.ifq.serializer 1,0 x ROUNDS; goodput and the e1000
                send queue's counters per run.

The Linux end (script half, run in the namespace through bench/run.py):
  ns-tcpsinkn --port P --conns N   accept N connections, read each ('S'
        first) to EOF and close it; prints the bytes
  ns-udppace --dst A --port P --rate R --secs S [--socks 16]
        64-byte UDP datagrams at R/s from socks source ports, round robin
"""

import json
import socket

import statistics
import time

# sleep on (QEMU's default): an idle guest's clock runs with the host's,
# so a reader's idle timeout is not warped away while Linux paces its
# datagrams; busy time (uptime - kern.idle_us) is still 1 ns per
# instruction.
ICOUNT = ["-icount", "shift=0"]
PEER = "10.0.2.2"
GUEST_IP = "10.0.2.15"
ROUNDS = 3
IFQ = "net.ifq.e1000.0"
IFQ_KEYS = ["starts", "runs", "run_us", "contended", "restarts", "waits",
            "wait_us", "dropped", "dequeued"]
UDP_KEYS = ["ipackets", "delivered", "fastpath", "fullsock", "pcqfull",
            "tablewaits", "tablewait_us", "sbwaits", "sbwait_us",
            "pcqwakeups"]


def ns_udppace(argv):
    import argparse
    p = argparse.ArgumentParser()
    p.add_argument("--dst", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--rate", type=float, default=2000)
    p.add_argument("--secs", type=float, default=4)
    p.add_argument("--socks", type=int, default=16)
    a = p.parse_args(argv)
    socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
             for _ in range(a.socks)]
    payload = b"p" * 64
    sent = 0
    t0 = time.monotonic()
    end = t0 + a.secs
    while True:
        now = time.monotonic()
        if now >= end:
            break
        while sent < int((now - t0) * a.rate):
            try:
                socks[sent % a.socks].sendto(payload, (a.dst, a.port))
            except OSError:
                pass
            sent += 1
        time.sleep(10.0 / a.rate)
    print(json.dumps({"sent": sent, "secs": time.monotonic() - t0}))


def ns_tcpsinkn(argv):
    import argparse
    import threading
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--conns", type=int, required=True)
    a = p.parse_args(argv)
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((PEER, a.port))
    ls.listen(a.conns)
    print(json.dumps({"listening": a.port}), flush=True)
    ls.settimeout(120)
    total = [0]
    lock = threading.Lock()

    def drain(c):
        n = 0
        c.settimeout(120)
        try:
            while True:
                b = c.recv(1 << 16)
                if not b:
                    break
                n += len(b)
        finally:
            c.close()
            with lock:
                total[0] += n

    threads = []
    for _ in range(a.conns):
        c, _ = ls.accept()
        t = threading.Thread(target=drain, args=(c,))
        t.start()
        threads.append(t)
    for t in threads:
        t.join()
    print(json.dumps({"bytes": total[0]}))


NS_CMDS = {"ns-udppace": ns_udppace, "ns-tcpsinkn": ns_tcpsinkn}


class ContendBench:
    def __init__(self, bench):
        self.b = bench

    def _guest(self, cpus, name, extra=()):
        """A guest with cpus harts on the run's tap (the run's own guest
        must be closed: one QEMU on the tap at a time)."""
        b = self.b
        fs = b.nk.copy_fsimg(b.work, "fs-%s.img" % name)
        argv = b.rig.ns_argv(b.nk.qemu_argv(fs, cpus, b.rig.netdev(),
                                            list(extra) + b.qargs))
        g = b.nk.Guest(fs, cpus=cpus, argv=argv, log=b.results / "console.tmp",
                       name="bench-" + name)
        g.boot(timeout=300)
        g.run("sysctl vm.junk_fill=0")
        return g

    def _tap_rx(self):
        b = self.b
        return int(b.rig.ns_run(["cat", "/sys/class/net/%s/statistics/rx_packets"
                                 % b.rig.tap]).stdout)

    @staticmethod
    def _summary(runs, key):
        on = [r[key] for r in runs[1]]
        off = [r[key] for r in runs[0]]
        mon, moff = statistics.mean(on), statistics.mean(off)
        return {"on": round(mon, 2), "off": round(moff, 2),
                "ratio": round(mon / moff, 3) if moff else None}

    # -- the serializer: several CPUs transmitting on the e1000 --

    def _ifq_run(self, g, P, ms):
        b = self.b
        c0 = b.nr.sysctl_tree(g, IFQ)
        t0 = self._tap_rx()
        out = g.run("netbench udp -d %d -P %d -k 1 -s 18 %s 9" % (ms, P, PEER),
                    timeout=ms / 100 + 120)
        time.sleep(0.3)
        t1 = self._tap_rx()
        c1 = b.nr.sysctl_tree(g, IFQ)
        nb = b.netbench(out, "send")
        r = {"pps": nb["pps"], "ok": nb["ok"], "errors": nb["errors"],
             "us": nb["us"], "tap_rx": t1 - t0,
             "tap_pps": round((t1 - t0) * 1e6 / nb["us"]) if nb["us"] else None}
        r.update({k: c1.get(IFQ + "." + k, 0) - c0.get(IFQ + "." + k, 0)
                  for k in IFQ_KEYS})
        return r

    def ifq(self):
        b = self.b
        ms = int(b.secs * 1000)
        res = {"command": "netbench udp -d %d -P 2xCPUS -k 1 -s 18 %s 9; "
                          "net.ifq.serializer 1,0 x %d in one boot"
                          % (ms, PEER, ROUNDS)}
        for cpus in (2, 4):
            g = self._guest(cpus, "cifq%d" % cpus)
            try:
                runs = {1: [], 0: []}
                for _ in range(ROUNDS):
                    for mode in (1, 0):
                        g.run("sysctl net.ifq.serializer=%d" % mode)
                        runs[mode].append(self._ifq_run(g, 2 * cpus, ms))
                g.run("sysctl net.ifq.serializer=1")
            finally:
                g.close()
            res["cpus%d" % cpus] = {
                "senders": 2 * cpus, "runs_on": runs[1], "runs_off": runs[0],
                "pps": self._summary(runs, "pps"),
                "tap_pps": self._summary(runs, "tap_pps")}
        return res

    def _tcp_run(self, g, streams, secs, port):
        import subprocess
        import sys
        import tcpbench
        b = self.b
        c0 = b.nr.sysctl_tree(g, IFQ)
        sink = subprocess.Popen(
            b.rig.ns_argv([sys.executable, str(b.script), "ns-tcpsinkn",
                           "--port", str(port), "--conns", str(streams)]),
            stdout=subprocess.PIPE, text=True)
        try:
            sink.stdout.readline()      # listening
            out = g.run("tcpstream -l %d -P %d -p %d %s"
                        % (secs, streams, port, PEER), timeout=secs * 10 + 120)
            sink.communicate(timeout=120)
        finally:
            if sink.poll() is None:
                sink.kill()
        c1 = b.nr.sysctl_tree(g, IFQ)
        r = {"mbps": tcpbench.total_line(out)["mbps"]}
        r.update({k: c1.get(IFQ + "." + k, 0) - c0.get(IFQ + "." + k, 0)
                  for k in IFQ_KEYS})
        return r

    def tcp(self):
        b = self.b
        secs = max(2, int(b.secs))
        res = {"command": "tcpstream -l %d -P 2xCPUS 10.0.2.2 (Linux sink); "
                          "net.ifq.serializer 1,0 x %d in one boot" % (secs, ROUNDS)}
        port = 5600
        for cpus in (2, 4):
            g = self._guest(cpus, "ctcp%d" % cpus)
            try:
                runs = {1: [], 0: []}
                for _ in range(ROUNDS):
                    for mode in (1, 0):
                        g.run("sysctl net.ifq.serializer=%d" % mode)
                        port += 1
                        runs[mode].append(self._tcp_run(g, 2 * cpus, secs, port))
                g.run("sysctl net.ifq.serializer=1")
            finally:
                g.close()
            res["cpus%d" % cpus] = {
                "streams": 2 * cpus, "runs_on": runs[1], "runs_off": runs[0],
                "mbps": self._summary(runs, "mbps")}
        return res

    # -- the fast demux: several netisrs delivering to one reader --

    def _pcq_run(self, g, port):
        b = self.b
        c0 = b.nr.sysctl_tree(g, "net.inet.udp")
        e0 = b.nr.sysctl_tree(g, "dev.e1000.0.hw.gprc")
        g.sendline("netbench udp-recv -P 1 -p %d -t %d -i 1000"
                   % (port, int(b.secs) + 10))
        g.expect(r"netbench: ready recv", 60, "udp-recv ready")
        try:
            h = b.ns_script(["ns-udp", "--dst", GUEST_IP, "--port", str(port),
                             "--iface", b.rig.tap, "--secs", str(b.secs),
                             "--socks", "16"], timeout=b.secs + 120)
        finally:
            out = g.wait_prompt(b.secs * 10 + 90, "udp-recv end")
        c1 = b.nr.sysctl_tree(g, "net.inet.udp")
        e1 = b.nr.sysctl_tree(g, "dev.e1000.0.hw.gprc")
        r = b.netbench(out, "recv")
        row = {"recv_pps": r["pps"], "got": r["got"], "recv_ms": r["ms"],
               "host_pps": round(h["sent"] / h["secs"]),
               "gprc": e1.get("dev.e1000.0.hw.gprc", 0)
               - e0.get("dev.e1000.0.hw.gprc", 0)}
        row.update({k: c1.get("net.inet.udp." + k, 0)
                    - c0.get("net.inet.udp." + k, 0) for k in UDP_KEYS})
        return row

    def pcq(self):
        b = self.b
        res = {"command": "Linux: ns-udp --socks 16 for %s s; guest: "
                          "netbench udp-recv -P 1; net.inet.udp.fast_demux "
                          "1,0 x %d in one boot" % (b.secs, ROUNDS)}
        port = 9400
        for cpus in (2, 4):
            g = self._guest(cpus, "cpcq%d" % cpus)
            try:
                runs = {1: [], 0: []}
                for _ in range(ROUNDS):
                    for fd in (1, 0):
                        g.run("sysctl net.inet.udp.fast_demux=%d" % fd)
                        port += 1       # in-flight leftovers go to noport
                        runs[fd].append(self._pcq_run(g, port))
                g.run("sysctl net.inet.udp.fast_demux=1")
            finally:
                g.close()
            res["cpus%d" % cpus] = {
                "runs_on": runs[1], "runs_off": runs[0],
                "recv_pps": self._summary(runs, "recv_pps")}
        return res

    # -- the price: instructions per packet on one hart --

    def _busy(self, g):
        """(guest seconds, busy instructions) since boot."""
        c = self.b.nr.sysctl_tree(g, "kern.uptime_ms kern.idle_us")
        return (c["kern.uptime_ms"] / 1e3,
                c["kern.uptime_ms"] * 1e6 - c["kern.idle_us"] * 1e3)

    @staticmethod
    def _minus(a, b, base):
        """Busy instructions from b to a, less the idle baseline per s."""
        return a[1] - b[1] - base * (a[0] - b[0])

    def icount(self):
        b = self.b
        g = self._guest(1, "cicount", ICOUNT)
        res = {"command": "qemu ... -smp 1 -icount shift=0 (tap)"}
        try:
            t = self._busy(g)
            g.run("sleep 4")
            t1 = self._busy(g)
            idle_per_s = (t1[1] - t[1]) / (t1[0] - t[0])    # ticks, shell
            for mode in (1, 0, 1, 0):
                g.run("sysctl net.ifq.serializer=%d" % mode)
                t0, x0 = self._busy(g), self._tap_rx()
                out = g.run("netbench udp -n 4000 -P 2 -k 1 -s 18 %s 9" % PEER,
                            timeout=900)
                time.sleep(0.3)
                t1, x1 = self._busy(g), self._tap_rx()
                busy = self._minus(t1, t0, idle_per_s)
                res.setdefault("ifq_ser%d" % mode, []).append(
                    round(busy / max(1, x1 - x0)))
            g.run("sysctl net.ifq.serializer=1")
            port = 9500
            for fd in (1, 0, 1, 0):
                g.run("sysctl net.inet.udp.fast_demux=%d" % fd)
                port += 1
                t0 = self._busy(g)
                u0 = b.nr.sysctl_tree(g, "net.inet.udp.ipackets")
                g.sendline("netbench udp-recv -P 1 -p %d -t 60 -i 3000" % port)
                g.expect(r"netbench: ready recv", 120, "udp-recv ready")
                b.ns_script(["ns-udppace", "--dst", GUEST_IP, "--port",
                             str(port), "--rate", "2000", "--secs", "4"],
                            timeout=120)
                out = g.wait_prompt(300, "udp-recv end")
                u1 = b.nr.sysctl_tree(g, "net.inet.udp.ipackets")
                t1 = self._busy(g)
                r = b.netbench(out, "recv")
                n = u1["net.inet.udp.ipackets"] - u0["net.inet.udp.ipackets"]
                busy = self._minus(t1, t0, idle_per_s)
                res.setdefault("pcq_fd%d" % fd, []).append(round(busy / max(1, n)))
                res.setdefault("pcq_in_got_fd%d" % fd, []).append([n, r["got"]])
            g.run("sysctl net.inet.udp.fast_demux=1")
        finally:
            g.close()
        res["idle_insn_per_s"] = round(idle_per_s)
        return res


def table_rows(f, row, err):
    """Rows for run.py's table."""
    row("10. mechanisms under contention (switch on/off, one boot)", "", "")
    if not err("   ifq serializer, e1000", "contend_ifq"):
        for c in ("cpus2", "cpus4"):
            d = f["contend_ifq"].get(c)
            if not d:
                continue
            row("   serializer/plain, %d UDP senders, %s"
                % (d["senders"], c.replace("cpus", "CPUS=")),
                "%s" % d["tap_pps"]["ratio"],
                "tap %d vs %d frames/s; runs on %s off %s; plain spun %s us"
                % (d["tap_pps"]["on"], d["tap_pps"]["off"],
                   [r["tap_pps"] for r in d["runs_on"]],
                   [r["tap_pps"] for r in d["runs_off"]],
                   [r["wait_us"] for r in d["runs_off"]]))
    if not err("   ifq serializer, TCP senders", "contend_tcp"):
        for c in ("cpus2", "cpus4"):
            d = f["contend_tcp"].get(c)
            if not d:
                continue
            row("   serializer/plain, tcpstream -P %d, %s"
                % (d["streams"], c.replace("cpus", "CPUS=")),
                "%s" % d["mbps"]["ratio"],
                "%s vs %s Mbit/s; runs on %s off %s; plain spun %s us"
                % (d["mbps"]["on"], d["mbps"]["off"],
                   [r["mbps"] for r in d["runs_on"]],
                   [r["mbps"] for r in d["runs_off"]],
                   [r["wait_us"] for r in d["runs_off"]]))
    if not err("   UDP fast demux, 1 reader", "contend_pcq"):
        for c in ("cpus2", "cpus4"):
            d = f["contend_pcq"].get(c)
            if not d:
                continue
            row("   fast_demux on/off, 1 reader, %s" % c.replace("cpus", "CPUS="),
                "%s" % d["recv_pps"]["ratio"],
                "%d vs %d dgrams/s; runs on %s off %s; naive sbwait %s us"
                % (d["recv_pps"]["on"], d["recv_pps"]["off"],
                   [r["recv_pps"] for r in d["runs_on"]],
                   [r["recv_pps"] for r in d["runs_off"]],
                   [r["sbwait_us"] for r in d["runs_off"]]))
    if not err("   instructions per packet, CPUS=1", "contend_icount"):
        d = f["contend_icount"]
        row("   ifq insn/frame serializer, plain", "%s, %s"
            % (d["ifq_ser1"], d["ifq_ser0"]),
            "CPUS=1 -icount: netbench udp -P 2 to Linux, per frame at the tap")
        row("   UDP insn/datagram fast_demux 1, 0", "%s, %s"
            % (d["pcq_fd1"], d["pcq_fd0"]),
            "CPUS=1 -icount: Linux 2,000/s, one reader, per datagram in")
