"""Shell and core utilities: ls, pipes, redirection, ';'.

Expected contents come from the host tree: fs.img holds README.md and one
program per user/*.c (the Makefile's rule), and README.md is ASCII.
"""

from grading import graded

import netkern


def host_readme():
    return (netkern.ROOT / "README.md").read_text()


@graded(3)
def test_ls_lists_readme_and_programs(guest):
    "ls lists README.md and every program built from user/*.c"
    names = netkern.ls_names(guest.run("ls"))
    programs = {p.stem for p in (netkern.ROOT / "user").glob("*.c")}
    assert programs, "no user/*.c programs in the tree"
    missing = ({"README.md"} | programs) - names
    assert not missing, "ls does not list %s" % sorted(missing)


@graded(3)
def test_pipe_echo_into_wc(guest):
    "echo hi | wc prints 1 1 3"
    assert guest.run("echo hi | wc").split() == ["1", "1", "3"]


@graded(3)
def test_pipe_carries_a_whole_file(guest):
    "cat README.md | wc counts the same lines, words and bytes as the host"
    text = host_readme()
    want = [str(text.count("\n")), str(len(text.split())),
            str(len(text.encode()))]
    assert guest.run("cat README.md | wc").split()[:3] == want


@graded(3)
def test_redirect_stdout_then_stdin(guest):
    "echo > f writes a file, cat and wc < f read it back"
    assert guest.run("echo hello > f") == ""
    assert guest.run("cat f") == "hello\n"
    assert guest.run("wc < f").split()[:3] == ["1", "1", "6"]


@graded(2)
def test_redirect_truncates_and_appends(guest):
    "> truncates an existing file, >> appends"
    guest.run("echo a much longer first line > f")
    guest.run("echo short > f")
    assert guest.run("cat f") == "short\n"
    guest.run("echo more >> f")
    assert guest.run("cat f") == "short\nmore\n"


@graded(2)
def test_semicolon_runs_commands_in_order(guest):
    "a ; b runs a then b, also with redirections"
    assert guest.run("echo one; echo two") == "one\ntwo\n"
    assert guest.run("echo x > a; echo y > b; cat a b") == "x\ny\n"


@graded(2)
def test_pipeline_of_three(guest):
    "cat README.md | cat | wc gives the same counts as the file"
    text = host_readme()
    assert guest.run("cat README.md | cat | wc").split()[:2] == [
        str(text.count("\n")), str(len(text.split()))]
