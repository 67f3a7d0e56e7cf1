"""Lab kernel (docs/labs/kernel.md): the answers file.  The lab's code is
graded by the kernel tests it shares with make test (test_boot.py,
test_fs.py, test_shell.py, test_lockcheck.py, test_tools.py,
test_usertests.py: every @graded test with the default lab)."""

from grading import check_answers, graded


@graded(2, lab="kernel", limit=10)
def test_kernel_answers():
    "docs/labs/answers-kernel.txt answers every question"
    problems = check_answers("kernel", 2)
    assert not problems, "\n".join(problems)
