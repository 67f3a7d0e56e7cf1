"""The TCP fuzzer (tests/fuzz/fuzz_tcp.c) for a bounded time.

tests/fuzz/fuzz_tcp is a libFuzzer target built with clang
(-fsanitize=fuzzer,address,undefined) on the host build of net/: each
input reaches a TCP state over the fake wire and feeds arbitrary segments
to tcp_input (see the file's header).  This test builds it, replays the
corpus kept in the tree (tests/fuzz/corpus: every input must pass), then
fuzzes for FUZZ_SECS seconds (60 by default; environment FUZZ_SECS to
change) from that corpus into a scratch directory.  Any crash, sanitizer
report or leak check failure fails the test; the input that caused it is
saved under tests/fuzz/crashes/ and its path printed: replay it with
tests/fuzz/fuzz_tcp FILE, then make it a named test in tests/host/.

The run's figures (executions, coverage) are printed, never asserted.
"""

import os
import re
import shutil
import subprocess
import tempfile

import pytest

import netkern

FUZZ = netkern.ROOT / "tests" / "fuzz"
TARGET = FUZZ / "fuzz_tcp"
CORPUS = FUZZ / "corpus"
SECS = int(os.environ.get("FUZZ_SECS", "60"))


def build():
    if shutil.which("clang") is None:
        pytest.fail("clang is not installed (tools/install-deps.sh installs "
                    "clang and libclang-rt-14-dev)")
    r = subprocess.run(["make", "-s", "--no-print-directory",
                        "tests/fuzz/fuzz_tcp"], cwd=netkern.ROOT,
                       capture_output=True, text=True, timeout=900,
                       env=netkern.host_env())
    assert r.returncode == 0, "building the fuzzer failed:\n" + r.stdout + r.stderr


def test_fuzz_tcp_input():
    build()
    inputs = sorted(str(p) for p in CORPUS.iterdir())
    assert len(inputs) >= 14, "the corpus lost its seeds"
    # Every corpus input replays cleanly (a regression would show here).
    r = subprocess.run([str(TARGET), "-detect_leaks=0"] + inputs,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, "a corpus input fails:\n" + r.stderr[-4000:]
    crashes = FUZZ / "crashes"
    crashes.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="fuzz-tcp-") as work:
        r = subprocess.run(
            [str(TARGET), "-max_total_time=%d" % SECS, "-detect_leaks=0",
             "-max_len=2048", "-timeout=30", "-rss_limit_mb=2048",
             "-print_final_stats=1",
             "-artifact_prefix=%s/" % crashes, work, str(CORPUS)],
            capture_output=True, text=True, timeout=SECS + 600)
    out = r.stderr
    done = re.findall(r"^#(\d+)\s+DONE\s+cov: (\d+) ft: (\d+)", out, re.M)
    if done:
        print("fuzz_tcp: %s runs in %d s, coverage %s edges, %s features"
              % (done[-1][0], SECS, done[-1][1], done[-1][2]))
    saved = re.findall(r"Test unit written to (\S+)", out)
    assert r.returncode == 0 and not saved, (
        "the fuzzer found a crash; input saved as %s (replay: "
        "tests/fuzz/fuzz_tcp FILE):\n%s" % (saved, out[-6000:]))
