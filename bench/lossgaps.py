#!/usr/bin/python3
"""bench/lossgaps.py: where does a guest -> Linux stream's time go, read
from the capture bench/lossdiag.py leaves (its --out/net.pcap).

Problem: at 2% loss a loss-based sender's goodput is bounded by its
round trip and the loss rate (about 1.22 x MSS / (RTT x sqrt(p)), Mathis
et al. 1997), and further by the time it spends with nothing to do:
retransmission timeouts, probe timeouts, ACKs that come late.  Counters
say how many of each happened, not how long they cost, nor whether a
timeout was needed.

Idea: tshark reads the rig's capture (every frame the e1000 saw, so the
guest's side of the path) and, per TCP stream in which the guest sent
the data: (1) every gap of 2 ms or more between consecutive frames,
classed by its length and by who ended it (>= 150 ms: a retransmission
timeout; 8-150 ms: a probe timeout; 2-8 ms: a late ACK from Linux, or a
late segment from the guest) and summed; (2) each timeout's first
retransmission and Linux's answer to it: an answer whose first SACK
block lies below its cumulative ACK and starts at the resent segment is
a D-SACK (RFC 2883) of it -- Linux had that segment already, the
timeout was spurious (a block that starts later only says the resend
overlapped data Linux had) -- and how many segments
the guest had sent since Linux's previous ACK; (3) the round trip seen
at the NIC: a new segment to the first ACK of its end (Linux's side),
and an ACK to the guest's next segment (the guest's side).

With --linux (the capture on Linux's veth, lossdiag.py --linux-pcap)
each timeout gets its cause from what Linux really received and sent:
"ack lost" (Linux answered the guest's last segments, and the path
dropped that answer), "data lost" (what the guest sent last never
reached Linux), or "linux silent" (it had them all and sent nothing).
Frames are matched across the two captures by their TCP header (ports,
seq, ack, length, timestamps, first SACK edge); the clocks differ.

Usage: bench/lossgaps.py /tmp/lossdiag/net.pcap [--ports 5201-5400]
                         [--linux /tmp/lossdiag/linux.pcap]
Output: one line per stream, and the totals.  Measured, never asserted.
Testing: a tool; the numbers it printed are in docs/tcp.md ("What
bounds guest -> Linux at 2%").
"""

import argparse
import statistics
import subprocess

GUEST = "10.0.2.15"


def fields(pcap, lo, hi, names):
    """The named tshark fields of every TCP packet with a port in [lo, hi),
    absolute sequence numbers: one list of strings per packet."""
    flt = ("tcp.srcport>=%d && tcp.srcport<%d || tcp.dstport>=%d && tcp.dstport<%d"
           % (lo, hi, lo, hi))
    argv = ["tshark", "-r", pcap, "-Y", flt, "-o", "tcp.relative_sequence_numbers:FALSE",
            "-T", "fields"]
    for n in names:
        argv += ["-e", n]
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    return [line.split("\t") for line in out.splitlines()]


def frames(pcap, lo, hi):
    """(time, from_guest, seq, ack, len, first SACK left edge, stream)."""
    rows = []
    for f in fields(pcap, lo, hi, ["frame.time_relative", "ip.src", "tcp.seq", "tcp.ack",
                                   "tcp.len", "tcp.options.sack_le", "tcp.stream"]):
        if len(f) < 7 or not f[4]:
            continue
        sack = int(f[5].split(",")[0]) if f[5] else None
        rows.append((float(f[0]), f[1] == GUEST, int(f[2]), int(f[3]), int(f[4]), sack, f[6]))
    return rows


def headers(pcap, lo, hi):
    """[(time, from_guest, header key, stream, guest's port)] for matching
    two captures (key: src, sport, seq, ack, len, TSval, TSecr, SACK, len)."""
    rows = []
    for f in fields(pcap, lo, hi, ["frame.time_relative", "ip.src", "tcp.srcport", "tcp.seq",
                                   "tcp.ack", "tcp.len", "tcp.options.timestamp.tsval",
                                   "tcp.options.timestamp.tsecr", "tcp.options.sack_le",
                                   "tcp.stream", "tcp.dstport"]):
        if len(f) < 11 or not f[5]:
            continue
        g = f[1] == GUEST
        rows.append((float(f[0]), g, tuple(f[1:9]) + (int(f[5]),), f[9], f[2] if g else f[10]))
    return rows


def _after(a, b):
    """Sequence number a after b (mod 2^32)."""
    return 0 < ((a - b) & 0xffffffff) < 0x80000000


