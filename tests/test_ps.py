"""ps (user/ps.c) and the system call under it, procinfo(2)
(kernel/procinfo.c): the table as BSD's ps shows it."""

import re

import netkern


def rows(out):
    """{command: (pid, stat, cpu, time)} of ps's default output; the
    header first."""
    lines = out.splitlines()
    assert re.match(r"^\s*PID STAT CPU\s+TIME COMMAND$", lines[0]), out
    table = {}
    for line in lines[1:]:
        m = re.match(r"^\s*(\d+) (\S+)\s+(\d+|-)\s+(\d+:\d\d\.\d\d) (\S+)$", line)
        assert m, "ps line not in the form PID STAT CPU TIME COMMAND: %r" % line
        table[m.group(5)] = (int(m.group(1)), m.group(2), m.group(3), m.group(4))
    return table


def test_ps_shows_processes_and_kernel_threads(guest):
    """ps lists init, sh and itself (running on a hart, the others
    sleeping, no hart); a spinning process's TIME grows; -a adds the kernel threads in brackets; -l shows
    parents and pinning; a bad option prints the usage; procinfo's
    usertests (the table's contents, bad pointers) pass."""
    t = rows(guest.run("ps"))
    assert set(t) >= {"init", "sh", "ps"}, t
    assert not any(name.startswith("[") for name in t), t
    assert t["init"][0] == 1 and t["init"][1] == "S" and t["init"][2] == "-", t
    assert t["ps"][1] == "R" and t["ps"][2] in ("0", "1"), t
    assert t["sh"][1] == "S", t

    a = rows(guest.run("ps -a"))
    for k in ("[netisr0]", "[netisr1]", "[nettimer]"):
        assert k in a, a
    assert set(a) >= set(t) - {"ps"}, a

    lng = guest.run("ps -al")
    assert re.match(r"^\s*PID\s+PPID STAT CPU HOME\s+SZ\s+TIME COMMAND$", lng.splitlines()[0]), lng
    sh = t["sh"][0]
    assert re.search(r"^\s*\d+\s+%d R\s+\d\s+\d\s+\d+\s+\d+:\d\d\.\d\d ps$" % sh, lng, re.M), lng
    assert re.search(r"^\s*\d+\s+1 S\s+-\s+=0\s+0\s+\d+:\d\d\.\d\d \[netisr0\]$", lng, re.M), lng
    assert re.search(r"^\s*\d+\s+1 S\s+-\s+=1\s+0\s+\d+:\d\d\.\d\d \[netisr1\]$", lng, re.M), lng

    # a process that runs: R on a hart, its TIME growing (a loaded host
    # may run it late: look until it has run, and run more)
    guest.run("spin 30 &")
    sp = None

    def spin_row():
        nonlocal sp
        sp = rows(guest.run("ps")).get("spin")
        return sp
    netkern.until(lambda: spin_row() and sp[3] != "0:00.00")
    assert sp and sp[1] == "R" and sp[3] != "0:00.00", sp
    first = sp
    netkern.until(lambda: spin_row() and sp[3] > first[3])
    assert sp and sp[0] == first[0] and sp[3] > first[3], (first, sp)
    guest.run("kill %d" % first[0])

    assert "usage: ps [-al]" in guest.run("ps -x")
    out = guest.run("usertests procinfo badprocinfo", timeout=120 * netkern.SCALE)
    results, verdict = netkern.parse_usertests(out)
    assert results == {"procinfo": "OK", "badprocinfo": "OK", "memory": "OK"} \
        and verdict == "passed", out
