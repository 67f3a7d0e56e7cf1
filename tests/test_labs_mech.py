"""Graded host tests of the five mechanism labs: ifq, pcq, reuseport,
rcvd, sostream (handouts: docs/labs/<lab>.md).

Each case runs one unit of the host build (tests/host/nettest NAME: the
kernel's net/ compiled for Linux with AddressSanitizer, run as an
ordinary user, no QEMU) and earns its points when the unit prints
"NAME: OK".  These are the tests that catch the mistakes each handout
warns about -- lost "run again" requests in the serializer, relaxed
orderings in the PCQ (on a weak-memory model: x86 cannot show them),
modulo picks and order-breaking removal in reuseport groups, the late
reply of the asynchronous PRU_RCVD, data lost or put back after a flush
in soreceive_stream -- and labs/mistakes/<lab>/*.patch proves that each
one loses its points (tools/labcheck.py check-mistakes).  The guest-side
tests of the same labs are in tests/test_tcp_mech.py and
tests/test_udp.py, and two here (ifq and pcq in a booted guest, QEMU
user networking only); the answers test of each lab is here too.
"""

import re
import subprocess

import pytest

import grading
import netkern
from grading import graded
from netrig import sysctl_int
import test_host_units

SLIRP = "user,id=net0,restrict=on"

# lab -> [(unit, points, title)]; the title is what the grade table shows.
UNITS = {
    "ifq": [
        ("ifq_start_from_inside_makes_owner_restart", 4,
         "a request made while the start routine runs makes the owner go round again"),
        ("ifq_busy_caller_returns_at_once", 4,
         "a CPU that finds the start routine busy returns at once; the owner sends its packet"),
        ("ifq_model_no_request_is_lost", 5,
         "4000 explored schedules of 3 producers: no packet is ever stranded"),
        ("ifq_serializer_never_strands_a_packet", 4,
         "many short rounds of 4 producers: nothing is left in the queue after any round"),
        ("ifq_serializer_lost_restart_window_widened", 2,
         "the same with debug.ifq.exit_spin widening the lost-restart window"),
        ("ifq_serializer_one_runner_nothing_stranded", 3,
         "4 producers + a restarter: one runner at a time, every packet once, in order"),
        ("ifq_barrier_stops_start_routine", 3,
         "after ifq_barrier the start routine never runs until the interface is up"),
        ("ifq_mode_switch_under_load_keeps_one_runner", 2,
         "flipping net.ifq.serializer under load keeps one runner and loses nothing"),
    ],
    "pcq": [
        ("pcq_full_at_capacity", 2,
         "a queue of 8 holds 8, refuses the 9th, wraps around 1000 times"),
        ("pcq_reserved_slot_reads_empty_until_published", 4,
         "a reserved, unpublished slot reads as empty and keeps FIFO order"),
        ("pcq_every_item_once_in_order_per_producer", 3,
         "4 producer threads x 50000 items: each item once, in order per producer"),
        ("pcq_largest_queue_spans_chunks", 1,
         "the largest queue spans page-sized chunks of slots"),
        ("pcq_model_small_queue_wraps", 5,
         "weak-memory model, queue of 2: the fill is visible, nothing lost or reordered"),
        ("pcq_model_items_in_flight", 5,
         "weak-memory model, queue of 4: the fill is visible, nothing lost or reordered"),
    ],
    "reuseport": [
        ("hash_threshold_pick_is_in_range", 2,
         "the pick is hash-threshold: (hash * n) >> 32"),
        ("localgroup_spreads_within_bounds", 3,
         "10000 flows over 4 members: each gets 80..120% of its share"),
        ("localgroup_same_tuple_same_member", 2,
         "the same 4-tuple always reaches the same member"),
        ("localgroup_leave_moves_few_flows", 5,
         "a member leaves: 2/3 or more of the other flows stay, the rest move one member over"),
        ("localgroup_member_close_keeps_the_rest", 2,
         "a closed member gets nothing; the others share its flows"),
        ("tcp_reuseport_listeners_share", 3,
         "4 TCP listeners with SO_REUSEPORT share 200 connections"),
        ("tcp_reuseport_close_resets_its_queue", 2,
         "a closing listener leaves the group first; its unaccepted queue is reset"),
    ],
    "rcvd": [
        ("tcp_rcvd_async_early_reply_keeps_update", 6,
         "a read while the handler runs: the window update goes at once (reply before tcp_output)"),
        ("tcp_rcvd_async_late_reply_loses_update", 2,
         "async_rcvd_reply_late=1 shows the lost update: only the persist timer unsticks it"),
        ("tcp_rcvd_async_close_in_flight", 4,
         "close(2) with the message in flight: the socket is freed only after the handler"),
        ("tcp_rcvd_sync_switch", 1,
         "async_rcvd=0: the synchronous request still updates the window"),
    ],
    "sostream": [
        ("soreceive_stream_efault_puts_back_in_order", 6,
         "EFAULT mid-read: the rest goes back in front, before data that arrived meanwhile"),
        ("soreceive_stream_flush_while_out", 5,
         "shutdown(SHUT_RD) while data is out: the rest is freed, not put back"),
        ("soreceive_stream_same_semantics_as_generic", 3,
         "PEEK, WAITALL, RCVLOWAT, EOF, reset: the same results as the generic path"),
    ],
}

