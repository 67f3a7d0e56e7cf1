"""The in-guest test program usertests, full and quick (-q), with 1, 2 and
4 CPUs.  Each usertests case prints `name: OK` or `name: FAIL ...`; the
run ends with ALL TESTS PASSED or SOME TESTS FAILED (n)."""

import pytest

from grading import graded

import netkern

FULL_TIMEOUT = 300 * netkern.SCALE
QUICK_TIMEOUT = 150 * netkern.SCALE


def check_usertests(out):
    results, verdict = netkern.parse_usertests(out)
    failed = {n: r for n, r in results.items() if r != "OK"}
    assert results, "usertests printed no `name: OK` lines:\n" + out[-2000:]
    assert not failed, "usertests failures:\n" + "\n".join(
        "  %s: %s" % kv for kv in failed.items())
    assert verdict == "passed", (
        "usertests did not end with ALL TESTS PASSED:\n" + out[-2000:])
    return results


@graded(20)
def test_usertests_all_pass_with_2_cpus(boot):
    "usertests (all tests) passes with 2 CPUs"
    g = boot(cpus=2)
    results = check_usertests(g.run("usertests", timeout=FULL_TIMEOUT))
    print("%d usertests cases OK" % len(results))
    assert g.halt() == 0


@graded(5)
@pytest.mark.parametrize("cpus", [1, 4], ids=["cpus=1", "cpus=4"])
def test_usertests_quick(boot, cpus):
    "usertests -q passes"
    g = boot(cpus=cpus)
    check_usertests(g.run("usertests -q", timeout=QUICK_TIMEOUT))
    assert g.halt() == 0
