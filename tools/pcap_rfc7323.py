#!/usr/bin/env python3
"""tools/pcap_rfc7323.py: make docs/pcap/rfc7323.pcap, the capture that
docs/tcp.md shows (window scale and timestamps on the wire).

Boots a guest on a tap in a network namespace of its own (tests/netrig.py,
needs root), runs `nc -d -l -b 1048576 -p 5001 > /rx` in it, and lets
Linux (tests/tcppeer.py) connect, send 6000 bytes and close. The e1000's
capture is cut down to the TCP segments of that connection with tshark.
What it shows: Linux's SYN (MSS, SACK-permitted, timestamps, window scale
7), the guest's SYN,ACK (MSS, timestamps echoing Linux's TSval, window
scale 5: the smallest shift that fits 1 MB; SACK-permitted), and timestamps on every later
segment, both ways, with the scaled windows.

Usage: sudo tools/pcap_rfc7323.py [out.pcap]   (after make)
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
import netkern                  # noqa: E402
import netrig                   # noqa: E402


def main(argv):
    out = Path(argv[0]) if argv else ROOT / "docs" / "pcap" / "rfc7323.pcap"
    work = Path(tempfile.mkdtemp(prefix="nkpcap-"))
    rig = netrig.NetRig(work)
    g = None
    try:
        rig.setup()
        fs = netkern.copy_fsimg(work, "fs.img")
        g = netkern.Guest(fs, cpus=2, argv=rig.qemu_argv(fs, 2), name="pcap")
        g.boot(timeout=120)
        g.sendline("nc -d -l -b 1048576 -p 5001 > /rx")
        peer = [sys.executable, str(ROOT / "tests" / "tcppeer.py"), "send",
                "--port", "5001", "--bytes", "6000", "--seed", "1",
                "--deadline", "60"]
        r = subprocess.run(rig.ns_argv(peer), capture_output=True, text=True,
                           timeout=90)
        res = json.loads(r.stdout.strip().splitlines()[-1])
        assert res.get("sent") == 6000 and res.get("eof"), res
        g.wait_prompt(timeout=60)
        g.close()                   # the capture is complete
        g = None
        out.parent.mkdir(parents=True, exist_ok=True)
        # The connection the guest accepted (tcppeer retries while nc is
        # still starting: earlier attempts were refused).
        r = subprocess.run(["tshark", "-n", "-r", rig.pcap, "-Y",
                            "tcp.flags.syn == 1 && tcp.flags.ack == 1 && "
                            "ip.src == 10.0.2.15", "-T", "fields", "-e",
                            "tcp.stream"], capture_output=True, text=True,
                           check=True, timeout=120)
        stream = r.stdout.split()[-1]
        subprocess.run(["tshark", "-n", "-r", rig.pcap, "-Y",
                        "tcp.stream == %s" % stream, "-w", str(out)],
                       check=True, timeout=120)
        print("wrote %s" % out)
    finally:
        if g is not None:
            g.close()
        rig.close()


if __name__ == "__main__":
    main(sys.argv[1:])
