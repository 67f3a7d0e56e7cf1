#!/usr/bin/env python3
"""labgen.py: write a lab's starter tree from the solution tree.

    tools/labgen.py tree LAB DEST     the starter tree for LAB in DEST
                                      (make lab-tree LAB=x DEST=dir)
    tools/labgen.py check             parse every marker; errors as file:line
    tools/labgen.py list [LAB]        the marked regions, per lab

Problem: a lab needs two trees that must never drift apart: the solution
(what make test checks) and the student's starter, where the code the
student writes is missing but everything else builds, boots and passes the
earlier labs.  Kept by hand, the two rot within a term.

Idea: there is one tree, the solution, and the code a student writes sits
between markers with the stub beside it.  The solution compiles as it is
(the stub is inside a comment); the generator swaps the solution for the
stub in lab x and every later lab, keeps the earlier labs' solutions,
drops staff-only files, and refuses a tree whose markers do not pair up.
The marker syntax is in docs/labs/README.md; the lab order in
labs/labs.txt; staff-only files in labs/staff-only.

Invariants: a region is BEGIN, solution lines, optionally STUB and stub
lines, END, all of one lab; regions do not nest; a C stub line never
contains the end of a comment; every error names file:line.
Testing: tests/test_labgen.py (host only, seconds); tests/test_labs.py
(every lab's starter builds, boots, fails its own grader, passes the
earlier ones).
"""

import fnmatch
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Comment styles by file name.  Other files are copied as they are and are
# never scanned (markdown documents the markers in examples).
C_EXT = {".c", ".h", ".S", ".s", ".ld"}
HASH_EXT = {".py", ".sh", ".mk", ".txt", ".cfg", ".ini", ".tmpl", ".gdb"}
HASH_NAMES = {"Makefile", "makefile", "GNUmakefile"}

_W = r"LAB"     # spelled apart so this file never matches its own patterns
C_BEGIN = re.compile(r"^(\s*)/\* " + _W + r" (\S+) BEGIN(?::\s*(.*?))?\s*\*/\s*$")
C_STUB = re.compile(r"^\s*/\* " + _W + r" (\S+) STUB\s*$")
C_END = re.compile(r"^\s*" + _W + r" (\S+) END \*/\s*$")
H_BEGIN = re.compile(r"^(\s*)# " + _W + r" (\S+) BEGIN(?::\s*(.*?))?\s*$")
H_STUB = re.compile(r"^\s*# " + _W + r" (\S+) STUB\s*$")
H_END = re.compile(r"^\s*# " + _W + r" (\S+) END\s*$")
H_STUBLINE = re.compile(r"^(\s*)# ?(.*)$")
# Anything that looks like a marker but matched none of the above.
LOOSE = re.compile(r"\b" + _W + r"\s+\S+\s+(BEGIN|STUB|END)\b")
STAFF_WORDS = _W + " STAFF-ONLY"


class LabError(Exception):
    """A marker problem; str() is 'file:line: what'."""


def read_labs(root=ROOT):
    """[(name, description)] in course order, from labs/labs.txt."""
    labs = []
    for line in (Path(root) / "labs" / "labs.txt").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, desc = line.partition(" ")
            labs.append((name, desc.strip()))
    return labs


def staff_patterns(root=ROOT):
    p = Path(root) / "labs" / "staff-only"
    if not p.exists():
        return []
    return [l.strip() for l in p.read_text().splitlines()
            if l.strip() and not l.strip().startswith("#")]


def is_staff(rel, patterns, text=None):
    for pat in patterns:
        if pat.endswith("/") and (rel + "/").startswith(pat):
            return True
        if fnmatch.fnmatchcase(rel, pat):
            return True
    if text is not None:
        head = "\n".join(text.splitlines()[:5])
        if STAFF_WORDS in head:
            return True
    return False


def style_of(rel):
    name = os.path.basename(rel)
    ext = os.path.splitext(name)[1]
    if ext in C_EXT:
        return "c"
    if ext in HASH_EXT or name in HASH_NAMES:
        return "hash"
    return None


