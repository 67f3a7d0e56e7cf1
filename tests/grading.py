"""grading.py: points and labs for the host tests.

A graded test is an ordinary pytest test with a marker:

    from grading import graded

    @graded(10, lab="kernel")
    def test_pipe_counts_words(guest):
        "echo hi | wc prints 1 1 3"
        ...

`make test` runs every test as usual.  `make grade LAB=kernel` (tests/grade.py)
runs only the tests of that lab and prints each with its points, then
`Score: x/y`; a test earns its points when setup, call and teardown all
pass.  A parametrized test earns its points once per case.  The first
paragraph of the docstring is the title shown in the grade table.

Rules for a graded test (docs/labs/README.md):
  - it runs as an ordinary user: QEMU user networking (slirp with
    restrict=on) or a QEMU socket/dgram netdev to a peer process the test
    starts; never a tap or a network namespace (those tests stay in
    `make test`, ungraded);
  - it has a time limit: `limit` seconds (default 300), multiplied by the
    grader's time scale (NETKERN_TIMEOUT_SCALE or grade.py --time-scale)
    on a slow machine;
  - it belongs to exactly one lab of labs/labs.txt, and passes on the
    starter tree of every later lab (the stubs of later labs must not
    touch what it checks).

To add a lab: add a line to labs/labs.txt, write docs/labs/<lab>.md, and
mark its tests with @graded(points, lab="name").
"""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_LIMIT = 300


def _read_labs():
    labs = {}
    for line in (ROOT / "labs" / "labs.txt").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, desc = line.partition(" ")
            labs[name] = desc.strip()
    return labs


# Lab name -> what it covers, in course order (labs/labs.txt).
LABS = _read_labs()


def graded(points, lab="kernel", limit=DEFAULT_LIMIT):
    """Decorator: this test is worth `points` in lab `lab` and must finish
    within `limit` seconds (times the grader's time scale)."""
    if lab not in LABS:
        raise ValueError("unknown lab %r: add it to labs/labs.txt" % lab)
    if not (isinstance(points, int) and points > 0):
        raise ValueError("points must be a positive integer")
    if not (isinstance(limit, (int, float)) and limit > 0):
        raise ValueError("limit must be a positive number of seconds")
    return pytest.mark.grade(points=points, lab=lab, limit=limit)


def grade_of(item):
    """(points, lab) of a collected test item, or None if not graded."""
    m = item.get_closest_marker("grade")
    if m is None:
        return None
    return m.kwargs["points"], m.kwargs["lab"]


def limit_of(item):
    """The test's time limit in seconds, before scaling."""
    m = item.get_closest_marker("grade")
    return m.kwargs.get("limit", DEFAULT_LIMIT) if m else DEFAULT_LIMIT


def title_of(item):
    """First docstring line of the test function, else its name made
    readable (test_ and underscores dropped)."""
    doc = getattr(getattr(item, "function", None), "__doc__", None)
    if doc and doc.strip():
        # The first paragraph of the docstring, on one line.
        title = " ".join(doc.strip().split("\n\n")[0].split())
    else:
        name = getattr(item, "originalname", None) or item.name
        title = name[5:] if name.startswith("test_") else name
        title = title.replace("_", " ")
    if getattr(item, "callspec", None) is not None:
        title += " [%s]" % item.callspec.id
    return title


ANSWER_MIN_WORDS = 15


def check_answers(lab, questions, root=ROOT):
    """Problems with docs/labs/answers-<lab>.txt ([] when it is done): it
    must hold questions Q1..Q<questions>, each a paragraph starting
    "Qn." and ending at a blank line, and under each an answer of at least
    ANSWER_MIN_WORDS words.  Lines starting with '#' and the placeholder
    "(your answer here)" do not count."""
    import re
    path = root / "docs" / "labs" / ("answers-%s.txt" % lab)
    if not path.exists():
        return ["%s is missing" % path.relative_to(root)]
    found, cur, in_q = {}, None, False
    for line in path.read_text().splitlines():
        m = re.match(r"^Q(\d+)\.", line)
        if m:
            cur, in_q = int(m.group(1)), True
            found[cur] = []
            continue
        if in_q:
            in_q = bool(line.strip())
            continue
        if cur is None or line.lstrip().startswith("#"):
            continue
        found[cur].append(line.replace("(your answer here)", ""))
    problems = []
    for q in range(1, questions + 1):
        if q not in found:
            problems.append("Q%d is missing from %s" % (q, path.name))
            continue
        words = len(" ".join(found[q]).split())
        if words < ANSWER_MIN_WORDS:
            problems.append("Q%d: the answer has %d words; write a few "
                            "sentences (at least %d words)"
                            % (q, words, ANSWER_MIN_WORDS))
    return problems


LABTEST = ROOT / "tests" / "host" / "labtest"


def host_units(names, timeout=60):
    """Run host unit tests of net/ (tests/host/*.c) by name in the
    graders' build of them, tests/host/labtest (no sanitizers: it builds
    in a fraction of the time of make hosttest's).  Each runs in a process
    of its own, killed after `timeout` seconds (times the time scale): a
    deadlock is a failure, not a hang.  Returns a list of problems, []
    when every one printed "name: OK"."""
    import os
    import re
    import subprocess
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")}
    r = subprocess.run(["make", "-s", "--no-print-directory",
                        "tests/host/labtest"], cwd=ROOT, capture_output=True,
                       text=True, timeout=900, env=env)
    if r.returncode != 0:
        return ["make tests/host/labtest failed:\n" + (r.stdout + r.stderr)[-3000:]]
    scale = float(os.environ.get("NETKERN_TIMEOUT_SCALE", "1") or 1)
    problems = []
    for name in names:
        try:
            p = subprocess.run([str(LABTEST), name], capture_output=True,
                               text=True, timeout=timeout * scale)
        except subprocess.TimeoutExpired:
            problems.append("%s: still running after %.0f s (a deadlock? a "
                            "lost wakeup?)" % (name, timeout * scale))
            continue
        if not re.search(r"^%s: OK$" % re.escape(name), p.stdout, re.M) \
                or p.returncode != 0:
            problems.append("%s failed:\n%s" % (name, (p.stdout + p.stderr)[-2000:]))
    return problems


def check_host_units(*names, timeout=60):
    """host_units(names) as a test's assertion: fails listing every
    problem."""
    problems = host_units(names, timeout=timeout)
    assert not problems, "\n".join(problems)
