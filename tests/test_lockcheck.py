"""The lock-order checker (kernel/lockcheck.c, order in kernel/lock.h).

It is on in every other test of `make test` (a violation anywhere panics
and fails that test with both acquisition points printed); here we check
that it is on by default, that kern.selftest's deliberate violations are
each caught and reported with the places the locks were taken, and that
the boot argument `make bench` uses turns it off.
"""

import re

import netkern

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
    report(out, "sleeplock taken under a spinlock", "selftest_sx",
           "selftest_lo")
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


def provoke(boot, how):
    """Boot with the provoking knob armed, write it, and return the text of
    the panic it must cause (with the harness's addr2line resolution)."""
    g = boot(cpus=2, qemu_args=["-append", "lockcheck_provoke"])
    try:
        g.run("sysctl kern.lockcheck_provoke=%d" % how)
    except netkern.GuestPanic as e:
        return str(e)
    raise AssertionError("kern.lockcheck_provoke=%d did not panic" % how)


@graded(2)
def test_lockcheck_inversion_panics_with_both_stacks(boot):
    "a real inversion panics; the panic resolves where each lock was taken"
    text = provoke(boot, 1)
    assert ("panic: lockcheck: lock order violation: taking selftest_lo "
            "while holding selftest_hi") in text, text
    held = text.index("lockcheck: selftest_hi was taken at:")
    taking = text.index("lockcheck: selftest_lo is being taken at:")
    assert text.index("backtrace:") < held < taking, text
    # Resolved by addr2line: both acquisitions point into the provoking
    # function, at two different lines.
    lines = set(re.findall(r"sysctl_lockcheck_provoke at \S*selftest\.c:(\d+)",
                           text))
    assert len(lines) >= 2, text
    assert "lockcheck: spinlocks held by this hart" in text


@graded(1)
def test_lockcheck_lock_leaked_to_user_space_panics(boot):
    "a system call that returns holding a spinlock panics, naming where it was taken"
    text = provoke(boot, 2)
    assert ("panic: lockcheck: returning to user space holding spinlock "
            "selftest_lo") in text, text
    assert re.search(r"  selftest_lo, taken at:\n    0x0*80[0-9a-f]{6}\n",
                     text), text
    assert re.search(r"sysctl_lockcheck_provoke at \S*selftest\.c", text), text


def test_lockcheck_provoke_needs_boot_argument(guest):
    "without the boot argument the provoking knob refuses (no user can panic the kernel)"
    out = guest.run("sysctl kern.lockcheck_provoke=1")
    assert "->" not in out, out
    assert guest.run("echo alive") == "alive\n"