def project_files(root=ROOT):
    """Paths (relative, '/'-separated) of the tree's files: what git tracks
    plus untracked files it does not ignore; without git, every file not
    looking like a build product."""
    root = Path(root)
    r = subprocess.run(["git", "-c", "safe.directory=*", "ls-files", "-co",
                        "--exclude-standard", "-z"], cwd=root,
                       capture_output=True)
    if r.returncode == 0:
        names = [n for n in r.stdout.decode().split("\0") if n]
        return sorted(n for n in set(names) if (root / n).is_file()
                      and not (root / n).is_symlink())
    out = []
    for d, dirs, files in os.walk(root):
        dirs[:] = [x for x in dirs if not x.startswith(".") and
                   x not in ("__pycache__", "logs")]
        for f in files:
            rel = os.path.relpath(os.path.join(d, f), root)
            if not re.search(r"(\.o|\.d|\.asm|\.sym|\.img)$", f):
                out.append(rel)
    return sorted(out)


class Region:
    def __init__(self, lab, title, indent, line):
        self.lab, self.title, self.indent, self.line = lab, title, indent, line
        self.solution, self.stub, self.has_stub = [], [], False


def parse(rel, text, labs):
    """Split a file into plain lines and Regions.  labs: the known names.
    Raises LabError('rel:line: ...') for anything that does not pair up."""
    style = style_of(rel)
    if style is None:
        return [text]
    begin, stub, end = ((C_BEGIN, C_STUB, C_END) if style == "c"
                        else (H_BEGIN, H_STUB, H_END))
    parts, cur = [], None
    lines = text.split("\n")
    for no, line in enumerate(lines, 1):
        where = "%s:%d" % (rel, no)
        mb, ms, me = begin.match(line), stub.match(line), end.match(line)
        m = mb or ms or me
        if m is None:
            if LOOSE.search(line):
                raise LabError("%s: malformed lab marker: %r" % (where,
                                                                 line.strip()))
            if cur is None:
                parts.append(line)
            elif cur.has_stub:
                cur.stub.append(_stub_line(style, line, where))
            else:
                cur.solution.append(line)
            continue
        lab = mb.group(2) if mb else m.group(1)
        if lab not in labs:
            raise LabError("%s: unknown lab %r (labs/labs.txt)" % (where, lab))
        if mb:
            if cur is not None:
                raise LabError("%s: BEGIN inside the region of lab %s begun "
                               "at line %d" % (where, cur.lab, cur.line))
            cur = Region(lab, mb.group(3) or "", mb.group(1), no)
            continue
        if cur is None:
            raise LabError("%s: %s without a BEGIN" % (
                where, "STUB" if ms else "END"))
        if lab != cur.lab:
            raise LabError("%s: marker of lab %s inside the region of lab %s "
                           "begun at line %d" % (where, lab, cur.lab, cur.line))
        if ms:
            if cur.has_stub:
                raise LabError("%s: second STUB in the region begun at line %d"
                               % (where, cur.line))
            cur.has_stub = True
            continue
        if style == "c" and not cur.has_stub:
            raise LabError("%s: END without a STUB: in C the END line closes "
                           "the comment the STUB line opens" % where)
        parts.append(cur)
        cur = None
    if cur is not None:
        raise LabError("%s:%d: region of lab %s never ends" % (rel, cur.line,
                                                                cur.lab))
    return parts


def _stub_line(style, line, where):
    if style == "c":
        if "*/" in line or "/*" in line:
            raise LabError("%s: a C stub line may not contain a comment "
                           "(it sits inside one in the solution)" % where)
        return line
    m = H_STUBLINE.match(line)
    if m is None:
        raise LabError("%s: a stub line must start with '# '" % where)
    return m.group(1) + m.group(2) if m.group(2) else ""


def render(rel, parts, order, target):
    """The file's text in the starter tree of lab `target` (None: the
    solution with the markers and stubs taken out)."""
    cut = order.index(target) if target is not None else len(order)
    out = []
    for p in parts:
        if isinstance(p, str):
            out.append(p)
        elif order.index(p.lab) < cut:
            out.extend(p.solution)
        else:
            out.append(p.indent + _here_comment(rel, p))
            out.extend(p.stub)
    return "\n".join(out)


def _here_comment(rel, p):
    where = "docs/labs/%s.md" % p.lab
    what = "answer" if rel.endswith(".txt") else "code"
    text = "your %s here: see %s%s" % (what, where, ", " + p.title if p.title
                                       else "")
    if style_of(rel) == "c":
        return "/* %s */" % text
    return "# %s" % text


