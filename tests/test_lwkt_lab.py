"""Lab lwkt (docs/labs/lwkt.md): LWKT messages and the netisr loop.

Most of it is graded on the host: net/ built for Linux against the
shim (tests/host/), where the netisrs are real threads and a deadlock is
a timeout rather than a dead guest (grading.host_units; nothing needs
root). One test looks at the real thing: a guest whose netisrs count
their messages and batches while it pings itself.
"""

import re

from grading import check_answers, check_host_units, graded

LAB = "lwkt"
SLIRP = "user,id=net0,restrict=on"


def units(*names, timeout=30):
    check_host_units(*names, timeout=timeout)


@graded(4, lab=LAB, limit=300)
def test_netisr_drains_a_batch_then_runs_the_rollups():
    "every packet delivered in flow order; one rollup per batch, batches <= packets"
    units("netisr_dispatch_delivers_in_order_on_flow_cpu",
          "netisr_full_queue_drops_and_counts")


@graded(4, lab=LAB, limit=300)
def test_domsg_to_own_port_runs_inline():
    "lwkt_domsg to the caller's own port runs the handler at once (no deadlock)"
    units("lwkt_domsg_to_own_port_runs_inline",
          "netisr_domsg_runs_on_target_cpu", timeout=20)


@graded(4, lab=LAB, limit=300)
def test_reply_goes_back_through_the_reply_port():
    "a reply with a reply port queues the message there, DONE and REPLIED set"
    units("lwkt_ping_pong_between_two_threads",
          "lwkt_reply_flags_follow_ownership", timeout=20)


@graded(3, lab=LAB, limit=300)
def test_every_lwkt_and_netisr_unit_passes():
    "all LWKT and netisr host tests: FIFO, priority, dropmsg, many senders, hashing"
    units("lwkt_burst_to_sleeping_owner_wakes_once", "lwkt_fifo_order",
          "lwkt_priority_goes_to_head", "lwkt_domsg_waits_for_other_thread",
          "lwkt_dropmsg_removes_only_queued", "lwkt_bad_transitions_panic",
          "lwkt_many_senders_fifo_per_sender",
          "netisr_hash_same_flow_same_cpu_both_directions",
          "netisr_hash_mbuf_same_in_place_and_split",
          "netisr_non_ip_goes_to_cpu0", timeout=30)


def netisr_counts(g):
    out = g.run("sysctl net.netisr")
    vals = {}
    for cpu, what, v in re.findall(r"^net\.netisr\.(\d+)\.(\w+)\s*[:=]\s*(\d+)",
                                   out, re.M):
        vals.setdefault(what, 0)
        vals[what] += int(v)
    assert "batches" in vals and "msgs" in vals, out
    return vals


@graded(3, lab=LAB, limit=180)
def test_guest_netisrs_count_messages_and_batches(boot):
    "in the guest: 200 pings to itself go through the netisrs, counted in batches"
    g = boot(cpus=2, netdev=SLIRP)
    before = netisr_counts(g)
    out = g.run("ping -c 200 -i 0.02 127.0.0.1", timeout=150)
    m = re.search(r"200 packets transmitted, (\d+) received", out)
    # How many replies ping sees in time depends on the host's load (a
    # busy host once gave 146 of 200); the counts below are per echo.
    assert m and int(m.group(1)) >= 1, out[-800:]
    got = int(m.group(1))
    after = netisr_counts(g)
    d = {k: after[k] - before.get(k, 0) for k in after}
    # Each echo that came back was a request and a reply through lo0:
    # two packets through the netisrs.
    assert d["pkts"] >= 2 * got, (got, d)
    assert d["msgs"] >= d["pkts"], d
    assert 0 < d["batches"] <= d["msgs"], d


@graded(2, lab=LAB, limit=10)
def test_lwkt_answers():
    "docs/labs/answers-lwkt.txt answers every question"
    problems = check_answers(LAB, 3)
    assert not problems, "\n".join(problems)
