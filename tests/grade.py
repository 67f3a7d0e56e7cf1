#!/usr/bin/env python3
"""grade.py: run one lab's graded tests and print the score.

    make grade                 list every lab with its tests and points
    make grade LAB=e1000       run lab e1000 (tests/grade.py e1000)
    tests/grade.py e1000 -k ring          extra arguments go to pytest
    tests/grade.py e1000 tests/test_e1000_lab.py::test_x   only these tests
    tests/grade.py e1000 --json out.json  also a JSON record per test
                                          ('-' writes it to stdout)
    tests/grade.py e1000 --time-scale 3   a slow machine: every time limit
                                          (and the harness's waits) x3
    tests/grade.py e1000 --sample 2       only the lab's first 2 tests
                                          (the quick lab check of make test)
    make handin                (tests/grade.py --handin) pack your work

Prints each selected test of the lab with PASS/FAIL, its points and its
title, then `Score: x/y`.  Only the selected tests count: tests left out
with -k are neither scored nor listed.  Every test has a time limit
(@graded(..., limit=s), default 300 s) multiplied by the time scale
(--time-scale, else the environment's NETKERN_TIMEOUT_SCALE, else 1); a
test that runs past it fails with "time limit".  Exits 0 when every
selected test passed, 1 when some did not, 2 on a usage error.

Graded tests run as an ordinary user: a graded test that asks for a tap
or a network namespace (the netguest fixture) is refused at collection.
"""

import contextlib
import datetime
import io
import json
import os
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import grading  # noqa: E402

ROOT_ONLY_FIXTURES = ("netguest",)


class TimeLimit(Exception):
    """Raised in a test that ran past its (scaled) time limit."""


class LabPlugin:
    """Keeps only the graded tests of one lab (or all graded tests when lab
    is None), enforces each one's time limit and records its outcome."""

    def __init__(self, lab, scale=1.0, sample=None):
        self.lab = lab
        self.sample = sample    # keep only the first N tests (labcheck)
        self.scale = scale
        self.items = []
        self.outcome = {}       # nodeid -> "passed" | "failed" | "error" | "skipped"
        self.seconds = {}       # nodeid -> wall seconds, setup to teardown
        self.timed_out = set()
        self.refused = []

    def pytest_collection_modifyitems(self, session, config, items):
        keep, drop = [], []
        for item in items:
            g = grading.grade_of(item)
            if g and (self.lab is None or g[1] == self.lab):
                keep.append(item)
                bad = [f for f in ROOT_ONLY_FIXTURES
                       if f in getattr(item, "fixturenames", ())]
                if bad:
                    self.refused.append((item.nodeid, bad))
            else:
                drop.append(item)
        if self.sample is not None:
            drop += keep[self.sample:]
            keep = keep[:self.sample]
        if drop:
            config.hook.pytest_deselected(items=drop)
        items[:] = keep

    def pytest_collection_finish(self, session):
        # After -k/-m deselection: exactly the tests that will run.
        self.items = list(session.items)
        if self.refused:
            raise RuntimeError(
                "graded tests must run as an ordinary user; these use a "
                "root-only fixture: %s" % ", ".join(
                    "%s (%s)" % (n, ",".join(f)) for n, f in self.refused))

    # -- time limits: armed from setup to the end of the call, so the
    # fixtures' teardown (which kills QEMU) always runs in full.

    def _alarm(self, item):
        limit = grading.limit_of(item) * self.scale

        def fire(signum, frame):
            self.timed_out.add(item.nodeid)
            raise TimeLimit("time limit: %.0f s (%g s x time scale %g) "
                            "exceeded" % (limit, grading.limit_of(item),
                                          self.scale))
        signal.signal(signal.SIGALRM, fire)
        signal.setitimer(signal.ITIMER_REAL, limit)

    def pytest_runtest_setup(self, item):
        self.seconds[item.nodeid] = time.monotonic()
        self._alarm(item)

    def pytest_runtest_teardown(self, item, nextitem):
        signal.setitimer(signal.ITIMER_REAL, 0)

    def pytest_runtest_logreport(self, report):
        if report.when == "teardown" and report.nodeid in self.seconds:
            self.seconds[report.nodeid] = (time.monotonic() -
                                           self.seconds[report.nodeid])
        prev = self.outcome.get(report.nodeid)
        if report.when == "call":
            now = report.outcome
        elif report.failed:
            now = "error"
        elif report.skipped:
            now = "skipped"
        else:
            return
        # An error in teardown spoils a pass; a failure stays a failure.
        if prev in (None, "passed") or now == "error":
            self.outcome[report.nodeid] = now