def scan(root=ROOT):
    """{rel: parts} of every non-staff file with markers, and the list of
    (rel, text-or-None) of every file that goes into a starter tree.
    Raises LabError on the first bad marker."""
    root = Path(root)
    labs = [n for n, _ in read_labs(root)]
    pats = staff_patterns(root)
    marked, files = {}, []
    for rel in project_files(root):
        if is_staff(rel, pats):
            continue
        data = (root / rel).read_bytes()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            files.append((rel, None))
            continue
        if is_staff(rel, [], text):
            continue
        files.append((rel, text))
        parts = parse(rel, text, labs)
        if any(isinstance(p, Region) for p in parts):
            marked[rel] = parts
    return labs, marked, files


def write_tree(lab, dest, root=ROOT, git=True):
    root, dest = Path(root), Path(dest).resolve()
    labs, marked, files = scan(root)
    if lab not in labs:
        raise LabError("no lab %r; labs: %s" % (lab, " ".join(labs)))
    if dest.exists() and any(dest.iterdir()):
        raise LabError("%s exists and is not empty" % dest)
    if root.resolve() == dest or root.resolve() in dest.parents:
        raise LabError("DEST must lie outside the project")
    for rel, text in files:
        out = dest / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        if rel in marked:
            out.write_text(render(rel, marked[rel], labs, lab))
        elif text is None:
            out.write_bytes((root / rel).read_bytes())
        else:
            out.write_text(text)
        shutil.copymode(root / rel, out)
    src = _commit(root)
    (dest / "labs" / "starter").write_text(
        "lab %s\nfrom %s\n" % (lab, src))
    if git:
        _git_init(dest, lab, src)
    return dest


def _commit(root):
    r = subprocess.run(["git", "-c", "safe.directory=*", "rev-parse",
                        "--short", "HEAD"], cwd=root, capture_output=True,
                       text=True)
    return r.stdout.strip() if r.returncode == 0 else "unknown"


def _git_init(dest, lab, src):
    env = dict(os.environ, GIT_AUTHOR_NAME="netkern labs",
               GIT_AUTHOR_EMAIL="labs@netkern.invalid",
               GIT_COMMITTER_NAME="netkern labs",
               GIT_COMMITTER_EMAIL="labs@netkern.invalid")
    for cmd in (["init", "-q", "-b", "main"], ["add", "-A"],
                ["commit", "-q", "-m", "starter tree for lab %s (from %s)"
                 % (lab, src)], ["tag", "starter"]):
        r = subprocess.run(["git", "-c", "safe.directory=*"] + cmd, cwd=dest,
                           env=env, capture_output=True, text=True)
        if r.returncode != 0:
            raise LabError("git %s in %s failed: %s" % (cmd[0], dest,
                                                        r.stderr.strip()))


def check(root=ROOT):
    """Parse everything; also require a handout for every lab that has
    regions.  Returns the number of regions."""
    labs, marked, _ = scan(root)
    n = 0
    for rel, parts in marked.items():
        for p in parts:
            if isinstance(p, Region):
                n += 1
                if not (Path(root) / "docs" / "labs" /
                        (p.lab + ".md")).exists():
                    raise LabError("%s:%d: lab %s has no handout docs/labs/"
                                   "%s.md" % (rel, p.line, p.lab, p.lab))
    return n


def regions(root=ROOT):
    """[(lab, rel, line, title)] of every region, in lab order."""
    labs, marked, _ = scan(root)
    out = [(p.lab, rel, p.line, p.title) for rel, parts in marked.items()
           for p in parts if isinstance(p, Region)]
    return sorted(out, key=lambda r: (labs.index(r[0]), r[1], r[2]))


def main(argv):
    try:
        if argv[:1] == ["tree"] and len(argv) == 3:
            dest = write_tree(argv[1], argv[2])
            print("labgen: starter tree for lab %s in %s" % (argv[1], dest))
            print("labgen: next: cd %s && make && make grade LAB=%s"
                  % (dest, argv[1]))
            return 0
        if argv == ["check"]:
            print("labgen: %d marked regions, all well formed" % check())
            return 0
        if argv[:1] == ["list"] and len(argv) <= 2:
            for lab, rel, line, title in regions():
                if len(argv) == 1 or argv[1] == lab:
                    print("%-10s %s:%d  %s" % (lab, rel, line, title))
            return 0
    except LabError as e:
        print("labgen: error: %s" % e, file=sys.stderr)
        return 1
    print(__doc__.split("\n\n")[1], file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
