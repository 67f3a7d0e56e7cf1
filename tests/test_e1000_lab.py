"""Lab e1000 (docs/labs/e1000.md): the driver's receive and transmit rings.

Every test boots its own guest on QEMU's user networking (slirp,
restrict=on: nothing leaves the machine, no root needed) and pings the
slirp gateway 10.0.2.2, which answers ICMP echo itself. A reply needs
both rings: the request goes out through e1000_encap (exercise 3) and the
reply comes in through e1000_rx_take (exercise 1) and, once the ring has
been used once round, the refill (exercise 2). The driver's counters
(sysctl dev.e1000.0) and the device's own (hw.rnbc: "receive no buffers")
say which part failed.
"""

import re

import pytest

from grading import check_answers, graded

LAB = "e1000"
SLIRP = "user,id=net0,restrict=on"
GW = "10.0.2.2"
RING = 256          # E1000_NRXDESC / E1000_NTXDESC


def ping(g, count, size=56, interval=0.1, timeout=120):
    # -W 20: a reply counts if it comes within 20 s of the last request
    # (ping ends as soon as all are in; a loaded host delays some by seconds)
    out = g.run("ping -c %d -i %s -W 20 -s %d %s" % (count, interval, size, GW),
                timeout=timeout)
    m = re.search(r"(\d+) packets transmitted, (\d+) received", out)
    assert m, "ping printed no statistics:\n" + out[-1500:]
    return int(m.group(1)), int(m.group(2)), out


def counters(g):
    out = g.run("sysctl dev.e1000.0")
    vals = dict(re.findall(r"^dev\.e1000\.0\.([\w.]+)\s*[:=]\s*(-?\d+)\s*$", out,
                           re.M))
    assert "rx_packets" in vals, "no dev.e1000.0 counters:\n" + out
    return {k: int(v) for k, v in vals.items()}


@graded(4, lab=LAB, limit=120)
def test_small_and_large_frames_both_ways(boot):
    "ping the gateway with small (copied) and large (cluster) frames"
    g = boot(cpus=2, netdev=SLIRP)
    for size in (20, 1400):
        sent, got, out = ping(g, 3, size=size)
        assert (sent, got) == (3, 3), (
            "ping -s %d: %d of %d replies; the driver's counters: %s\n%s"
            % (size, got, sent, counters(g), out[-800:]))


@graded(5, lab=LAB, limit=240)
def test_rx_ring_is_refilled_round_and_round(boot):
    "700 pings of 500 bytes: the receive ring goes round almost three times, nothing lost"
    g = boot(cpus=2, netdev=SLIRP)
    before = counters(g)
    n = 700
    sent, got, out = ping(g, n, size=500, interval=0.01, timeout=200)
    after = counters(g)
    rx = after["rx_packets"] - before["rx_packets"]
    # Every reply must reach the driver (slirp drops nothing); ping itself
    # may miss a few on a busy machine when its raw socket's buffer is
    # full, which is not the driver's doing.
    assert rx >= n > 2 * RING and got > 0, (
        "%d of %d replies; frames received %d, device found no buffer %d "
        "times (hw.rnbc): is the ring given back (RDT)?\n%s"
        % (got, sent, rx, after.get("hw.rnbc", -1), out[-600:]))
    assert after.get("hw.rnbc", 0) == before.get("hw.rnbc", 0), after
    assert after["rx_drops"] == before["rx_drops"], after


@graded(3, lab=LAB, limit=120)
def test_fragmented_datagrams_out_and_back(boot):
    "ping -s 4000: a datagram in three fragments each way, reassembled"
    g = boot(cpus=2, netdev=SLIRP)
    sent, got, out = ping(g, 3, size=4000)
    assert (sent, got) == (3, 3), out[-800:]


@graded(3, lab=LAB, limit=120)
def test_counters_add_up_and_nothing_dropped(boot):
    "the driver's counters match the traffic: no drops, no errors"
    g = boot(cpus=2, netdev=SLIRP)
    before = counters(g)
    sent, got, _ = ping(g, 20, size=1000)
    assert got == 20
    after = counters(g)
    d = {k: after[k] - before.get(k, 0) for k in after}
    assert d["tx_packets"] >= 20 and d["rx_packets"] >= 20, d
    assert d["tx_bytes"] >= 20 * 1042 and d["rx_bytes"] >= 20 * 1042, d
    for k in ("rx_drops", "rx_errors", "tx_drops"):
        assert d[k] == 0, (k, d)


@graded(2, lab=LAB, limit=10)
def test_e1000_answers():
    "docs/labs/answers-e1000.txt answers every question"
    problems = check_answers(LAB, 3)
    assert not problems, "\n".join(problems)