def graded_files():
    """The test files that declare graded tests: only these are collected,
    so grading never imports (or builds for) a file with none, such as
    test_host_units.py, which builds the sanitized host tests."""
    return [str(f) for f in sorted(HERE.glob("test_*.py"))
            if "@graded(" in f.read_text(errors="replace")]


def collect(lab=None):
    """The graded items (of one lab, or all), collected quietly."""
    plugin = LabPlugin(lab)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = pytest_main(["--collect-only", "-q", "-p", "no:cacheprovider"]
                         + graded_files(), plugin)
    if rc not in (0, 5):
        print(out.getvalue())
        print("grade: collecting the tests failed (pytest exit %d)" % rc)
        return None
    return plugin.items


def pytest_main(args, plugin):
    import pytest
    try:
        return pytest.main(args, plugins=[plugin])
    except RuntimeError as e:
        print("grade: %s" % e)
        return 4


def starter_lab():
    p = ROOT / "labs" / "starter"
    if p.exists():
        return p.read_text().split()[1]
    return None


def list_labs():
    items = collect()
    if items is None:
        return 2
    count, points = {}, {}
    for item in items:
        p, lab = grading.grade_of(item)
        count[lab] = count.get(lab, 0) + 1
        points[lab] = points.get(lab, 0) + p
    st = starter_lab()
    if st:
        print("this is the starter tree of lab %s" % st)
    print("labs, in course order (run one with: make grade LAB=name):")
    for lab, desc in grading.LABS.items():
        print("  %-10s %2d tests %4d points   %s"
              % (lab, count.get(lab, 0), points.get(lab, 0), desc))
    print("  %-10s %2d tests %4d points" % ("total", sum(count.values()),
                                            sum(points.values())))
    return 0


def grade(lab, args):
    if lab not in grading.LABS:
        print("grade: no lab %r; labs: %s" % (lab, ", ".join(grading.LABS)))
        return 2
    scale = float(os.environ.get("NETKERN_TIMEOUT_SCALE", "1") or 1)
    json_path = sample = None
    rest = []
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("--json", "--time-scale", "--sample") and i + 1 < len(args):
            if a == "--json":
                json_path = args[i + 1]
            elif a == "--sample":
                sample = int(args[i + 1])
            else:
                scale = float(args[i + 1])
            i += 2
            continue
        rest.append(a)
        i += 1
    if scale <= 0:
        print("grade: the time scale must be positive")
        return 2
    # netkern.py reads this when conftest imports it: the harness's own
    # waits (boot, commands) stretch by the same factor.
    os.environ["NETKERN_TIMEOUT_SCALE"] = repr(scale)
    plugin = LabPlugin(lab, scale, sample)
    t0 = time.monotonic()
    # Test files or node ids (tests/test_x.py::test_y) given: run those
    # (still only this lab's graded ones); else every test file.
    named = [a for a in rest if "::" in a or a.endswith(".py")]
    where = [] if named else graded_files()
    rc = pytest_main(["-v", "-p", "no:cacheprovider"] + where + rest,
                     plugin)
    if rc not in (0, 1, 5):
        print("grade: pytest could not run the tests (exit %d)" % rc)
        return 2
    return report(lab, plugin, scale, time.monotonic() - t0, json_path)


