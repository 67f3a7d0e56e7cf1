"""bench/rxbatch.py: guest instructions per e1000 frame received, at a
batch the bench chooses (used by bench/run.py, `--only icount` or
`--only rxbatch`).

Problem: what one received frame costs depends on how many frames one
interrupt takes: the interrupt's entry and exit, the netisr's wake-up and
its way back to idle are paid once per batch. When Linux streams frames at
the guest (icount.py's rxcount under a blast, rxbench.py's paced runs), the
batch is whatever the host's real-time pace against the guest's virtual
time made it, and the figure moved with the host's load (13% between three
runs, interrupts per frame 0.036-0.057).

How: the batch is made, not hoped for. A CPUS=1 guest under
`-icount shift=0,sleep=off` on the rig's tap holds its receive ring
(dev.e1000.0.rx_hold=1, drivers/e1000_hold.c); Linux sends exactly N
frames of 60 bytes of an ethertype nothing handles (tests/netrig_ns.py
frames; then the same with 1514-byte frames, batch 1 and 240: a frame
above the copybreak goes up in its cluster and a fresh one takes its
place in the ring) and the bench waits until all N sit in the ring
(dev.e1000.0.rx_waiting == N). Then `netbench rxrelease -n N -B K`
releases them K at a time (one interrupt takes each batch: rx_release=K)
and reads the guest's clock and kern.idle_ns around all of it; the frames
are in the guest before the count starts, so nothing of the host's pace is
in it. `netbench rxrelease -b 1` runs the same loop releasing nothing (the
baseline: its writes, sleeps, reads and the clock tick). Per frame at
batch K = (busy - baseline busy) / N, busy = elapsed - idle (one ns is one
instruction). K = 1 is a frame alone (one interrupt per frame: the netisr
wakes up for it and the hart goes idle after it); K = N is one interrupt
for all of them. Interrupts per frame (dev.e1000.0.intr) are reported
beside each: 1.00 and 1/N if the batches were what they should be.
The loop sleeps to the next clock tick, so the run and its baseline may
differ by a tick or so of elapsed time: as in icount.py, the tick's share
(icount.tick_rate x elapsed) comes off both (`raw_per` in the JSON is the
figure without it).
"""

import icount

N = 240                 # frames per run: fits the ring (255 free descriptors)
BATCHES = (1, 16, N)    # 60-byte frames (copied into a small mbuf)
BATCHES_1514 = (1, N)   # full-size frames (handed up in their cluster)
WAITING = "dev.e1000.0.rx_waiting"


class RxBatch:
    def __init__(self, bench):
        self.b = bench

    def release(self, g, batch, base):
        out = g.run("netbench rxrelease -n %d -B %d%s" % (N, batch, " -b 1" if base else ""),
                    timeout=600)
        return self.b.netbench(out, "rxrelease")

    def fill(self, g, size):
        """N frames from Linux into the held ring; all of them waiting."""
        nr = self.b.nr
        if nr.sysctl_int(g, WAITING) != 0:
            raise RuntimeError("ring not empty before the frames were sent")
        sent = self.b.rig.frames(N, size)
        w = nr.wait_sysctl(g, WAITING, lambda v: v >= N, timeout=120)
        if sent["sent"] != N or w != N:
            raise RuntimeError("%d frames waiting in the ring, expected %d (sender %s)"
                               % (w, N, sent))

    def one(self, g, batch, rate, size=60):
        base = self.release(g, batch, True)
        self.fill(g, size)
        r = self.release(g, batch, False)
        left = self.b.nr.sysctl_int(g, WAITING)
        if r["frames"] != N or left != 0 or base["frames"] != 0:
            raise RuntimeError("batch %d: %d frames delivered, %d left in the ring, "
                               "baseline %d" % (batch, r["frames"], left, base["frames"]))
        return {"batch": batch, "size": size, "frames": r["frames"], "intr": r["intr"],
                "intr_per_frame": round(r["intr"] / r["frames"], 4),
                "busy_ns": r["busy_ns"], "base_busy_ns": base["busy_ns"],
                "elapsed_ns": r["elapsed_ns"], "base_elapsed_ns": base["elapsed_ns"],
                "raw_per": round((r["busy_ns"] - base["busy_ns"]) / r["frames"]),
                "insn_per_frame": round((r["busy_ns"] - rate * r["elapsed_ns"] -
                                         base["busy_ns"] + rate * base["elapsed_ns"])
                                        / r["frames"])}

    def run(self):
        g = icount.IcountBench(self.b).guest(1, rig=True)
        res = {"command": "qemu -smp 1 -icount shift=0,sleep=off (tap); sysctl "
                          "dev.e1000.0.rx_hold=1; Linux sends %d frames of 60 B "
                          "(and of 1514 B); "
                          "netbench rxrelease -n %d -B batch (and -b 1)" % (N, N)}
        try:
            g.run("sysctl dev.e1000.0.rx_hold=1")
            rate = icount.tick_rate(self.b, g)
            res["tick_insn_per_ms"] = round(rate * 1e6)
            for batch in BATCHES:
                res["b%d" % batch] = self.one(g, batch, rate)
            for batch in BATCHES_1514:
                res["s1514_b%d" % batch] = self.one(g, batch, rate, 1514)
            g.run("sysctl dev.e1000.0.rx_hold=0")
        finally:
            g.close()
        return res


def table_rows(f, row, err):
    """Rows for run.py's table, under figure 6."""
    if "icount_rxbatch" not in f:
        return
    if err("   e1000 frame received, batch 1", "icount_rxbatch"):
        return
    d = f["icount_rxbatch"]
    runs = [("b%d" % b, 60, b) for b in BATCHES] + \
        [("s1514_b%d" % b, 1514, b) for b in BATCHES_1514]
    for key, size, b in runs:
        r = d.get(key)
        if not r:
            continue
        name = ("alone (batch 1)" if b == 1 else "%d per interrupt" % b)
        row("   e1000 frame received%s, %s" % ("" if size == 60 else ", %d B" % size, name),
            "%d" % r["insn_per_frame"],
            "%d B, %.4f intr/frame, %d frames held then released %d at a time "
            "(rx_hold, netbench rxrelease)" % (size, r["intr_per_frame"], r["frames"], b))
