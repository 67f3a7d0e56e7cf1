"""The in-guest network test program (user/nettests.c) on slirp.

nettests checks the socket layer from inside the guest: bad input to every
socket call, raw ICMP to lo0, the guest's own address and the slirp gateway
(10.0.2.2 answers echo even with restrict=on), poll, interface ioctls, the
network tools, and that mbufs return to their baseline.
"""
import re

import pytest


NETDEV = "user,id=net0,restrict=on"


def check_all_ok(out):
    failed = [l for l in out.splitlines() if ": FAIL" in l]
    assert not failed, "failing nettests:\n" + "\n".join(failed)
    assert "ALL TESTS PASSED" in out, out[-2000:]
    assert re.search(r"^mbufs: OK", out, re.M), out[-2000:]


def test_nettests_all_pass_with_2_cpus(boot):
    g = boot(cpus=2, netdev=NETDEV)
    check_all_ok(g.run("nettests", timeout=300))


@pytest.mark.parametrize("cpus", [1, 4], ids=lambda c: "cpus=%d" % c)
def test_nettests_quick_passes(boot, cpus):
    g = boot(cpus=cpus, netdev=NETDEV)
    check_all_ok(g.run("nettests -q", timeout=300))


def test_ping_tool_reaches_gateway_loopback_and_self(boot):
    g = boot(cpus=2, netdev=NETDEV)
    for addr in ("10.0.2.2", "127.0.0.1", "10.0.2.15"):
        # -W 20: late replies (a loaded host) still count; ping ends when all are in
        out = g.run(f"ping -c 3 -i 0.1 -W 20 {addr}", timeout=60)
        assert "3 packets transmitted, 3 received, 0% packet loss" in out, out
        assert re.search(r"rtt min/avg/max = [\d.]+/[\d.]+/[\d.]+ ms", out), out


@pytest.mark.parametrize("cpus", [2, 4], ids=lambda c: "cpus=%d" % c)
def test_ifflap_two_togglers_and_a_sender_no_panic(boot, cpus):
    "two processes toggle em0 up/down while a third sends: no panic, em0 sane"
    g = boot(cpus=cpus, netdev=NETDEV)
    out = g.run("nettests ifflap", timeout=120)   # a panic raises here
    check_all_ok(out)
    assert g.run("echo alive") == "alive\n"
