"""locks: who holds which lock and who waits (kernel/lock.h, kernel/lockcheck.c).

  nk-locks      per hart: the spinlocks it holds (from the lock-order
                checker's per-CPU stack: class, level, lock address and
                where it was taken) and the lock it spins on, if it is in
                acquire(); per thread: the sleeplocks it holds (the
                checker's per-thread stack) and the sleeplock it sleeps
                on; then the checker's state (on/off, classes, learned
                pairs).

The held-lock stacks exist only while the checker is on (kern.lockcheck,
on in make test and by default); with it off, nk-locks still shows the
spinners and sleepers, found from the harts' frames and wait channels.
"""

import gdb

from . import core
from .core import command, out


def classes():
    arr = core.global_("classes")
    n = int(core.global_("nclasses"))
    return [(core.cstr(arr[i]["name"]), int(arr[i]["level"])) for i in range(n)]


def cls_str(cls, table):
    cls = int(cls)
    if 0 <= cls < len(table):
        name, level = table[cls]
        return "%s (level %s)" % (name, level if level else "learned")
    return "class %d" % cls


def held_lines(stack, table, kind):
    lines = []
    for k in range(int(stack["n"])):
        h = stack["h"][k]
        lk = core.addr(h["lk"])
        pcs = [core.addr(h["pc"][j]) for j in range(int(h["pc"].type.range()[1]) + 1)]
        pcs = [p for p in pcs if p]
        taken = "?"
        # the first return address outside the lock functions themselves
        # (acquire, net_lock_acquire, ...) is the caller that took it
        for k, pc in enumerate(pcs):
            if "acquire" not in core.funcname(pc):
                taken = core.where(pc)
                if k:
                    taken += " via " + core.funcname(pcs[k - 1])
                break
        lines.append("    holds %s %s %s, taken at %s" % (kind, cls_str(h["cls"], table),
                                                        core.symbol(lk), taken))
    return lines


def spinning_on(th):
    """The lock a hart spins on in acquire(), or None."""
    cur = gdb.selected_thread()
    try:
        th.switch()
        f = gdb.newest_frame()
        for _ in range(4):
            if f is None:
                break
            if f.name() in ("acquire",):
                try:
                    lk = f.read_var("lk")
                except ValueError:
                    return "a lock (lk not visible here)"
                holder = lk["cpu"]
                who = ""
                if core.addr(holder):
                    who = ", held by cpu%d" % int(holder["id"])
                return "%s %s%s" % (core.cstr(lk["name"]), core.symbol(core.addr(lk)), who)
            f = f.older()
    finally:
        cur.switch()
    return None


def sleeplock_at(a):
    """The struct sleeplock at address a if it looks like a held one."""
    try:
        sl = core.deref(a, "struct sleeplock")
        if core.cstr(sl["lk"]["name"]) == "sleep lock" and int(sl["locked"]):
            return sl
    except gdb.error:
        pass
    return None


@command("nk-locks")
def nk_locks(arg, from_tty):
    """Show held locks and who waits for them, from the lock-order checker's records."""
    table = classes()
    on = int(core.global_("lockcheck_on"))
    cpus = core.global_("cpus")
    ths = {core.hart_of_thread(t): t for t in core.threads()}
    out("lock-order checker %s: %d classes, %d learned pairs" % (
        "on" if on else "OFF (held-lock stacks not kept)", len(table), int(core.global_("npairs"))))
    for i in range(core.ncpu()):
        c = cpus[i]
        p = c["proc"]
        who = "%d %s" % (int(p["pid"]), core.cstr(p["name"])) if core.addr(p) else "scheduler"
        out("cpu%d (%s): noff %d" % (i, who, int(c["noff"])))
        for line in held_lines(c["lc"], table, "spinlock"):
            out(line)
        if i in ths:
            spin = spinning_on(ths[i])
            if spin:
                out("    SPINS on %s" % spin)
    from . import procs
    names = procs.states()
    for _, p in procs.procs():
        lines = held_lines(p["lc_sleep"], table, "sleeplock")
        st = names.get(int(p["state"]), "?")
        if st == "SLEEPING":
            sl = sleeplock_at(core.addr(p["chan"]))
            if sl is not None:
                lines.append("    WAITS for sleeplock %s %#x held by pid %d" % (
                    core.cstr(sl["name"]), core.addr(sl.address), int(sl["pid"])))
        if lines:
            out("pid %d %s (%s):" % (int(p["pid"]), core.cstr(p["name"]), st))
            for line in lines:
                out(line)
