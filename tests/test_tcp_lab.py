"""Lab tcp (docs/labs/tcp.md): a receive state handler (the FIN), fast
retransmit and NewReno recovery.

Loss and reordering cannot be had on slirp without root, and timing must
never be asserted, so the congestion-control exercises are graded on the
host: net/ built for Linux against the shim (tests/host/), where a wire
with a virtual clock drops exactly the segment a test names
(grading.host_units). The close handshake is also checked for real: a
guest's TCP against itself over lo0 (nettests) and against the host's
Linux TCP through slirp's port forward (test_tcp.py
test_tcp_through_slirp_hostfwd, graded in this lab too). Nothing needs
root.
"""

import re

from grading import check_answers, check_host_units, graded

LAB = "tcp"
SLIRP = "user,id=net0,restrict=on"


def units(*names, timeout=60):
    check_host_units(*names, timeout=timeout)


@graded(5, lab=LAB, limit=300)
def test_fin_moves_every_closing_state_on():
    "a FIN in ESTABLISHED, FIN_WAIT_1/2 and TIME_WAIT: CLOSE_WAIT, CLOSING, TIME_WAIT, 2MSL restart"
    units("tcp_fin_close", "tcp_half_close", "tcp_simultaneous_close",
          "tcp_fin_retransmitted", "tcp_time_wait_reuse")


@graded(5, lab=LAB, limit=300)
def test_third_duplicate_ack_retransmits_at_once():
    "three duplicate ACKs: the lost segment resent before the timer, ssthresh halved"
    units("tcp_fast_retransmit_3dupacks")


@graded(5, lab=LAB, limit=300)
def test_partial_ack_stays_in_recovery():
    "NewReno: a partial ACK resends the next hole and stays in recovery"
    units("tcp_newreno_partial_ack")


@graded(3, lab=LAB, limit=300)
def test_every_tcp_state_and_timer_unit_passes():
    "the other TCP host tests: handshake, data, RST, reassembly, RTO, persist, keepalive"
    units("tcp_three_way_handshake", "tcp_data_both_ways",
          "tcp_rst_for_closed_port", "tcp_listen_backlog",
          "tcp_rto_backoff_karn", "tcp_rexmt_limit_etimedout",
          "tcp_reass_fills_hole", "tcp_reass_overlap",
          "tcp_zero_window_persist", "tcp_rst_in_window",
          "tcp_simultaneous_open", "tcp_delayed_ack", "tcp_nagle",
          "tcp_keepalive_drop", "tcp_cwnd_slow_start_then_avoidance")


@graded(4, lab=LAB, limit=300)
def test_guest_tcp_over_lo0_closes_cleanly(boot):
    "in the guest over lo0: echo, EOF, half-close, TIME_WAIT reuse, 100s of connections"
    g = boot(cpus=2, netdev=SLIRP)
    names = "tcpecho tcpeof tcphalfclose tcpreusetw tcpmany tcppcblist"
    out = g.run("nettests " + names, timeout=240)
    failed = [l for l in out.splitlines() if ": FAIL" in l]
    assert not failed, "failing nettests:\n" + "\n".join(failed)
    for n in names.split():
        assert re.search(r"^%s: OK" % n, out, re.M), (n, out[-2000:])


@graded(2, lab=LAB, limit=10)
def test_tcp_answers():
    "docs/labs/answers-tcp.txt answers every question"
    problems = check_answers(LAB, 3)
    assert not problems, "\n".join(problems)