def timeout_causes(guest, linux):
    """{cause: count} of the guest's timeouts, read from both captures:
    did Linux receive the resent segment's first byte before, and if so,
    did it send an ACK covering it that the guest never saw?"""
    at_linux = {}
    for i, r in enumerate(linux):
        at_linux.setdefault(r[2], i)
    at_guest = {r[2] for r in guest}
    causes = {"ack lost": 0, "data lost": 0, "linux silent": 0, "new data (writer idle)": 0,
              "unmatched": 0}
    streams = {}
    for r in guest:
        streams.setdefault(r[3], []).append(r)
    for rows in streams.values():
        top = None
        for i in range(1, len(rows)):
            r = rows[i]
            if not (r[1] and r[2][-1] > 0):
                continue
            end = (int(r[2][2]) + r[2][-1]) & 0xffffffff
            new = top is None or _after(end, top)
            top = end if new else top
            if r[0] - rows[i - 1][0] < 0.15:
                continue
            if new:
                causes["new data (writer idle)"] += 1
                continue
            b, seq, port = at_linux.get(r[2]), int(r[2][2]), r[4]
            if b is None:
                causes["unmatched"] += 1
                continue
            had = next((k for k in range(b) if linux[k][1] and linux[k][4] == port
                        and linux[k][2][-1] > 0 and not _after(int(linux[k][2][2]), seq)
                        and _after((int(linux[k][2][2]) + linux[k][2][-1]) & 0xffffffff, seq)),
                       None)
            if had is None:
                causes["data lost"] += 1
                continue
            acks = [q for q in linux[had + 1:b] if not q[1] and q[4] == port
                    and _after(int(q[2][3]), seq)]
            causes["ack lost" if acks and not any(q[2] in at_guest for q in acks)
                   else "linux silent"] += 1
    return causes


def gaps(rows):
    """{class: [count, seconds]} of the gaps of 2 ms or more."""
    cls = {"rto": [0, 0.0], "probe": [0, 0.0], "linux_late": [0, 0.0], "guest_late": [0, 0.0]}
    for a, b in zip(rows, rows[1:]):
        g = b[0] - a[0]
        if g < 0.002:
            continue
        k = ("rto" if g >= 0.15 else "probe" if g >= 0.008
             else "guest_late" if b[1] else "linux_late")
        cls[k][0] += 1
        cls[k][1] += g
    return cls


def timeouts(rows):
    """(spurious, genuine, [segments unacknowledged before each])."""
    spurious = genuine = 0
    unacked = []
    for i in range(1, len(rows)):
        r = rows[i]
        if not (r[1] and r[4] > 0 and r[0] - rows[i - 1][0] >= 0.15):
            continue
        answer = next((q for q in rows[i + 1:i + 20] if not q[1]), None)
        if answer is None:
            continue
        # a D-SACK (first block below the cumulative ACK) of the resent
        # segment's first byte: a block that starts later only says the
        # resend overlapped data Linux had (the hole was smaller)
        dsack = answer[5] is not None and ((answer[3] - answer[5]) & 0xffffffff) < 0x80000000 \
            and answer[5] != answer[3] and answer[5] == r[2]
        spurious += dsack
        genuine += not dsack
        j, n = i - 1, 0
        while j >= 0 and rows[j][1]:
            n += rows[j][4] > 0
            j -= 1
        unacked.append(n)
    return spurious, genuine, unacked


def round_trip(rows):
    """(Linux's side, the guest's side): lists of seconds."""
    sent, hi, linux, guest, last_ack = {}, None, [], [], None
    for t, g, seq, ack, ln, _, _ in rows:
        if g and ln > 0:
            end = (seq + ln) & 0xffffffff
            if hi is None or 0 < ((end - hi) & 0xffffffff) < 0x80000000:
                sent[end], hi = t, end
            if last_ack is not None:
                guest.append(t - last_ack)
                last_ack = None
        elif not g:
            if ack in sent:
                linux.append(t - sent.pop(ack))
            last_ack = t
    return linux, [x for x in guest if x < 0.1]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("pcap")
    p.add_argument("--ports", default="5201-5400", help="server ports of the streams")
    p.add_argument("--linux", help="the capture on Linux's side (lossdiag.py --linux-pcap)")
    a = p.parse_args()
    lo, hi = (int(x) for x in a.ports.split("-"))
    streams = {}
    for r in frames(a.pcap, lo, hi):
        streams.setdefault(r[6], []).append(r)
    tot = [0, 0, []]
    for st, rows in sorted(streams.items(), key=lambda kv: kv[1][0][0]):
        if sum(r[4] for r in rows if r[1]) <= sum(r[4] for r in rows if not r[1]):
            continue   # Linux -> guest, or no data
        dur = rows[-1][0] - rows[0][0]
        cls = gaps(rows)
        sp, ge, un = timeouts(rows)
        lin, gue = round_trip(rows)
        tot[0] += sp
        tot[1] += ge
        tot[2] += un
        print("stream %s, %.2f s: %s; timeouts %d spurious (D-SACK) %d genuine; RTT at the NIC: "
              "Linux mean %.3f ms (median %.3f), guest mean %.3f ms (median %.3f)"
              % (st, dur, ", ".join("%s %d = %.2f s (%.0f%%)" % (k, n, s, 100 * s / dur)
                                    for k, (n, s) in cls.items()),
                 sp, ge, 1e3 * statistics.mean(lin or [0]), 1e3 * statistics.median(lin or [0]),
                 1e3 * statistics.mean(gue or [0]), 1e3 * statistics.median(gue or [0])))
    print("timeouts: %d spurious, %d genuine; segments unacknowledged before each: %s"
          % (tot[0], tot[1], sorted(tot[2])))
    if a.linux:
        print("timeouts by cause (both captures): %s"
              % timeout_causes(headers(a.pcap, lo, hi), headers(a.linux, lo, hi)))


if __name__ == "__main__":
    main()
