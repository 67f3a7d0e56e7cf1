#!/usr/bin/env python3
"""labcheck.py: prove that the labs hold up (staff only; not in a starter tree).

    tools/labcheck.py starters [--quick] [LAB ...]   the starter-tree check
    tools/labcheck.py check-mistakes [LAB|PATCH ...]   every mistake caught
    tools/labcheck.py list-mistakes            the patches and their tests

Problem: a lab can rot three ways without anyone noticing: the starter
tree stops compiling or booting, a stub breaks an earlier lab (so a
student is graded on code they were never asked to write), or a grader
stops catching the mistake its handout warns about (then the student who
makes it gets full marks and learns nothing).

Idea, starters: for lab x, write its starter tree (tools/labgen.py), build
it with the project's warnings as errors, boot it to the shell, run the
grader of the lab just before x (must score full: the stubs of x and later
labs do not touch it) and x's own code tests until the first failure (must
lose points in a code test, not only for the answers file).  Lab y's full
grader thus runs in the starter tree of lab y+1, the tree with the most
stubs in which it must still pass; a later starter tree has a subset of
those stubs.  The solution scoring full on every lab is make test's job
(it runs every graded test in the solution tree).

make test runs it --quick: of the earlier lab's grader only the first
QUICK_SAMPLE tests (the whole of it costs as much as grading the solution
again, which make test already does); `make labcheck` runs it in full.

Idea, mistakes: labs/mistakes/<lab>/<name>.patch is a diff against the
solution with a header of "Key: value" lines before the first "diff" line:

    Mistake: one line saying what the student got wrong
    Lab: e1000
    Tests: tests/test_e1000_lab.py::test_a tests/test_e1000_lab.py::test_b
    Build: tests/host/nettest      (optional: make only these targets)
    (any further lines: why it is wrong, for the staff reading it)

A patch whose tests are all host units (tests/host/nettest) says
"Build: tests/host/nettest": the kernel is then not rebuilt for it (the
host build compiles net/ itself), which keeps the check of such a patch
to the host build plus its tests, some 15 seconds.

The check copies the solution, applies the patch, rebuilds, runs exactly
the named tests through tests/grade.py and requires every one of them to
fail (lose its points).  A patch that no longer applies is an error too.

Both copy the solution's build products with their times, so make rebuilds
only the files a stub or a patch changed (a few seconds, not a full build).
Testing: tests/test_labs.py runs both in make test.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import labgen  # noqa: E402

PY = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
SCALE = float(os.environ.get("NETKERN_TIMEOUT_SCALE", "1") or 1)
# What `make` leaves in the tree that a copy should keep (gitignored).
BUILD_GLOBS = ["**/*.o", "**/*.d", "**/*.asm", "**/*.sym", "kernel/kernel",
               "user/_*", "user/lib/usys.S", "mkfs/mkfs", "mkfs/fsck",
               "fs.img", ".deps-ok", "tests/host/labtest"]


def env():
    return {k: v for k, v in os.environ.items()
            if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")}


def log(msg):
    print("labcheck: %s" % msg, flush=True)


def copy_build(src, dest):
    """Copy the build products of src into dest, keeping their times."""
    for pat in BUILD_GLOBS:
        for f in Path(src).glob(pat):
            if f.is_file() and ("tests" not in f.relative_to(src).parts
                                or f.name == "labtest"):
                out = Path(dest) / f.relative_to(src)
                out.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(f, out)


def sync_times(src, dest):
    """Give every file of dest that equals src's its time in src, so make
    sees only the changed ones as new.  Returns the changed files."""
    changed = []
    for rel in labgen.project_files(dest):
        a, b = Path(src) / rel, Path(dest) / rel
        if a.is_file() and a.read_bytes() == b.read_bytes():
            st = a.stat()
            os.utime(b, ns=(st.st_atime_ns, st.st_mtime_ns))
        else:
            changed.append(rel)
            os.utime(b)
    return changed


def build(tree, timeout=900, targets=()):
    t0 = time.monotonic()
    r = subprocess.run(["make", "-j2"] + list(targets), cwd=tree, capture_output=True,
                       text=True, timeout=timeout, env=env())
    return r.returncode == 0, r.stdout + r.stderr, time.monotonic() - t0


def boots(tree, timeout=90):
    """make qemu with 'halt' on stdin: the shell prompt shows and QEMU
    ends.  Returns (ok, output)."""
    import socket
    with socket.socket() as s:      # make qemu forwards FWDPORT, FWDPORT+1
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    try:
        r = subprocess.run(["make", "-s", "qemu", "FWDPORT=%d" % port],
                           cwd=tree, input="halt\n", capture_output=True,
                           text=True, timeout=timeout * SCALE, env=env())
        out = r.stdout + r.stderr
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode(errors="replace") if isinstance(
            e.stdout, bytes) else (e.stdout or "")
        return False, out + "\n(timed out)"
    return "$ " in out and "panic" not in out, out


def grade(tree, lab, args=(), timeout=1800):
    """Run tests/grade.py in tree; returns (json doc or None, output)."""
    fd, path = tempfile.mkstemp(prefix="grade-", suffix=".json")
    os.close(fd)
    try:
        r = subprocess.run([PY, "tests/grade.py", lab, "--json", path] +
                           list(args), cwd=tree, capture_output=True,
                           text=True, timeout=timeout, env=env())
        out = r.stdout + r.stderr
        try:
            doc = json.loads(Path(path).read_text())
        except (OSError, ValueError):
            doc = None
        return doc, out
    finally:
        os.unlink(path)


def tail(text, n=40):
    return "\n".join(text.splitlines()[-n:])


def is_answers(rec):
    return "answers" in rec["test"].split("::")[-1]


# ---- starters -------------------------------------------------------------

# make test's quick check runs only this many of the earlier lab's tests in
# each starter tree (LABCHECK_FULL=1 or --full: all of them).
QUICK_SAMPLE = 2


def check_starter(lab, labs, workdir, full=True):
    """The starter-tree check of one lab; returns a list of problems."""
    i = labs.index(lab)
    dest = Path(workdir) / ("starter-" + lab)
    labgen.write_tree(lab, dest, root=ROOT)
    copy_build(ROOT, dest)
    changed = sync_times(ROOT, dest)
    ok, out, secs = build(dest)
    log("%s: starter tree built in %.0f s (%d files differ from the "
        "solution)" % (lab, secs, len(changed)))
    if not ok:
        return ["%s: the starter tree does not build:\n%s" % (lab, tail(out))]
    ok, out = boots(dest)
    if not ok:
        return ["%s: the starter tree does not boot to the shell:\n%s"
                % (lab, tail(out))]
    problems = []
    if i > 0:
        prev = labs[i - 1]
        doc, out = grade(dest, prev, [] if full else
                         ["--sample", str(QUICK_SAMPLE)])
        if not doc or not doc["total"] or doc["score"] != doc["total"]:
            problems.append("%s: the starter tree of %s does not score full "
                            "on the earlier lab %s:\n%s"
                            % (lab, lab, prev, tail(out)))
        else:
            log("%s: earlier lab %s full (%d/%d)" % (lab, prev, doc["score"],
                                                       doc["total"]))
    doc, out = grade(dest, lab, ["-k", "not answers", "--maxfail=1"])
    lost = [r for r in (doc or {}).get("tests", [])
            if r["outcome"] != "passed" and r["outcome"] != "not run"
            and not is_answers(r)]
    if not lost:
        problems.append("%s: its starter tree passes every code test of its "
                        "own lab (the stubs leave nothing to do):\n%s"
                        % (lab, tail(out)))
    else:
        log("%s: own lab below full: %s %s" % (lab, lost[0]["title"],
                                               lost[0]["outcome"]))
    return problems


def starters(only=None, full=True):
    labs = [n for n, _ in labgen.read_labs(ROOT)]
    problems = []
    with tempfile.TemporaryDirectory(prefix="labcheck-") as work:
        for lab in labs:
            if only and lab not in only:
                continue
            try:
                problems += check_starter(lab, labs, work, full)
            except labgen.LabError as e:
                problems.append("%s: %s" % (lab, e))
            shutil.rmtree(Path(work) / ("starter-" + lab),
                          ignore_errors=True)
    return problems


# ---- mistakes -------------------------------------------------------------

def mistake_patches(select=None):
    base = ROOT / "labs" / "mistakes"
    out = []
    for p in sorted(base.glob("*/*.patch")) if base.exists() else []:
        lab = p.parent.name
        if select and lab not in select and p.stem not in select \
                and str(p) not in select:
            continue
        out.append(p)
    return out


def patch_header(path):
    head = {}
    for line in path.read_text().splitlines():
        if line.startswith("diff ") or line.startswith("--- "):
            break
        m = re.match(r"^(Mistake|Lab|Tests|Build):\s*(.*)$", line)
        if m:
            head[m.group(1).lower()] = m.group(2).strip()
    head["tests"] = head.get("tests", "").split()
    head["build"] = head.get("build", "").split()
    return head


def copy_solution(dest):
    for rel in labgen.project_files(ROOT):
        out = Path(dest) / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, out)
    copy_build(ROOT, dest)


def check_mistake(path, workdir):
    head = patch_header(path)
    name = "%s/%s" % (path.parent.name, path.stem)
    if not head.get("mistake") or head.get("lab") != path.parent.name \
            or not head["tests"]:
        return ["%s: the header needs Mistake:, Lab: %s and Tests: lines"
                % (name, path.parent.name)], None
    dest = Path(workdir) / ("m-" + path.stem)
    copy_solution(dest)
    r = subprocess.run(["git", "apply", "--whitespace=nowarn", str(path)],
                       cwd=dest, capture_output=True, text=True)
    if r.returncode != 0:
        return ["%s: the patch no longer applies to the solution:\n%s"
                % (name, r.stderr)], None
    # Host targets only: without the sanitizers (half the compile time;
    # every patch's tests catch it without them).
    targets = head["build"] + (["HOSTSAN="] if head["build"] else [])
    ok, out, secs = build(dest, targets=targets)
    if not ok:
        return ["%s: the patched tree does not build:\n%s" % (name, tail(out))], None
    doc, out = grade(dest, head["lab"], head["tests"])
    shutil.rmtree(dest, ignore_errors=True)
    recs = (doc or {}).get("tests", [])
    problems, caught = [], []
    for t in head["tests"]:
        mine = [r for r in recs if _norm(r["test"]) == _norm(t) or
                _norm(r["test"]).startswith(_norm(t) + "[")]
        rec = None
        if mine:
            bad = [r for r in mine if r["outcome"] == "passed"]
            rec = bad[0] if bad else dict(mine[0], points=sum(
                r["points"] for r in mine))
        if rec is None:
            problems.append("%s: test %s did not run (no such graded test of "
                            "lab %s?)\n%s" % (name, t, head["lab"], tail(out)))
        elif rec["outcome"] == "passed":
            problems.append("%s: NOT caught: %s passes with the mistake in"
                            % (name, t))
        else:
            caught.append("%s (%s, lost %d points)" % (t, rec["outcome"],
                                                      rec["points"]))
    if not problems:
        log("%s caught by %s" % (name, "; ".join(caught)))
    return problems, caught


def _norm(nodeid):
    return nodeid[len("tests/"):] if nodeid.startswith("tests/") else nodeid


def check_mistakes(select=None):
    problems = []
    with tempfile.TemporaryDirectory(prefix="labcheck-") as work:
        for p in mistake_patches(select):
            problems += check_mistake(p, work)[0]
    return problems


def main(argv):
    cmd, rest = (argv[0], argv[1:]) if argv else ("", [])
    if cmd == "starters":
        full = "--quick" not in rest
        problems = starters([a for a in rest if a != "--quick"] or None, full)
    elif cmd == "check-mistakes":
        problems = check_mistakes(rest or None)
    elif cmd == "list-mistakes":
        for p in mistake_patches(rest or None):
            h = patch_header(p)
            print("%-10s %-24s %s\n%36s%s" % (p.parent.name, p.stem,
                                             h.get("mistake", "?"), "",
                                             " ".join(h["tests"])))
        return 0
    else:
        print(__doc__.split("\n\n")[1])
        return 2
    for p in problems:
        print("labcheck: FAIL: %s" % p)
    print("labcheck: %s" % ("all good" if not problems else
                             "%d problem(s)" % len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
