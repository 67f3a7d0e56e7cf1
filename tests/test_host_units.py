"""Tier 1 (docs/design.md section 8): the host unit tests of net/, built for
Linux against the shim in tests/host/ (`make hosttest` runs them all).

Each unit test becomes one pytest case, test_host_unit[name], so that
`make test` counts them in its closing "N passed, M failed" line and a
failure names the unit.  The binary is built (make tests/host/nettest)
when this file is collected; if that fails, a single case reports the
build error.  One unit by hand: tests/host/nettest name.
"""

import re
import subprocess

import pytest

import netkern

NETTEST = netkern.ROOT / "tests" / "host" / "nettest"
_build = []


def build():
    """make tests/host/nettest once per session; the CompletedProcess."""
    if not _build:
        _build.append(subprocess.run(
            ["make", "-s", "--no-print-directory", "tests/host/nettest"],
            cwd=netkern.ROOT, capture_output=True, text=True, timeout=900,
            env=netkern.host_env()))
    return _build[0]


def unit_names():
    if build().returncode != 0:
        return ["build"]
    r = subprocess.run([str(NETTEST), "-l"], capture_output=True, text=True,
                       timeout=60)
    return r.stdout.split() or ["none-listed"]


@pytest.mark.parametrize("name", unit_names())
def test_host_unit(name):
    b = build()
    assert b.returncode == 0, ("make tests/host/nettest failed:\n"
                               + b.stdout + b.stderr)
    assert name != "none-listed", "tests/host/nettest -l lists no tests"
    r = subprocess.run([str(NETTEST), name], capture_output=True, text=True,
                       timeout=300)
    out = r.stdout + r.stderr
    assert re.search(r"^%s: OK$" % re.escape(name), r.stdout, re.M), out
    assert r.returncode == 0, out


def test_host_drvtest():
    "tests/host/drvtest: the e1000 receive hold's grant (drivers/e1000_hold.c)"
    b = subprocess.run(["make", "-s", "--no-print-directory", "tests/host/drvtest"],
                       cwd=netkern.ROOT, capture_output=True, text=True,
                       timeout=900, env=netkern.host_env())
    assert b.returncode == 0, b.stdout + b.stderr
    r = subprocess.run([str(netkern.ROOT / "tests" / "host" / "drvtest")],
                       capture_output=True, text=True, timeout=120)
    out = r.stdout + r.stderr
    assert r.returncode == 0 and re.search(r"^\d+ passed, 0 failed$", r.stdout, re.M), out