# lab -> number of questions in docs/labs/answers-<lab>.txt.
QUESTIONS = {"ifq": 3, "pcq": 3, "reuseport": 3, "rcvd": 3, "sostream": 3}


def run_unit(name):
    b = test_host_units.build()
    assert b.returncode == 0, ("make tests/host/nettest failed:\n"
                               + b.stdout + b.stderr)
    r = subprocess.run([str(test_host_units.NETTEST), name],
                       capture_output=True, text=True, timeout=120)
    out = r.stdout + r.stderr
    assert re.search(r"^%s: OK$" % re.escape(name), r.stdout, re.M), out[-4000:]
    assert r.returncode == 0, out[-4000:]


def _make(lab, unit, points, title):
    @graded(points, lab=lab, limit=180)
    def test():
        run_unit(unit)
    test.__doc__ = title
    test.__name__ = "test_" + unit
    return test


def _make_answers(lab, n):
    @graded(2, lab=lab, limit=10)
    def test():
        problems = grading.check_answers(lab, n)
        assert not problems, "\n".join(problems)
    test.__doc__ = "docs/labs/answers-%s.txt answers the handout's %d questions" % (lab, n)
    test.__name__ = "test_%s_answers" % lab
    return test


for _lab, _units in UNITS.items():
    for _unit, _points, _title in _units:
        globals()["test_" + _unit] = _make(_lab, _unit, _points, _title)
    globals()["test_%s_answers" % _lab] = _make_answers(_lab, QUESTIONS[_lab])


def test_every_unit_exists():
    "every unit named above is a test of tests/host/nettest (not graded)"
    if test_host_units.build().returncode != 0:
        pytest.skip("the host build failed (test_host_units reports it)")
    names = set(test_host_units.unit_names())
    missing = [u for units in UNITS.values() for u, _, _ in units if u not in names]
    assert not missing, missing


def ifq_counters(g, name):
    return {k: sysctl_int(g, "net.ifq.%s.%s" % (name, k))
            for k in ("enqueued", "dequeued", "starts", "runs", "restarts")}


@graded(3, lab="ifq", limit=300)
def test_ifq_guest_nothing_stranded(boot):
    "in the guest, 2 harts, serializer on: TCP and ping over em0 and lo0; every queued packet reached the driver"
    g = boot(cpus=2, netdev=SLIRP)
    g.run("sysctl net.ifq.serializer=1")
    assert sysctl_int(g, "net.ifq.serializer") == 1
    out = g.run("nettests tcpechoem0 tcpecho pinggw pinglo", timeout=240)
    failed = [l for l in out.splitlines() if ": FAIL" in l]
    assert not failed and "ALL TESTS PASSED" in out, out[-3000:]
    for name in ("e1000.0", "lo0"):
        # Quiet now: whatever was queued went to the start routine. (A
        # close's last segments and timers may still be on their way when
        # nettests exits, and the counters are read one by one: read them
        # until they agree; a stranded packet never lets them.)
        c = {}

        def drained():
            c.update(ifq_counters(g, name))
            return c["enqueued"] == c["dequeued"]
        netkern.until(drained)
        print(name, c)
        assert c["enqueued"] > 0 and c["enqueued"] == c["dequeued"], (name, c)
        assert c["runs"] <= c["starts"] + c["restarts"], (name, c)


@graded(3, lab="pcq", limit=300)
def test_pcq_guest_udp_through_the_queue(boot):
    "in the guest: UDP datagrams go through the PCQ (fast_demux 1) and the socket buffer (0); a 600-slot queue works"
    g = boot(cpus=2, netdev=SLIRP)
    out = g.run("nettests udpfastdemux udppcqmax udpecho", timeout=240)
    failed = [l for l in out.splitlines() if ": FAIL" in l]
    assert not failed and "ALL TESTS PASSED" in out, out[-3000:]
    assert sysctl_int(g, "net.inet.udp.fastpath") >= 200
