"""The lock-order checker (kernel/lockcheck.c, order in kernel/lock.h).

It is on in every other test of `make test` (a violation anywhere panics
and fails that test with both acquisition points printed); here we check
that it is on by default, that kern.selftest's deliberate violations are
each caught and reported with the places the locks were taken, and that
the boot argument `make bench` uses turns it off.
"""

import re

from grading import graded

ADDR = r"    0x0*80[0-9a-f]{6}\n"


def report(out, kind, want, held):
    """The expect-mode report of one violation: its kind and both locks,
    where the held lock was taken and where the new one is being taken
    (kernel addresses, which the panic path resolves with addr2line)."""
    head = "lockcheck: %s: taking %s while holding %s\n" % (kind, want, held)
    assert head in out, "no report %r in:\n%s" % (head, out)
    tail = out[out.index(head) + len(head):]
    assert re.match(r"lockcheck: %s was taken at:\n(%s)+"
                    r"lockcheck: %s is being taken at:\n(%s)+"
                    % (held, ADDR, want, ADDR), tail), (
        "report of %s under %s lacks the two acquisition points:\n%s"
        % (want, held, tail[:800]))
    return tail


@graded(3)
def test_lockcheck_catches_each_kind_of_violation(guest):
    "kern.lockcheck is on; kern.selftest's provoked inversions are caught once each"
    assert guest.run("sysctl -n kern.lockcheck") == "1\n"
    out = guest.run("sysctl kern.selftest=1", timeout=120)
    assert "selftest: 0 failures" in out, out
    assert "lock-order cases skipped" not in out
    assert out.count("lockcheck: caught (expect mode)") == 5, out
    report(out, "lock order violation", "selftest_lo", "selftest_hi")
    assert ("kernel/lock.h puts selftest_lo (level 112) before selftest_hi "
            "(level 114)") in out
    report(out, "two locks of one class", "selftest_lo", "selftest_lo")
    tail = report(out, "lock order reversal", "selftest_x", "selftest_y")
    # The learned order names the earlier pair and where it was seen.
    assert re.search(r"lockcheck: earlier, selftest_y was taken while "
                     r"holding selftest_x:\n  selftest_x taken at:\n(%s)+"
                     r"  then selftest_y taken at:\n(%s)+" % (ADDR, ADDR),
                     tail), tail[:800]
    report(out, "lock order reversal", "selftest_sx", "selftest_sy")
    report(out, "sleeplock taken with interrupts off (in an interrupt "
           "handler or under a spinlock)", "selftest_sx", "selftest_lo")
    # Still running, and still checking, after the expected reports.
    assert guest.run("sysctl -n kern.lockcheck") == "1\n"
    assert int(guest.run("sysctl -n kern.lockcheck_pairs")) > 10


@graded(2)
def test_lockcheck_off_with_boot_argument(boot):
    "booted with lockcheck=0 (as make bench is), kern.lockcheck is 0 and stays 0"
    g = boot(cpus=2, qemu_args=["-append", "lockcheck=0"])
    assert g.run("sysctl -n kern.lockcheck") == "0\n"
    out = g.run("sysctl kern.lockcheck=1")
    assert "kern.lockcheck: 0 ->" not in out, out
    assert g.run("sysctl -n kern.lockcheck") == "0\n"
    out = g.run("sysctl kern.selftest=1", timeout=120)
    assert "selftest: 0 failures" in out, out
    assert "lock-order cases skipped" in out
