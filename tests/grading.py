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
pass.  A parametrized test earns its points once per case.  The first line
of the docstring is the title shown in the grade table.

To add a lab: put its name and a one-line description in LABS below, and
mark its tests with @graded(points, lab="name").  The tests reuse the
fixtures of conftest.py (boot, guest, fsimg) and netkern.Guest.
"""

import pytest

# Lab name -> what it covers.  `make grade` with no LAB lists these.
LABS = {
    "kernel": "boot, shell, pipes and redirection, file system persistence "
              "and crash recovery, usertests, gdb, make qemu",
    "net": "e1000, ARP, IPv4 and ICMP against a real Linux peer over a tap "
           "in a network namespace (tests/test_net.py, tests/netrig.py)",
}


def graded(points, lab="kernel"):
    """Decorator: this test is worth `points` in lab `lab`."""
    if lab not in LABS:
        raise ValueError("unknown lab %r: add it to LABS in tests/grading.py"
                         % lab)
    if not (isinstance(points, int) and points > 0):
        raise ValueError("points must be a positive integer")
    return pytest.mark.grade(points=points, lab=lab)


def grade_of(item):
    """(points, lab) of a collected test item, or None if not graded."""
    m = item.get_closest_marker("grade")
    if m is None:
        return None
    return m.kwargs["points"], m.kwargs["lab"]


def title_of(item):
    """First docstring line of the test function, else its name."""
    doc = getattr(getattr(item, "function", None), "__doc__", None)
    title = doc.strip().splitlines()[0] if doc and doc.strip() else item.name
    if getattr(item, "callspec", None) is not None:
        title += " [%s]" % item.callspec.id
    return title
