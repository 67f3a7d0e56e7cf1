"""mkcorpus.py: write the seed corpus of the TCP fuzzer (fuzz_tcp.c).

One file per (state, scenario): a state byte, then segments, each a
control byte, a 2-byte length and a TCP segment.  The control byte used
here fixes the ports (1), makes SEQ relative to RCV.NXT (2) and ACK
relative to SND.UNA (4), so the seeds are accepted segments that reach
deep code; the fuzzer mutates from there.  Run from the tree's top:
/usr/bin/python3 tests/fuzz/mkcorpus.py (rewrites the seeds in
tests/fuzz/corpus/; the found_* files are inputs a longer fuzzing run
added, merged with -merge=1 so that each adds coverage, and are kept).
"""

import os
import struct

STATES = ["listen", "syncache", "cookie", "synsent", "synrcvd", "estab",
          "inflight", "ooo", "finwait1", "finwait2", "closewait", "closing",
          "lastack", "timewait"]
FIN, SYN, RST, PSH, ACK = 1, 2, 4, 8, 16
REL = 1 | 2 | 4

MSS = bytes([2, 4, 5, 0xb4])
WS = bytes([1, 3, 3, 7])
SACKOK = bytes([4, 2, 1, 1])
TS = bytes([1, 1, 8, 10]) + struct.pack("!II", 12345, 0)
SACK = bytes([1, 1, 5, 10]) + struct.pack("!II", 100, 200)


def seg(flags, seq=0, ack=0, opts=b"", data=b"", win=8192):
    off = (20 + len(opts)) // 4
    h = struct.pack("!HHIIBBHHH", 1, 2, seq & 0xffffffff, ack & 0xffffffff,
                    off << 4, flags, win, 0, 0)
    return h + opts + data


def item(ctl, s):
    return bytes([ctl]) + struct.pack("!H", len(s)) + s


def main():
    d = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        if not f.startswith("found_"):   # inputs the fuzzer found stay
            os.unlink(os.path.join(d, f))
    scen = {
        "ack": [item(REL, seg(ACK))],
        "ack1": [item(REL, seg(ACK, ack=1, data=b"q" * 10))],
        "data": [item(REL, seg(ACK | PSH, data=b"x" * 100))],
        "data_ooo": [item(REL, seg(ACK, seq=500, data=b"y" * 300)),
                     item(REL, seg(ACK, data=b"z" * 500))],
        "fin": [item(REL, seg(ACK | FIN))],
        "rst": [item(REL, seg(RST))],
        "rst_inwin": [item(REL, seg(RST, seq=10))],
        "syn": [item(REL, seg(SYN, opts=MSS + WS + SACKOK + TS))],
        "synack": [item(REL, seg(SYN | ACK, opts=MSS + TS))],
        "dupacks": [item(REL, seg(ACK)), item(REL, seg(ACK)),
                    item(REL, seg(ACK)), item(REL, seg(ACK, ack=1460))],
        "sack": [item(REL, seg(ACK, opts=SACK))],
        "opts_bad": [item(REL, seg(ACK, opts=bytes([2, 40, 0, 0, 8, 1, 0, 0])))],
        "ack_timers": [item(REL | 0xe0, seg(ACK, win=0)), item(REL | 0xe0, seg(ACK))],
    }
    for i, st in enumerate(STATES):
        for name, items in scen.items():
            with open(os.path.join(d, "%s_%s" % (st, name)), "wb") as f:
                f.write(bytes([i]) + b"".join(items))
        # RFC 7323 on (top bit): the same data segment with a timestamp
        with open(os.path.join(d, "%s_ts_data" % st), "wb") as f:
            f.write(bytes([0x80 | i]) + item(REL, seg(ACK | PSH, opts=TS, data=b"t" * 50)))


if __name__ == "__main__":
    main()
