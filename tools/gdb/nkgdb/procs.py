"""procs: processes, kernel threads and CPUs (kernel/proc.h, kernel/sched.c).

  nk-ps          every process and kernel thread: pid, state, where it runs,
                 what it sleeps on, its name
  nk-bt PID|all  the backtrace of a thread, sleeping ones included
  nk-cpus        per hart: what runs, push_off depth, locks held, run queues
  nk-runq        each CPU's run queues in order

gdb shows one "thread" per hart (QEMU's view), not per kernel thread. A
thread that is not running has its registers in p->context (saved by
swtch): nk-bt puts that ra/sp/s0 into the selected hart's registers for
the moment of one `bt` (the hart is stopped; everything is put back
after), so gdb's own unwinder, with arguments and locals, walks the
sleeping stack. If that cannot be done it walks the frame-pointer chain
by hand (the kernel keeps frame pointers: s0 - 8 holds the return
address, s0 - 16 the caller's s0).
"""

import gdb

from . import core
from .core import command, out, NkError


def states():
    return core.enum_names("enum procstate")


def procs(all_=False):
    """(index, struct proc value) of every slot in use."""
    table = core.global_("proc")
    unused = [v for v, n in states().items() if n == "UNUSED"][0]
    n = table.type.range()[1] + 1
    for i in range(n):
        p = table[i]
        if all_ or int(p["state"]) != unused:
            yield i, p


def running_on():
    """{proc address: hart} for the threads running now."""
    m = {}
    for i in range(core.ncpu()):
        a = core.addr(core.global_("cpus")[i]["proc"])
        if a:
            m[a] = i
    return m


