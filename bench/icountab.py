#!/usr/bin/python3
"""bench/icountab.py: busy guest instructions per 1460 B of TCP over the
e1000 (guest -> Linux, or Linux -> guest with --dir l2g), with guest
commands (a sysctl switch) flipped between runs of ONE -icount boot.

Problem: `bench/run.py --only icounttcp` boots once per figure; a switch
compared across two boots also compares two connections' histories.
Idea: icount.py's guest -> Linux run (CPUS=1, -icount shift=0,sleep=off,
Linux ACKing every segment: quickack, or not: --no-quickack), or with
--dir l2g its Linux -> guest run (Linux's ns-tcpsend for --secs seconds
into `tcpstream -s`, the row "TCP per 1460 B, Linux -> guest"), repeated
for each --set command in turn, --rounds times, in one boot; each figure
is icount.py's: (elapsed - idle - clock tick) x 1460 / bytes.

  bench/icountab.py --set 'sysctl net.inet.tcp.ack_fast=0' \
                    --set 'sysctl net.inet.tcp.ack_fast=1' --rounds 2
  bench/icountab.py --dir l2g --set 'sysctl net.inet.tcp.lro=0' \
                    --set 'sysctl net.inet.tcp.lro=1' --rounds 3

Root only (network namespaces).
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run      # noqa: E402
import icount   # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--set", action="append", default=[],
                   help="guest command before a run (repeatable; the runs cycle through them)")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--key", action="append", default=[],
                   help="another guest sysctl (a number) to report per 1460 B (repeatable)")
    p.add_argument("--dir", choices=("g2l", "l2g"), default="g2l",
                   help="g2l: the guest sends (default); l2g: Linux sends, the guest receives")
    p.add_argument("--secs", type=int, default=2,
                   help="l2g: seconds Linux sends for (icounttcp: 2)")
    p.add_argument("--no-quickack", action="store_true",
                   help="let Linux ACK as it likes (default: quickack, as icounttcp)")
    a = p.parse_args()
    sets = a.set or [""]
    b = run.Bench(argparse.Namespace(cpus=1, secs=2, only="icountab", lockcheck=False))
    ic = icount.IcountBench(b)
    ic.detail = {}
    if a.key:
        keys = a.key
        base_counters = ic.counters
        base_per_mss = ic.per_mss

        def counters(g):
            c = base_counters(g)
            c.update(b.nr.sysctl_tree(g, " ".join(keys)))
            return c

        def per_mss(c0, c1, nbytes):
            d = base_per_mss(c0, c1, nbytes)
            d.update({k: round((c1[k] - c0[k]) * icount.MSS / nbytes, 3)
                      for k in keys if k in c0 and k in c1 and nbytes})
            return d
        ic.counters, ic.per_mss = counters, per_mss
    quick = ["ip", "route", "replace", icount.GUEST + "/32", "dev", None, "quickack", "1"]
    try:
        b.setup_rig()
        if b.rig is None:
            raise SystemExit("icountab: " + "; ".join(b.notes))
        g = ic.guest(1, rig=True)
        try:
            if not a.no_quickack:
                quick[5] = b.rig.tap
                b.rig.ns_run(quick)
            g.run("sysctl net.inet.tcp.rto_min_ms=60000")
            rate = icount.tick_rate(b, g)
            for r in range(a.rounds):
                for s in sets:
                    if s:
                        g.run(s)
                    if a.dir == "l2g":
                        v = ic.l2g(g, a.secs, rate, "x")
                    else:
                        v = ic.g2l(g, 2, rate, "x")
                    d = ic.detail["x"]
                    print("round %d  %-50s %8s insn/1460B  per MSS %s" %
                          (r, s or "(none)", v, d.get("per_mss")), flush=True)
        finally:
            g.close()
            b.rig.ns_run(["ip", "route", "del", icount.GUEST + "/32"], check=False)
    finally:
        b.close()


if __name__ == "__main__":
    main()
