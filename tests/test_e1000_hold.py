"""The e1000 receive hold (drivers/e1000_hold.c): dev.e1000.0.rx_hold,
rx_release, rx_waiting, the knobs make bench uses to choose how many
frames one interrupt takes (bench/rxbatch.py).

Linux in the rig's namespace sends frames of ethertype 0x88b5, which the
guest counts in net.link.ether.unknown_type and drops.  While the ring is
held they must wait in it (rx_waiting counts them, nothing reaches the
stack); a release of K must hand exactly K of them up in one interrupt;
frames beyond the ring's 255 free descriptors wait in QEMU and the tap and
come in after; releasing the hold delivers every frame, none lost.  Waits
poll counters with a bound in time (netrig.wait_sysctl); nothing asserts
on time.
"""

from netrig import netguest, sysctl_int, sysctl_tree, wait_sysctl

__all__ = ["netguest"]          # the fixture, imported for pytest

E = "dev.e1000.0."
UNKNOWN = "net.link.ether.unknown_type"
RING = 255                      # E1000_NRXDESC - 1 descriptors the device owns


def qdrops(g):
    return sum(v for k, v in sysctl_tree(g, "net.netisr").items()
               if k.endswith(".qdrops"))


def test_rx_hold_knob_bounds(netguest):
    "rx_hold takes 0..1, rx_release 0..255, rx_waiting is read-only"
    rig, g = netguest(cpus=1)
    for knob, bad in (("rx_hold", (2, -1)), ("rx_release", (256, -1))):
        for v in bad:
            out = g.run("sysctl %s%s=%d" % (E, knob, v))
            assert "Invalid argument" in out, (knob, v, out)
    assert sysctl_int(g, E + "rx_hold") == 0
    g.run("sysctl %srx_hold=1" % E)
    assert sysctl_int(g, E + "rx_hold") == 1
    g.run("sysctl %srx_hold=0" % E)
    assert sysctl_int(g, E + "rx_hold") == 0
    # a release without a hold grants nothing
    g.run("sysctl %srx_release=5" % E)
    assert sysctl_int(g, E + "rx_release") == 0
    out = g.run("sysctl %srx_waiting=3" % E)
    assert sysctl_int(g, E + "rx_waiting") == 0, out


def test_held_frames_wait_then_all_arrive(netguest):
    "300 frames while held: 255 wait in the ring, a release of 10 takes "
    "exactly 10 in one interrupt, the end of the hold delivers all 300"
    rig, g = netguest(cpus=2)
    u0 = sysctl_int(g, UNKNOWN)
    d0 = sysctl_tree(g, "dev.e1000.0")
    q0 = qdrops(g)
    g.run("sysctl %srx_hold=1" % E)
    r = rig.frames(300)
    assert r["sent"] == 300 and r["tap_dropped"] == 0, r
    w = wait_sysctl(g, E + "rx_waiting", lambda v: v >= RING)
    assert w == RING, "the held ring should fill up: rx_waiting %d" % w
    assert sysctl_int(g, UNKNOWN) == u0, "a held frame reached the stack"
    assert sysctl_int(g, E + "rx_packets") == d0[E + "rx_packets"]

    i0 = sysctl_int(g, E + "intr")
    g.run("sysctl %srx_release=10" % E)
    u = wait_sysctl(g, UNKNOWN, lambda v: v >= u0 + 10)
    assert u == u0 + 10, "release of 10 delivered %d" % (u - u0)
    # the ring took 10 more from QEMU's queue and is full again, held
    w = wait_sysctl(g, E + "rx_waiting", lambda v: v >= RING)
    assert w == RING, w
    assert sysctl_int(g, UNKNOWN) == u0 + 10, "more than the grant came up"
    assert sysctl_int(g, E + "rx_release") == 0, "grant not used up"
    assert sysctl_int(g, E + "intr") - i0 == 1, "one interrupt for the 10"

    g.run("sysctl %srx_hold=0" % E)
    u = wait_sysctl(g, UNKNOWN, lambda v: v >= u0 + 300)
    assert u == u0 + 300, "after the hold: %d of 300 delivered" % (u - u0)
    assert sysctl_int(g, E + "rx_waiting") == 0
    d1 = sysctl_tree(g, "dev.e1000.0")
    for k in ("rx_drops", "rx_errors"):
        assert d1[E + k] == d0[E + k], k
    assert qdrops(g) == q0, "netisr queue drops"
    # not held any more: frames go straight up
    rig.frames(5)
    u = wait_sysctl(g, UNKNOWN, lambda v: v >= u0 + 305)
    assert u == u0 + 305, u - u0
    assert g.run("echo alive") == "alive\n"
