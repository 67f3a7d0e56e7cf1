#!/usr/bin/env python3
"""grade.py: run one lab's graded tests and print the score.

    make grade                 list the labs (same as: tests/grade.py)
    make grade LAB=kernel      run lab "kernel" (same as: tests/grade.py kernel)
    tests/grade.py kernel -k usertests     extra arguments go to pytest

Prints each test of the lab with PASS/FAIL and its points, then
`Score: x/y`.  Exits 0 when every test of the lab passed, 1 when some did
not, 2 on a usage error.  Tests and points are declared with
@graded(points, lab=...) (see grading.py).
"""

import contextlib
import io
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import grading  # noqa: E402


class LabPlugin:
    """Keeps only the graded tests of one lab (or all graded tests when lab
    is None) and records the outcome of each."""

    def __init__(self, lab):
        self.lab = lab
        self.items = []
        self.outcome = {}       # nodeid -> "passed" | "failed" | "error" | "skipped"

    def pytest_collection_modifyitems(self, session, config, items):
        keep, drop = [], []
        for item in items:
            g = grading.grade_of(item)
            if g and (self.lab is None or g[1] == self.lab):
                keep.append(item)
            else:
                drop.append(item)
        if drop:
            config.hook.pytest_deselected(items=drop)
        items[:] = keep
        self.items = list(keep)

    def pytest_runtest_logreport(self, report):
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


def list_labs():
    plugin = LabPlugin(None)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = pytest.main(["--collect-only", "-q", "-p", "no:cacheprovider",
                          str(HERE)], plugins=[plugin])
    if rc not in (0, 5):
        print(out.getvalue())
        print("grade: collecting the tests failed (pytest exit %d)" % rc)
        return 2
    count, points = {}, {}
    for item in plugin.items:
        p, lab = grading.grade_of(item)
        count[lab] = count.get(lab, 0) + 1
        points[lab] = points.get(lab, 0) + p
    print("labs (run one with: make grade LAB=name):")
    for lab, desc in grading.LABS.items():
        print("  %-10s %2d tests %4d points   %s"
              % (lab, count.get(lab, 0), points.get(lab, 0), desc))
    return 0


def grade(lab, pytest_args):
    if lab not in grading.LABS:
        print("grade: no lab %r; labs: %s" % (lab, ", ".join(grading.LABS)))
        return 2
    plugin = LabPlugin(lab)
    rc = pytest.main(["-v", str(HERE)] + pytest_args, plugins=[plugin])
    if rc not in (0, 1, 5):
        print("grade: pytest could not run the tests (exit %d)" % rc)
        return 2
    print()
    print("== lab %s ==" % lab)
    score = total = 0
    for item in plugin.items:
        points, _ = grading.grade_of(item)
        result = plugin.outcome.get(item.nodeid, "not run")
        got = points if result == "passed" else 0
        score += got
        total += points
        print("  %-7s %3d/%-3d  %s" % (result.upper() if result != "passed"
                                       else "PASS", got, points,
                                       grading.title_of(item)))
    print("Score: %d/%d" % (score, total))
    return 0 if total and score == total else 1


def main(argv):
    if not argv or argv[0] in ("", "-l", "--list"):
        return list_labs()
    if argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    return grade(argv[0], argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
