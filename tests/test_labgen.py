"""The lab generator (tools/labgen.py) and the grader's plumbing, on the
host only (seconds): the marker syntax of docs/labs/README.md in C and
hash-comment files, every malformed marker refused with file:line, the
starter tree of a toy project, and the real tree's markers well formed.
The full check (every lab's starter tree builds, boots and grades) is
tests/test_labs.py.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import labgen  # noqa: E402

LABS = ["a", "b", "c"]
M = "LAB"       # spelled apart so the generator never sees markers here

C_FILE = """int f(void)
{
\t/* {M} a BEGIN: exercise 1, return one */
\treturn 1;
\t/* {M} a STUB
\treturn 0;
\t   {M} a END */
}
int g(void)
{
\t/* {M} b BEGIN */
\tint x = 2;
\treturn x;
\t/* {M} b STUB
\treturn -1;
\t{M} b END */
}
""".replace("{M}", M)

PY_FILE = """def h():
    # {M} c BEGIN: exercise 3
    return "solution"
    # {M} c STUB
    # return None
    #
    # {M} c END
""".replace("{M}", M)


def render(rel, text, target):
    return labgen.render(rel, labgen.parse(rel, text, LABS), LABS, target)


def test_c_markers_keep_earlier_and_stub_later():
    out = render("x.c", C_FILE, "b")
    assert "return 1;" in out and "return 0;" not in out
    assert "int x = 2;" not in out and "return -1;" in out
    assert "\t/* your code here: see docs/labs/b.md */\n\treturn -1;" in out
    assert M + " " not in out


def test_c_stub_for_first_lab_names_the_exercise():
    out = render("x.c", C_FILE, "a")
    assert ("/* your code here: see docs/labs/a.md, exercise 1, return one */"
            in out)
    assert "return 0;" in out and "return -1;" in out


def test_solution_render_drops_markers_and_stubs():
    out = render("x.c", C_FILE, None)
    assert "return 1;" in out and "int x = 2;" in out
    assert "return 0;" not in out and M not in out


def test_hash_markers_strip_the_comment_prefix():
    text = PY_FILE
    out = render("x.py", text, "c")
    assert '    # your code here: see docs/labs/c.md, exercise 3' in out
    assert "    return None\n\n" in out and '"solution"' not in out
    out = render("x.py", text, None)
    assert 'return "solution"' in out and "return None" not in out


@pytest.mark.parametrize("text,msg", [
    ("/* %s a BEGIN */\nx;\n" % M, "x.c:1: region of lab a never ends"),
    ("x;\n   %s a END */\n" % M, "x.c:2: END without a BEGIN"),
    ("/* %s a STUB\n" % M, "x.c:1: STUB without a BEGIN"),
    ("/* %s a BEGIN */\n/* %s a BEGIN */\n" % (M, M), "x.c:2: BEGIN inside"),
    ("/* %s a BEGIN */\n/* %s b STUB\n" % (M, M), "x.c:2: marker of lab b"),
    ("/* %s z BEGIN */\n" % M, "x.c:1: unknown lab 'z'"),
    ("/* %s a BEGIN */\n   %s a END */\n" % (M, M), "x.c:2: END without a STUB"),
    ("/* %s a BEGIN */\n/* %s a STUB\n x */ y\n   %s a END */\n" % (M, M, M),
     "x.c:3: a C stub line may not contain a comment"),
    ("/* %s a BEGIN\n" % M, "x.c:1: malformed lab marker"),
    ("// %s a BEGIN\n" % M, "x.c:1: malformed lab marker"),
])
def test_malformed_markers_are_errors_with_file_and_line(text, msg):
    with pytest.raises(labgen.LabError) as e:
        labgen.parse("x.c", text, LABS)
    assert str(e.value).startswith(msg), str(e.value)


def test_hash_stub_lines_must_be_comments():
    text = "# %s a BEGIN\nx = 1\n# %s a STUB\nx = 0\n# %s a END\n" % (M, M, M)
    with pytest.raises(labgen.LabError) as e:
        labgen.parse("m.py", text, LABS)
    assert str(e.value).startswith("m.py:4: a stub line must start with '# '")


def toy_project(tmp_path):
    root = tmp_path / "sol"
    (root / "labs").mkdir(parents=True)
    (root / "labs" / "labs.txt").write_text("a first\nb second\nc third\n")
    (root / "labs" / "staff-only").write_text("labs/staff-only\nsecret/\n")
    (root / "secret").mkdir()
    (root / "secret" / "mistake.patch").write_text("x\n")
    (root / "x.c").write_text(C_FILE)
    (root / "run.sh").write_text("#!/bin/sh\n# %s STAFF-ONLY\n" % M)
    (root / "tool.sh").write_text("#!/bin/sh\necho hi\n")
    os.chmod(root / "tool.sh", 0o755)
    return root


def test_starter_tree_of_a_toy_project(tmp_path):
    root = toy_project(tmp_path)
    dest = labgen.write_tree("b", tmp_path / "out", root=root)
    files = sorted(str(p.relative_to(dest)) for p in dest.rglob("*")
                   if p.is_file() and ".git" not in p.parts)
    assert files == ["labs/labs.txt", "labs/starter", "tool.sh", "x.c"]
    assert os.access(dest / "tool.sh", os.X_OK)
    text = (dest / "x.c").read_text()
    assert "return 1;" in text and "return -1;" in text
    assert (dest / "labs" / "starter").read_text().startswith("lab b\n")
    log = subprocess.run(["git", "log", "--oneline"], cwd=dest, text=True,
                         capture_output=True).stdout
    assert "starter tree for lab b" in log
    with pytest.raises(labgen.LabError):
        labgen.write_tree("b", tmp_path / "out", root=root)   # not empty


def test_real_tree_markers_are_well_formed():
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "labgen.py"),
                        "check"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_grade_lists_every_lab_with_points():
    r = subprocess.run([sys.executable, str(ROOT / "tests" / "grade.py")],
                       capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    for name, _ in labgen.read_labs(ROOT):
        assert any(l.split()[:1] == [name] and "points" in l
                   for l in r.stdout.splitlines()), (name, r.stdout)
