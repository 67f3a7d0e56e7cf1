"""pcq: the lock-free producer/consumer queue of the UDP fast demux (net/pcq.h).

  nk-pcq EXPR    the queue's packed word split into producer and consumer
                 index, its length and capacity, refused puts, and every
                 slot in [consumer, producer) with its state: PUBLISHED
                 (holds an item: for a socket's PCQ a record, decoded) or
                 RESERVED (a producer advanced the word but has not stored
                 its pointer yet -- a real state, see net/pcq.c)

EXPR may be a struct pcq *, a struct socket * (its so_rcv.sb_pcq), a
struct sockbuf * or a struct inpcb * (inp_pcq).
"""

import gdb

from . import core
from .core import command, out, NkError

PCQ_H = "net/pcq.h"


def indices(q):
    pc = int(q["pcq_pc"])
    return pc >> 32, pc & 0xFFFFFFFF


def count(q):
    p, c = indices(q)
    n = int(q["pcq_nslots"])
    return p - c if p >= c else p + n - c


def slot(q, s):
    chunk = core.const(PCQ_H, "PCQ_CHUNK")
    return core.addr(q["pcq_chunk"][s // chunk][s % chunk])


def slots(q):
    """(slot index, item address or 0) for each slot in [c, p)."""
    p, c = indices(q)
    n = int(q["pcq_nslots"])
    s = c
    k = 0
    while s != p and k < n:
        yield s, slot(q, s)
        s = 0 if s + 1 == n else s + 1
        k += 1


def items(q):
    for s, item in slots(q):
        if item:
            yield item


def as_pcq(expr):
    v, tag = core.parse_ptr(expr)
    if tag == "socket":
        return v["so_rcv"]["sb_pcq"]
    if tag == "sockbuf":
        return v["sb_pcq"]
    if tag == "inpcb":
        return v["inp_pcq"]
    return v.cast(core.ptr_type("struct pcq"))


@command("nk-pcq")
def nk_pcq(arg, from_tty):
    """Show a PCQ: producer/consumer indices, length, and each slot's state: nk-pcq EXPR.

EXPR: a struct pcq *, or a socket, sockbuf or inpcb that has one."""
    q = as_pcq(arg)
    if not core.addr(q):
        raise NkError("no PCQ there (NULL: not a UDP socket, or fast_demux was off at its creation)")
    q = q.dereference()
    p, c = indices(q)
    n = int(q["pcq_nslots"])
    out("pcq %#x: producer %d consumer %d (word %#x): %d queued of %d, %d refused (full)" % (
        core.addr(q.address), p, c, int(q["pcq_pc"]), count(q), n - 1, int(q["pcq_full"])))
    mb = None
    try:
        from . import mbufs as mb
    except ImportError:
        pass
    for s, item in slots(q):
        if not item:
            out("  slot %4d RESERVED (not yet published)" % s)
            continue
        line = "  slot %4d PUBLISHED %#x" % (s, item)
        if mb is not None:
            try:
                rec = gdb.Value(item).cast(core.ptr_type("struct mbuf"))
                body = rec["m_next"] if core.addr(rec["m_next"]) else rec
                line += ": %d data bytes" % len(mb.data(body))
                sin = rec.dereference()
                if int(sin["m_len"]) == core.sizeof("struct sockaddr_in"):
                    a = sin["m_data"].cast(core.ptr_type("struct sockaddr_in")).dereference()
                    line += " from %s:%d" % (core.ip_net(a["sin_addr"]["s_addr"]),
                                             core.ntohs(a["sin_port"]))
            except gdb.error:
                pass
        out(line)
