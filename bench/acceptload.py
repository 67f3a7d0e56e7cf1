"""bench/acceptload.py: Linux's side of the reuseport accept figures
(bench/mechbench.py, mech_reuseport), run inside the bench's network
namespace: connections to `reuseport -T` in the guest, a bounded number
at a time, each one kept until the guest has served it.

Problem: an open-loop client (connect, send a byte, close, next) offers
connections as fast as the guest completes handshakes -- the netisrs'
work -- whatever the listener takes. A single listener that serves them
more slowly falls behind; once its accept queue holds its backlog (128)
the guest drops the next SYN (net/tcp_syncache.c, tcp_syncache_syn:
soqfull), and Linux retransmits that SYN only after its initial RTO of
one second (RFC 6298 2.1). Such a run measures how many of those seconds
it hit, not how fast the guest accepts: 600 connections took 2.4 s with
one listener (two 1 s stalls: the guest's net.inet.tcp.listendrop 2,
Linux's TCPSynRetrans 2) and 0.3 s with two, whose two backlogs held
the burst. Make the run longer and the two listeners overflow too.

Idea: a closed loop. At most --conc connections are open at once (well
under one backlog, so no queue can overflow whatever the listeners'
speed); each sends one byte, shuts its sending side and waits for the
guest's FIN, which the listener sends only when it has accepted the
connection, read it to EOF and closed it. A connection ends when it is
served, and the next one starts: the rate is the rate at which the guest
accepts and serves, which is the figure (and each connection's time from
connect to the guest's FIN shows any stall: a lost SYN or wake-up is a
connection of a second or more).

Output: one JSON line: ok, errors (the first 5), secs (first connect to
last FIN), rate (ok / secs), the connection times (ms: median, 99th
percentile, max, how many over 900 ms) and Linux's counters over the run
(this namespace's TcpRetransSegs, TcpExtTCPSynRetrans,
TcpExtTCPTimeouts: all 0 when nothing was lost).

Usage (inside the namespace):
  acceptload.py --port P --count N [--conc K] [--dst A] [--deadline S] [--wait]
"""

import argparse
import errno
import json
import selectors
import socket
import time

COUNTERS = ("Tcp:RetransSegs", "TcpExt:TCPSynRetrans", "TcpExt:TCPTimeouts")


def linux_counters():
    """This network namespace's TCP counters named in COUNTERS."""
    out = {}
    for path in ("/proc/net/snmp", "/proc/net/netstat"):
        with open(path) as f:
            lines = f.read().splitlines()
        for names, vals in zip(lines[0::2], lines[1::2]):
            proto = names.split(":", 1)[0]
            for k, v in zip(names.split()[1:], vals.split()[1:]):
                key = "%s:%s" % (proto, k)
                if key in COUNTERS:
                    out[key] = int(v)
    return out


class Conn:
    """One connection: connecting, then waiting for the guest's FIN."""

    def __init__(self, dst, port):
        self.t0 = time.monotonic()
        self.s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.s.setblocking(False)
        self.connected = False
        err = self.s.connect_ex((dst, port))
        if err not in (0, errno.EINPROGRESS):
            self.s.close()
            raise OSError(err, "connect: " + errno.errorcode.get(err, str(err)))

    def step(self):
        """Called when the socket is ready: True once the guest closed
        (EOF), raises OSError on a refused or reset connection."""
        if not self.connected:
            err = self.s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                raise OSError(err, "connect: " + errno.errorcode.get(err, str(err)))
            self.connected = True
            self.s.send(b"x")
            self.s.shutdown(socket.SHUT_WR)
            return False
        try:
            return self.s.recv(64) == b""
        except BlockingIOError:
            return False


def run(a):
    end = time.monotonic() + a.deadline
    sel = selectors.DefaultSelector()
    started = ok = 0
    errors, times = [], []
    c0 = linux_counters()
    t_first = time.monotonic()
    while (ok + len(errors) < a.count and time.monotonic() < end
           and len(errors) <= 5):
        while started < a.count and len(sel.get_map()) < a.conc:
            started += 1
            try:
                c = Conn(a.dst, a.port)
            except OSError as e:
                errors.append(str(e))
                continue
            sel.register(c.s, selectors.EVENT_WRITE, c)
        for key, _ in sel.select(timeout=0.5):
            c = key.data
            try:
                done = c.step()
            except OSError as e:
                done = True
                if a.wait and ok == 0 and e.errno == errno.ECONNREFUSED:
                    started -= 1        # not listening yet: again, later
                    time.sleep(0.05)
                    t_first = time.monotonic()
                else:
                    errors.append(str(e))
            else:
                if done:
                    ok += 1
                    times.append(time.monotonic() - c.t0)
                else:
                    sel.modify(c.s, selectors.EVENT_READ, c)
            if done:
                sel.unregister(c.s)
                c.s.close()
    secs = time.monotonic() - t_first
    for key in list(sel.get_map().values()):
        key.fileobj.close()
    c1 = linux_counters()
    times.sort()
    ms = [round(1000 * t, 1) for t in times]
    pick = lambda q: ms[min(len(ms) - 1, int(q * len(ms)))] if ms else None
    return {"ok": ok, "errors": errors[:5], "secs": round(secs, 3),
            "rate": round(ok / secs, 1) if secs > 0 else None,
            "conc": a.conc, "ms_median": pick(0.5), "ms_p99": pick(0.99),
            "ms_max": ms[-1] if ms else None,
            "over_900ms": sum(1 for t in ms if t > 900),
            "linux": {k.split(":")[1]: c1.get(k, 0) - c0.get(k, 0) for k in COUNTERS}}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dst", default="10.0.2.15")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--conc", type=int, default=32)
    p.add_argument("--deadline", type=float, default=300)
    p.add_argument("--wait", action="store_true",
                   help="until the first connection is served, a refused one "
                        "is tried again (the guest's listener is not up yet)")
    print(json.dumps(run(p.parse_args())), flush=True)


if __name__ == "__main__":
    main()