def chan_str(chan):
    """A wait channel: proc[i] (wait() sleeps on the parent's slot), else
    its symbol+offset, else its address."""
    a = core.addr(chan)
    if a == 0:
        return ""
    table = core.global_("proc")
    base = core.addr(table.address)
    size = core.sizeof("struct proc")
    n = table.type.range()[1] + 1
    if base <= a < base + n * size:
        off = (a - base) % size
        return "proc[%d]%s" % ((a - base) // size, "+%d" % off if off else "")
    return core.symbol(a)


def find_pid(pid):
    for i, p in procs():
        if int(p["pid"]) == pid:
            return p
    raise NkError("no process with pid %d" % pid)


@command("nk-ps")
def nk_ps(arg, from_tty):
    """List processes and kernel threads: PID STATE CPU WCHAN NAME.

CPU is the hart running it (for RUNNING) or its home CPU (whose run queue
it joins), with "=N" when it is pinned to N. WCHAN is the wait channel of a
sleeping thread, as a symbol where it has one. [k] marks kernel threads."""
    names = states()
    run = running_on()
    out("%4s %-9s %-5s %-24s %s" % ("PID", "STATE", "CPU", "WCHAN", "NAME"))
    for i, p in procs():
        a = core.addr(p.address)
        cpu = "%d" % run[a] if a in run else "%d" % int(p["cpu"])
        if int(p["affinity"]) >= 0:
            cpu += "=%d" % int(p["affinity"])
        st = names.get(int(p["state"]), str(int(p["state"])))
        wchan = chan_str(p["chan"]) if st == "SLEEPING" else ""
        name = core.cstr(p["name"])
        if bool(p["kthread"]):
            name += " [k]"
        out("%4d %-9s %-5s %-24s %s" % (int(p["pid"]), st, cpu, wchan, name))


def _frames_by_hand(ctx):
    """Return-address chain from a saved context, by frame pointers."""
    pc, fp = int(ctx["ra"]), int(ctx["s0"])
    lines = []
    for depth in range(64):
        lines.append("#%-2d %#x in %s" % (depth, pc, core.where(pc)))
        if core.funcname(pc) in ("thread_start", "main_entry", "usertrapvec"):
            break
        if fp == 0 or fp % 8:
            break
        try:
            ra, nfp = [int.from_bytes(core.read(fp - 16, 16)[k:k + 8], "little")
                       for k in (8, 0)]
        except gdb.MemoryError:
            lines.append("   (frame at %#x not readable)" % fp)
            break
        if ra == 0:
            break
        pc, fp = ra, nfp
    return "\n".join(lines)


def bt_context(ctx, args=""):
    """`bt` of a thread from its saved struct context, by borrowing the
    selected (stopped) hart's registers for the moment of the backtrace."""
    th = gdb.selected_thread()
    if th is None:
        return _frames_by_hand(ctx)
    gdb.newest_frame().select()
    regs = ("pc", "sp", "s0", "ra")
    saved = {}
    try:
        f = gdb.newest_frame()
        for r in regs:
            saved[r] = int(f.read_register(r).cast(core.type_("unsigned long")))
        gdb.execute("set $ra = %d" % int(ctx["ra"]), to_string=True)
        gdb.execute("set $sp = %d" % int(ctx["sp"]), to_string=True)
        gdb.execute("set $s0 = %d" % int(ctx["s0"]), to_string=True)
        gdb.execute("set $pc = %d" % int(ctx["ra"]), to_string=True)
        text = gdb.execute("bt " + args, to_string=True)
    except gdb.error as e:
        text = "(gdb could not unwind it: %s; by frame pointers:)\n%s" % (
            e, _frames_by_hand(ctx))
    finally:
        for r in ("ra", "sp", "s0", "pc"):
            if r in saved:
                gdb.execute("set $%s = %d" % (r, saved[r]), to_string=True)
        gdb.newest_frame().select()
    return text.rstrip("\n")


def bt_running(hart, args=""):
    cur = gdb.selected_thread()
    for th in core.threads():
        if core.hart_of_thread(th) == hart:
            try:
                th.switch()
                return gdb.execute("bt " + args, to_string=True).rstrip("\n")
            finally:
                cur.switch()
    return "(no gdb thread for hart %d)" % hart


def bt_one(p, args=""):
    names = states()
    st = names.get(int(p["state"]), "?")
    run = running_on()
    a = core.addr(p.address)
    head = "pid %d %s (%s)" % (int(p["pid"]), core.cstr(p["name"]), st)
    if a in run:
        return head + ", running on hart %d:\n%s" % (run[a], bt_running(run[a], args))
    if st in ("ZOMBIE", "UNUSED", "USED"):
        return head + ": no stack to show"
    if core.addr(p["context"]["ra"]) == 0:
        return head + ": never ran"
    return head + ":\n" + bt_context(p["context"], args)


@command("nk-bt")
def nk_bt(arg, from_tty):
    """Backtrace of a thread by pid, sleeping or runnable ones too: nk-bt PID|all [full].

A running thread's backtrace is its hart's (gdb `thread N; bt`). A thread
that is not running is shown from the registers swtch() saved in
p->context; `full` adds the locals of each frame."""
    words = arg.split()
    if not words:
        raise NkError("usage: nk-bt PID|all [full]")
    extra = "full" if "full" in words[1:] else ""
    if words[0] == "all":
        for i, p in procs():
            out(bt_one(p, extra))
            out()
        return
    try:
        pid = int(words[0], 0)
    except ValueError:
        raise NkError("usage: nk-bt PID|all [full]")
    out(bt_one(find_pid(pid), extra))


def rq_chain(p):
    """pid:name of each process from p on, following rq_next."""
    return ["%d:%s" % (int(q["pid"]), core.cstr(q["name"]))
            for q in core.walk(p, "rq_next", 128)]


def runq_list(rq):
    """Names/pids on a struct runq."""
    return rq_chain(rq["rq_head"])


TRAPS = {"kerneltrap": "in a trap from the kernel", "usertrap": "in a trap from user mode"}


def hart_context(th):
    """(where the hart stopped, what it is inside of: a trap, user mode)."""
    cur = gdb.selected_thread()
    try:
        th.switch()
        f = gdb.newest_frame()
        pc = int(f.pc())
        if pc < core.kernbase():
            return "%#x" % pc, ", in user mode"
        ctx = ""
        depth = 0
        try:
            while f is not None and depth < 32:
                if f.name() in TRAPS:
                    ctx = ", " + TRAPS[f.name()]
                    break
                f = f.older()
                depth += 1
        except gdb.error:
            pass
        return core.where(pc), ctx
    finally:
        if cur is not None:
            cur.switch()


@command("nk-cpus")
def nk_cpus(arg, from_tty):
    """Per hart: the thread it runs, where it is, push_off depth, locks held, queues.

noff is the push_off() nesting (interrupts stay off while > 0); locks are
the spinlocks the lock-order checker records for this hart, innermost
last; pc is where the hart stopped, and whether it is inside a trap
(an interrupt or a system call: kerneltrap or usertrap in its frames) or
in user mode."""
    cpus = core.global_("cpus")
    ths = {core.hart_of_thread(t): t for t in core.threads()}
    for i in range(core.ncpu()):
        c = cpus[i]
        p = c["proc"]
        who = "%d %s" % (int(p["pid"]), core.cstr(p["name"])) if core.addr(p) else "scheduler"
        pc, ctx = "", ""
        if i in ths:
            try:
                pc, ctx = hart_context(ths[i])
            except gdb.error:
                pc = "?"
        lc = c["lc"]
        held = []
        for k in range(int(lc["n"])):
            lk = lc["h"][k]["lk"].cast(core.ptr_type("struct spinlock"))
            held.append(core.cstr(lk["name"]))
        out("cpu%d: %s%s  pc %s%s" % (i, who, " (idle)" if bool(c["idle"]) else "", pc, ctx))
        out("      noff=%d intena=%d locks=[%s] rq_kthread=%d rq_user=%d "
            "switches=%d intr=%d timer=%d" % (
                int(c["noff"]), int(c["intena"]), ", ".join(held),
                int(c["rq_kthread"]["rq_len"]), int(c["rq_user"]["rq_len"]),
                int(c["nswitch"]), int(c["nintr"]), int(c["ntimer"])))


@command("nk-runq")
def nk_runq(arg, from_tty):
    """Each CPU's run queues, in the order the scheduler will take them.

Kernel threads (rq_kthread) run before user processes (rq_user); ipiq holds
threads made runnable for this CPU by another one, not yet queued."""
    cpus = core.global_("cpus")
    for i in range(core.ncpu()):
        c = cpus[i]
        cur = c["proc"]
        out("cpu%d running %s" % (i, "%d:%s" % (int(cur["pid"]), core.cstr(cur["name"]))
                                 if core.addr(cur) else "nothing (scheduler)"))
        for q in ("rq_kthread", "rq_user"):
            items = runq_list(c[q])
            out("  %-10s len=%d [%s]" % (q, int(c[q]["rq_len"]), " ".join(items)))
        ipi = rq_chain(c["ipiq"])
        out("  %-10s [%s]" % ("ipiq", " ".join(ipi)))
