"""What a hostile host on the wire can do to the guest, tested from Linux.

Every test boots its own guest on a tap in a fresh network namespace (see
netrig.py: Linux 10.0.2.2, guest 10.0.2.15).  The Linux side runs
hostile.py inside the namespace: hand-built frames on an AF_PACKET socket
(Linux's stack neither checks nor answers them), or Linux's own UDP socket
where Linux's fragmentation is wanted.

  - a source address that is a broadcast (RFC 1122 3.2.1.3, 3.2.2): no
    echo reply, no ICMP error, counted in net.inet.ip.bcastsrc.

Figures are printed (pytest -s shows them), never timed.  Waits poll a
bounded number of times.
"""

import json
import os
import re
import sys

import pytest

from grading import graded
from netrig import GUEST_IP, netguest, sysctl_int, sysctl_tree, wait_sysctl

__all__ = ["netguest"]          # the fixture, imported for pytest

LAB = "net"
PAGE = 4096
HOSTILE = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                       "hostile.py")
# Pages the kernel may use for itself while the test runs commands (the
# shell's children, a few slabs left partly used): "back to baseline"
# means within this many pages.
SLACK_PAGES = 8


def hostile(rig, args, timeout=300):
    r = rig.ns_run([sys.executable or "/usr/bin/python3", HOSTILE] + args,
                   timeout=timeout)
    return json.loads(r.stdout.strip().splitlines()[-1])


def ping_ok(rig, tries=3):
    r = None
    for _ in range(tries):
        r = rig.ping(GUEST_IP, count=1, wait=2)
        if r["received"] == 1:
            return True
    return False


def pages_free(g):
    return sysctl_int(g, "vm.pages_free")


def pages_back(g, base, tries=20, delay=1.0):
    """vm.pages_free, read until it is back within SLACK_PAGES of base."""
    return wait_sysctl(g, "vm.pages_free", lambda v: v >= base - SLACK_PAGES,
                       tries, delay)


def start_udphold(g, port):
    line = g.run("udphold %d > /uh.txt &" % port)
    m = re.search(r"\[(\d+)\]", line)
    assert m, "udphold &: no [pid]: %r" % line
    for _ in range(40):
        if "udphold: port %d" % port in g.read_file("/uh.txt"):
            return int(m.group(1))
    raise AssertionError("udphold did not start: %r" % g.read_file("/uh.txt"))


# ---- RFC 1122 3.2.1.3: a broadcast source is not a host --------------------

@graded(3, lab=LAB)
def test_broadcast_source_gets_no_reply_and_no_icmp_error(netguest):
    "echo and UDP from 10.0.2.255: no reply, no ICMP error, counted"
    rig, g = netguest(cpus=2)
    assert ping_ok(rig)
    # Control: the same frames from the peer's real address are answered
    # (so the listener below does see the guest's answers).
    ok = hostile(rig, ["bcastsrc", "--iface", rig.tap, "--src", "10.0.2.2"])
    assert ok["echo_replies"] >= 1 and ok["icmp_errors"] >= 1, ok
    before = sysctl_tree(g, "net.inet")
    got = hostile(rig, ["bcastsrc", "--iface", rig.tap, "--src",
                        "10.0.2.255"])
    after = sysctl_tree(g, "net.inet")
    print("from 10.0.2.255: %s" % got)
    assert got["echo_replies"] == 0 and got["icmp_errors"] == 0, (
        "the guest answered a packet from the subnet broadcast address "
        "(RFC 1122 3.2.1.3 / 3.2.2): %s" % got)
    grown = after["net.inet.ip.bcastsrc"] - before["net.inet.ip.bcastsrc"]
    assert grown == 2, "net.inet.ip.bcastsrc grew by %d, not 2" % grown
    assert after["net.inet.icmp.errors_sent"] == \
        before["net.inet.icmp.errors_sent"]
    assert ping_ok(rig)
