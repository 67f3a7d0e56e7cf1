"""bench/taploss.py, the loss of `make bench`'s 2% rows, itself.

The rows are only worth something if the loss is real both ways and
nothing else: Linux's TCP must send a segment and the guest never see
it (a BPF filter on QEMU's tap file, after Linux's qdisc), the guest's
frames must be dropped before Linux's TCP (nftables at prerouting), only
IPv4 TCP may be touched, and set_loss(0) must give back the clean tap.

1. At 100%: ICMP still passes both ways (Linux pings the guest), while
   a TCP connect from Linux to the guest's echo server times out, every
   SYN counted as dropped at the tap.
2. At 5%: a 2 s Linux -> guest stream sees drops both ways, Linux
   retransmits (its TcpRetransSegs) and the guest queues segments out of
   order; the byte count Linux reports equals what the guest's
   tcpstream -s received (so the stream completed through the loss).
3. Back at 0%: 200 echo round trips, one message in flight at a time,
   and no frame dropped, no retransmission.
"""

import json
import os
import re
import sys
import time

from netrig import GUEST_IP, netguest, sysctl_int

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bench"))
from taploss import TapLoss, bpf_drop_tcp   # noqa: E402
from tcpbench import start_server           # noqa: E402

__all__ = ["netguest"]

RUN_PY = os.path.join(ROOT, "bench", "run.py")


def linux_retrans(rig):
    r = rig.ns_run(["nstat", "-az", "--json"])
    return json.loads(r.stdout)["kernel"].get("TcpRetransSegs", 0)


def tcpsend(rig, port, secs):
    r = rig.ns_run([sys.executable, RUN_PY, "ns-tcpsend", "--dst", GUEST_IP,
                    "--port", str(port), "--secs", str(secs)],
                   timeout=secs + 90)
    return json.loads(r.stdout.strip().splitlines()[-1])


def served_bytes(g):
    """The byte count of the "served" line of tcpbench.start_server's
    tcpstream -s (printed once the connection is closed, so it may come a
    moment after Linux's end)."""
    for _ in range(50):
        m = re.search(r"served recv bytes=(\d+)", g.read_file("/tcps.txt"))
        if m:
            return int(m.group(1))
        time.sleep(0.2)
    raise AssertionError("no served line in " + g.read_file("/tcps.txt"))


def echo_rounds(rig, n):
    """n messages to the guest's echo service (inetd, port 7), each sent
    once the previous one has come back; how many came back intact."""
    code = ("import socket\n"
            "s = socket.create_connection(('%s', 7), timeout=10)\n"
            "ok = 0\n"
            "for i in range(%d):\n"
            "    m = b'%%08d' %% i\n"
            "    s.sendall(m)\n"
            "    r = b''\n"
            "    while len(r) < len(m):\n"
            "        r += s.recv(len(m) - len(r))\n"
            "    ok += r == m\n"
            "print(ok)\n" % (GUEST_IP, n))
    return int(rig.ns_run([sys.executable, "-c", code], timeout=120).stdout)


def test_bpf_program_shape():
    """The program passes what it does not drop whole, and its threshold
    is pct% of 2^32 (0% drops nothing, 100% everything TCP)."""
    p = bpf_drop_tcp(2)
    assert p[-1] == (0x06, 0, 0, 0xffffffff) and p[-2] == (0x06, 0, 0, 0)
    assert p[5][3] == round(0.02 * 2 ** 32)
    assert bpf_drop_tcp(100)[5][3] == 0xffffffff
    # every jump lands inside the program
    for i, (code, jt, jf, k) in enumerate(p):
        if code & 0x07 == 0x05:
            assert i + 1 + jt < len(p) and i + 1 + jf < len(p)


def test_taploss_all_tcp_lost_icmp_passes(netguest):
    rig, g = netguest(cpus=1)
    with TapLoss(rig, 100) as lp:
        c0 = lp.counters()
        r = rig.ping(GUEST_IP, count=5, wait=2)
        assert r["received"] == 5, r
        code = ("import socket,sys\n"
                "try:\n"
                "    socket.create_connection(('%s', 7), timeout=3)\n"
                "    print('connected')\n"
                "except OSError as e:\n"
                "    print('failed', type(e).__name__)\n" % GUEST_IP)
        out = rig.ns_run([sys.executable, "-c", code], timeout=30).stdout
        assert out.startswith("failed"), out
        c1 = lp.counters()
        assert c1["to_guest_drop"] - c0["to_guest_drop"] >= 1, (c0, c1)
        # the guest saw no SYN, so sent no TCP at all
        assert c1["from_guest"] == c0["from_guest"], (c0, c1)
    # the filter is gone with the TapLoss: echo answers again
    assert echo_rounds(rig, 3) == 3


def test_taploss_real_loss_both_ways_then_clean(netguest):
    rig, g = netguest(cpus=2)
    with TapLoss(rig, 5) as lp:
        port = 5301
        start_server(g, "-p %d" % port)
        ooo0 = sysctl_int(g, "net.inet.tcp.rcvoopack")
        re0, c0 = linux_retrans(rig), lp.counters()
        sent = tcpsend(rig, port, 2)["bytes"]
        re1, c1 = linux_retrans(rig), lp.counters()
        assert served_bytes(g) == sent
        drops = {k: c1[k] - c0[k] for k in c1}
        assert drops["to_guest_drop"] > 0 and drops["from_guest_drop"] > 0, drops
        # about 5% of Linux's frames (a wide band: the count is random)
        assert 0.02 < drops["to_guest_drop"] / drops["to_guest"] < 0.10, drops
        assert re1 - re0 >= drops["to_guest_drop"] * 0.5, (re1 - re0, drops)
        assert sysctl_int(g, "net.inet.tcp.rcvoopack") > ooo0

        lp.set_loss(0)
        # one message in flight at a time, so nothing can overflow the
        # tap's queue (its tx_dropped counts that too): any drop now is
        # the filter's or the rule's
        c2, re2 = lp.counters(), linux_retrans(rig)
        assert echo_rounds(rig, 200) == 200
        c3, re3 = lp.counters(), linux_retrans(rig)
        assert c3["to_guest_drop"] == c2["to_guest_drop"], (c2, c3)
        assert c3["from_guest_drop"] == c2["from_guest_drop"], (c2, c3)
        assert c3["to_guest"] - c2["to_guest"] >= 200, (c2, c3)
        assert re3 == re2
