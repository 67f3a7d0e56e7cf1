"""netisr: the per-CPU network threads and LWKT messages (net/netisr.h,
net/lwkt_msg.h).

  nk-netisr [CPU]  per netisr: its thread and state, queue length, counters
                   and drops, then each queued message: handler symbol,
                   flags, and for a packet message the mbuf it carries,
                   decoded
  nk-msg EXPR      one struct lwkt_msg: flags, target and reply ports,
                   handler, error, and what it is embedded in (a packet's
                   m_pkthdr.ph_msg, a socket request's netmsg_pru, ...)

A packet travels as the lwkt_msg embedded in its first mbuf's packet
header, so the mbuf is container_of(msg, struct mbuf, m_pkthdr.ph_msg);
a protocol request (struct netmsg_pru) starts with its message.
"""

import gdb

from . import core
from .core import command, out, NkError

MSG_H = "net/lwkt_msg.h"


def msg_offset_in_mbuf():
    t = core.type_("struct mbuf")
    off = None
    for f in t.fields():
        if f.name == "m_pkthdr":
            off = f.bitpos // 8
    for f in core.type_("struct m_pkthdr").fields():
        if f.name == "ph_msg":
            return off + f.bitpos // 8
    raise NkError("struct m_pkthdr has no ph_msg")


def port_name(port):
    a = core.addr(port)
    if not a:
        return "none"
    try:
        name = core.cstr(port["mp_name"])
    except gdb.error:
        name = "?"
    return "%s (%#x)" % (name, a)


PACKET_HANDLERS = ("netisr_packet",)
# handlers whose message is the first member of a struct netmsg_pru
PRU_HANDLERS = ("so_pru_dispatch", "soabort_handler", "tcp_rcvd_async_handler")
# handlers whose message is embedded in a struct tcpcb, and its field
TCPCB_MSGS = {"tcp_timer_handler": "t_timermsg", "tcp_connmsg_handler": "t_connmsg"}


def is_packet(msg):
    return core.funcname(core.addr(msg["ms_handler"])) in PACKET_HANDLERS


def describe(msg, indent="  "):
    """Lines describing one message."""
    h = core.addr(msg["ms_handler"])
    fl = core.flagstr(msg["ms_flags"], MSG_H, "MSGF_")
    lines = ["%smsg %#x handler %s flags %s error %d" % (
        indent, core.addr(msg.address), core.symbol(h), fl, int(msg["ms_error"]))]
    if is_packet(msg):
        m = gdb.Value(core.addr(msg.address) - msg_offset_in_mbuf()).cast(core.ptr_type("struct mbuf"))
        try:
            from . import mbufs
            b = mbufs.data(m, 256)
            lines.append("%s  mbuf %#x (%d bytes): %s" % (indent, core.addr(m),
                                                          int(m["m_pkthdr"]["ph_len"]),
                                                          mbufs.decode(b)))
        except ImportError:
            lines.append("%s  mbuf %#x" % (indent, core.addr(m)))
    else:
        fn = core.funcname(h)
        if fn in PRU_HANDLERS:
            pru = msg.address.cast(core.ptr_type("struct netmsg_pru")).dereference()
            req = core.enum_names("enum pru_req").get(int(pru["nm_req"]), str(int(pru["nm_req"])))
            lines.append("%s  netmsg_pru %s on socket %#x" % (indent, req, core.addr(pru["nm_so"])))
        elif fn in TCPCB_MSGS:
            tp = core.container_of(msg.address, "struct tcpcb", TCPCB_MSGS[fn])
            lines.append("%s  %s of tcpcb %#x" % (indent, TCPCB_MSGS[fn], core.addr(tp)))
    return lines


def queued(port, limit=4096):
    for m in core.walk(port["mp_head"], "ms_next", limit):
        yield m.dereference()


def netisrs():
    arr = core.global_("netisrs")
    n = int(core.global_("netisr_ncpu"))
    return [arr[i] for i in range(n)]


def thread_state(pid):
    from . import procs
    for i, p in procs.procs():
        if int(p["pid"]) == pid:
            st = procs.states().get(int(p["state"]), "?")
            run = procs.running_on()
            a = core.addr(p.address)
            if a in run:
                st += " on cpu%d" % run[a]
            return st
    return "no thread"


@command("nk-netisr")
def nk_netisr(arg, from_tty):
    """Show the netisr threads: state, queue, counters, queued messages: nk-netisr [CPU].

qlen counts packets on the port now (net.netisr.<cpu>.qlen); qdrops the
packets refused because the queue was at net.netisr.maxqlen."""
    nis = netisrs()
    if arg.strip():
        cpu = int(gdb.parse_and_eval(arg))
        if not 0 <= cpu < len(nis):
            raise NkError("no netisr on cpu %d (%d netisrs)" % (cpu, len(nis)))
        nis = [nis[cpu]]
    for ni in nis:
        port = ni["ni_port"]
        msgs = list(queued(port))
        out("%s (cpu %d, pid %d, %s): qlen %d, %d message%s queued, msgs %d pkts %d batches %d "
            "dropped %d qdrops %d%s" % (
                core.cstr(ni["ni_name"]), int(ni["ni_cpu"]), int(ni["ni_pid"]),
                thread_state(int(ni["ni_pid"])), int(ni["ni_qlen"]), len(msgs),
                "" if len(msgs) == 1 else "s", int(ni["ni_msgs"]), int(ni["ni_pkts"]),
                int(ni["ni_batches"]), int(ni["ni_dropped"]), int(ni["ni_qdrops"]),
                ", owner waiting" if bool(port["mp_waiting"]) else ""))
        for msg in msgs:
            for line in describe(msg):
                out(line)


@command("nk-msg")
def nk_msg(arg, from_tty):
    """Show one LWKT message and what it carries: nk-msg EXPR (a struct lwkt_msg *)."""
    msg = core.parse(arg, "struct lwkt_msg")
    if not core.addr(msg):
        raise NkError("NULL message")
    msg = msg.dereference()
    for line in describe(msg, ""):
        out(line)
    out("  target %s, reply port %s" % (port_name(msg["ms_target"]), port_name(msg["ms_reply_port"])))
    nxt = core.addr(msg["ms_next"])
    if nxt:
        out("  next queued: %#x" % nxt)