def report(lab, plugin, scale, wall, json_path):
    print()
    print("== lab %s ==  (time limit per test as shown, x%g time scale)"
          % (lab, scale))
    score = total = 0
    records = []
    for item in plugin.items:
        points, _ = grading.grade_of(item)
        result = plugin.outcome.get(item.nodeid, "not run")
        got = points if result == "passed" else 0
        score += got
        total += points
        limit = grading.limit_of(item)
        secs = plugin.seconds.get(item.nodeid)
        secs = secs if isinstance(secs, float) and secs < 1e6 else None
        note = ""
        if item.nodeid in plugin.timed_out:
            note = "  (time limit %.0f s exceeded)" % (limit * scale)
        label = "PASS" if result == "passed" else result.upper()
        print("  %-7s %3d/%-3d %5s/%-5s %s%s" % (
            label, got, points, "%.0fs" % secs if secs is not None else "-",
            "%.0fs" % (limit * scale), grading.title_of(item), note))
        records.append({"lab": lab, "test": item.nodeid,
                        "title": grading.title_of(item), "points": points,
                        "earned": got, "outcome": result,
                        "seconds": round(secs, 1) if secs is not None else None,
                        "limit": limit, "time_scale": scale,
                        "timed_out": item.nodeid in plugin.timed_out})
    if not plugin.items:
        print("  (no test selected)")
    print("Score: %d/%d" % (score, total))
    if json_path:
        doc = {"lab": lab, "score": score, "total": total,
               "starter": starter_lab(), "user": _user(),
               "date": datetime.datetime.now(datetime.timezone.utc)
               .isoformat(timespec="seconds"),
               "wall_seconds": round(wall, 1), "tests": records}
        text = json.dumps(doc, indent=1)
        if json_path == "-":
            print(text)
        else:
            Path(json_path).write_text(text + "\n")
            print("grade: JSON results in %s" % json_path)
    return 0 if total and score == total else 1


def _user():
    try:
        import pwd
        return pwd.getpwuid(os.getuid()).pw_name
    except (KeyError, ImportError):
        return str(os.getuid())


def _git(*args, **kw):
    return subprocess.run(["git", "-c", "safe.directory=*"] + list(args),
                          cwd=ROOT, capture_output=True, **kw)


def handin(lab=None):
    """Write handin-<lab>-<user>.tar.gz at the top of the tree: a git
    bundle of every commit (yours on top of the starter), the answers
    files, and uncommitted changes as a patch (with a warning).  Prints
    the path."""
    if _git("rev-parse", "--git-dir").returncode != 0:
        print("handin: this tree is not a git repository: make handin "
              "packs your commits, so commit your work in git first")
        return 2
    lab = lab or starter_lab() or "all"
    name = "handin-%s-%s.tar.gz" % (lab, _user())
    out = ROOT / name
    with tempfile.TemporaryDirectory() as tmp:
        bundle = Path(tmp) / "work.bundle"
        r = _git("bundle", "create", str(bundle), "--all", text=True)
        if r.returncode != 0:
            print("handin: git bundle failed:\n" + r.stderr)
            return 2
        dirty = _git("diff", "HEAD", "--binary").stdout
        log = _git("log", "--oneline", "-n", "50", text=True).stdout
        manifest = ("lab %s\nuser %s\ndate %s\nstarter %s\n\n"
                    "last commits:\n%s" % (
                        lab, _user(), datetime.datetime.now(
                            datetime.timezone.utc).isoformat(
                                timespec="seconds"), starter_lab(), log))
        (Path(tmp) / "MANIFEST").write_text(manifest)
        with tarfile.open(out, "w:gz") as tar:
            tar.add(bundle, arcname="handin/work.bundle")
            tar.add(Path(tmp) / "MANIFEST", arcname="handin/MANIFEST")
            for f in sorted((ROOT / "docs" / "labs").glob("answers-*.txt")):
                tar.add(f, arcname="handin/" + str(f.relative_to(ROOT)))
            if dirty:
                p = Path(tmp) / "uncommitted.patch"
                p.write_bytes(dirty)
                tar.add(p, arcname="handin/uncommitted.patch")
    if dirty:
        print("handin: WARNING: you have uncommitted changes; they are in "
              "uncommitted.patch, but commit them (git commit -a) and run "
              "make handin again")
    print("handin: wrote %s" % out)
    print(out)
    return 0


def main(argv):
    if not argv or argv[0] in ("", "-l", "--list"):
        return list_labs()
    if argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    if argv[0] == "--handin":
        return handin(argv[1] if len(argv) > 1 and argv[1] else None)
    return grade(argv[0], argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
