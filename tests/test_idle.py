"""kern.idle_ns and kern.cp_idle (kernel/sched.c): the time the harts
spend waiting in wfi, which make bench takes off its instruction counts
(bench/icount.py; docs/profiling.md, "Idle time").

One CPUS=1 guest under `-icount shift=0,sleep=off`, as make bench runs
it: there the guest's clock advances one ns per instruction and jumps
over the time the hart waits, so what is asserted does not depend on the
host's load. `netbench idle` sleeps, `netbench spin` loops in user mode;
each reads the clock and kern.idle_ns before and after."""

import re


def fields(out, what):
    m = re.search(r"^netbench: %s (.*)$" % what, out, re.M)
    assert m, out
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(1))}


def cp_idle(g):
    """kern.cp_idle as {cpu: ns}."""
    out = g.run("sysctl kern.cp_idle")
    cpus = {int(c): int(ns) for c, ns in re.findall(r"cpu(\d+) (\d+)", out)}
    assert cpus, out
    return cpus


def test_idle_time_counts_waiting_not_work(boot):
    """A 1 s sleep is (nearly) all idle: only the clock ticks work; a
    200 ms user-mode spin on the one hart adds no idle time at all; the
    counters only grow and kern.cp_idle has one line per hart whose sum
    is kern.idle_ns."""
    g = boot(cpus=1, qemu_args=("-icount", "shift=0,sleep=off"), timeout=300)
    before = cp_idle(g)
    assert list(before) == [0], before

    s = fields(g.run("netbench idle -d 1000", timeout=300), "idle")
    assert s["elapsed_ns"] >= 990000000, s       # woken on a tick
    # The hart waited in wfi for all but the ticks' work (1000 ticks of a
    # few thousand instructions each: well under 10% of a second).
    assert s["idle_ns"] <= s["elapsed_ns"], s
    assert s["idle_ns"] >= 0.9 * s["elapsed_ns"], s
    assert s["busy_ns"] > 0, s

    p = fields(g.run("netbench spin -d 200", timeout=300), "spin")
    assert p["elapsed_ns"] >= 200000000, p
    # A runnable process on the only hart: the scheduler never idles.
    assert p["idle_ns"] == 0, p

    after = cp_idle(g)
    assert after[0] >= before[0] + s["idle_ns"], (before, after, s)
    total = int(re.search(r"kern\.idle_ns: (\d+)", g.run("sysctl kern.idle_ns")).group(1))
    later = cp_idle(g)
    assert after[0] <= total <= later[0], (after, total, later)
    out = g.run("sysctl kern.idle_ns=5")      # read-only
    assert "->" not in out and "sysctl: kern.idle_ns: " in out, out
