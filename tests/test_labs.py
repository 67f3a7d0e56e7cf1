"""The labs hold up (staff only: not in a starter tree).

- every lab's starter tree builds with -Werror, boots to the shell, scores
  full on the lab before it and loses points in a code test of its own
  (tools/labcheck.py starters; the solution scoring full on every lab is
  the rest of make test, which runs every graded test here);
- every documented mistake (labs/mistakes/<lab>/*.patch) is caught by the
  tests its header names (tools/labcheck.py check-mistakes);
- the grader works for an ordinary user: in a copy of the tree owned by
  nobody, `tests/grade.py` boots guests, scores the selected tests only
  and writes JSON, and `make handin` packs a bundle and the answers.

These build and boot a lot: they take several minutes. One lab by hand:
tools/labcheck.py starters e1000; tools/labcheck.py check-mistakes tcp.
"""

import json
import os
import pwd
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import labcheck  # noqa: E402
import labgen  # noqa: E402


def test_every_starter_tree_builds_boots_and_grades():
    "each starter tree: -Werror build, boot, earlier lab's first tests full, own lab below full"
    # Quick by default (make test's budget): the earlier lab's first
    # labcheck.QUICK_SAMPLE tests; LABCHECK_FULL=1 (make labcheck) all.
    full = os.environ.get("LABCHECK_FULL") == "1"
    problems = labcheck.starters(full=full)
    assert not problems, "\n\n".join(problems)


def test_every_documented_mistake_is_caught():
    patches = labcheck.mistake_patches()
    assert patches, "no mistake patches in labs/mistakes/"
    problems = labcheck.check_mistakes()
    assert not problems, "\n\n".join(problems)


def test_every_lab_documents_its_mistakes_and_answers():
    "each lab with a handout lists its mistakes, and each has a patch"
    for lab, _ in labgen.read_labs(ROOT):
        doc = ROOT / "docs" / "labs" / (lab + ".md")
        if not doc.exists():
            continue
        text = doc.read_text()
        for part in ("## Exercises", "## Grading", "## Questions", "**Time.**"):
            assert part in text, (lab, part)
        patches = labcheck.mistake_patches([lab])
        if "## Mistakes the grader catches" in text:
            rows = [l for l in text.split("## Mistakes the grader catches")[1]
                    .split("##")[0].splitlines() if l.startswith("| ")
                    and not l.startswith("| mistake")]
            assert len(rows) == len(patches), (
                "%s: %d mistakes in the handout, %d patches in "
                "labs/mistakes/%s" % (lab, len(rows), len(patches), lab))


def _nobody():
    try:
        return pwd.getpwnam("nobody")
    except KeyError:
        return None


@pytest.mark.skipif(os.geteuid() != 0 or _nobody() is None,
                    reason="needs root to become nobody")
def test_grading_works_for_an_ordinary_user():
    "as nobody: grade.py boots a guest, -k scores only the selection, make handin packs"
    nob = _nobody()
    top = Path(tempfile.mkdtemp(prefix="labs-nobody-", dir="/tmp"))
    try:
        os.chmod(top, 0o755)
        # The starter tree of the last lab holds every other lab's solution
        # and is a git repository, as a student's tree is.
        last = labgen.read_labs(ROOT)[-1][0]
        tree = labgen.write_tree(last, top / "tree", root=ROOT)
        labcheck.copy_build(ROOT, tree)
        labcheck.sync_times(ROOT, tree)
        home = top / "home"
        home.mkdir()
        subprocess.run(["chown", "-R", "%d:%d" % (nob.pw_uid, nob.pw_gid),
                        str(top)], check=True)
        env = dict(labcheck.env(), HOME=str(home), USER="nobody",
                   GIT_AUTHOR_NAME="s", GIT_AUTHOR_EMAIL="s@x",
                   GIT_COMMITTER_NAME="s", GIT_COMMITTER_EMAIL="s@x")

        def as_nobody(argv, timeout=600):
            return subprocess.run(
                ["setpriv", "--reuid=%d" % nob.pw_uid,
                 "--regid=%d" % nob.pw_gid, "--clear-groups"] + argv,
                cwd=tree, env=env, capture_output=True, text=True,
                timeout=timeout)

        r = as_nobody(["make", "-s"])
        assert r.returncode == 0, r.stdout + r.stderr
        r = as_nobody([labcheck.PY, "tests/grade.py", "e1000", "-k",
                       "small_and_large or answers", "--json", "g.json",
                       "--time-scale", "2"])
        out = r.stdout + r.stderr
        assert r.returncode == 0, out
        doc = json.loads((tree / "g.json").read_text())
        assert (doc["score"], doc["total"]) == (6, 6), doc
        assert len(doc["tests"]) == 2 and doc["user"] == "nobody", doc
        assert all(t["time_scale"] == 2 and t["outcome"] == "passed"
                   for t in doc["tests"]), doc
        assert "Score: 6/6" in out and "NOT RUN" not in out, out
        assert "x2 time scale" in out, out
        # Host unit tests (lwkt, tcp) build and run as nobody too.
        r = as_nobody([labcheck.PY, "tests/grade.py", "lwkt", "-k",
                       "domsg_to_own_port"])
        assert r.returncode == 0 and "Score: 4/4" in r.stdout, (
            r.stdout + r.stderr)
        # A commit of the student's, then make handin.
        (tree / "docs" / "labs" / ("answers-%s.txt" % last)).write_text(
            "Q1. done\n\nmy answer\n")
        r = as_nobody(["git", "add", "-A"])
        assert r.returncode == 0, r.stdout + r.stderr
        r = as_nobody(["git", "commit", "-qm", "my work"])
        assert r.returncode == 0, r.stdout + r.stderr
        r = as_nobody(["make", "-s", "handin"])
        assert r.returncode == 0, r.stdout + r.stderr
        path = Path(r.stdout.strip().splitlines()[-1])
        assert path.exists() and path.name == "handin-%s-nobody.tar.gz" % last
        with tarfile.open(path) as tar:
            names = tar.getnames()
            assert "handin/work.bundle" in names, names
            assert "handin/docs/labs/answers-%s.txt" % last in names, names
            tar.extractall(top / "x")
        r = subprocess.run(["git", "clone", "-q", str(top / "x" / "handin" /
                                                   "work.bundle"),
                            str(top / "clone")], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        log = subprocess.run(["git", "log", "--oneline"], cwd=top / "clone",
                             capture_output=True, text=True).stdout
        assert "my work" in log and "starter tree" in log, log
    finally:
        shutil.rmtree(top, ignore_errors=True)
