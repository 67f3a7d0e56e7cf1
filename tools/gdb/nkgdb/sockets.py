"""sockets: sockets, pcbs and TCP control blocks (net/socket.h, net/in_pcb.h,
net/tcp_var.h).

  nk-sockets       every socket: protocol, state, local and foreign
                   address, receive/send buffer counts and limits, PCQ
                   length, the netisr that owns its pcb
  nk-so EXPR       one socket in full: flags by name, both buffers, the
                   listen queues, the pcb and the records waiting in so_rcv
  nk-tcpcb EXPR    a TCP connection: state, the send and receive sequence
                   space raw and relative to the ISNs, windows, congestion
                   control, RTT/RTO, armed timers, out-of-order data, and a
                   WARNING line for each invariant that does not hold

Sockets are found through the file table (every socket a process has
open) and the protocol pcb tables (TCP connections not yet accepted, or
closed and lingering); each is listed once. Addresses in pcbs are in host
order, and printed as a.b.c.d:port.
"""

import gdb

from . import core
from .core import command, out, NkError

SOCKET_H = "net/socket.h"


def _files():
    ft = core.global_("ftable")
    files = ft["file"]
    n = files.type.range()[1] + 1
    sock = [v for v, name in core.enum_names("enum file_type").items() if name == "FD_SOCKET"][0]
    for i in range(n):
        f = files[i]
        if int(f["f_ref"]) > 0 and int(f["f_type"]) == sock:
            yield f["f_socket"]


def _pcb_table(name):
    try:
        info = core.global_(name)
    except core.NkError:
        return
    for inp in core.walk(info["ipi_all"], "inp_next", 100000):
        yield inp["inp_socket"]


def _raw():
    try:
        rcb = core.global_("rip_list")
    except core.NkError:
        return
    for r in core.walk(rcb, "rcb_next", 10000):
        yield r["rcb_so"]


def all_sockets():
    seen = set()
    for gen in (_files(), _pcb_table("udbinfo"), _pcb_table("tcbinfo"), _raw()):
        for so in gen:
            a = core.addr(so)
            if a and a not in seen:
                seen.add(a)
                yield so


def proto_name(so):
    t = int(so["so_type"])
    kinds = {core.const("kernel/socket.h", k): k for k in ("SOCK_STREAM", "SOCK_DGRAM", "SOCK_RAW")}
    name = {"SOCK_STREAM": "tcp", "SOCK_DGRAM": "udp", "SOCK_RAW": "raw"}.get(kinds.get(t), "?%d" % t)
    return name


def inpcb(so):
    if proto_name(so) == "raw":
        return None
    inp = so["so_pcb"].cast(core.ptr_type("struct inpcb"))
    return inp if core.addr(inp) else None


def tcpcb_of(so):
    inp = inpcb(so)
    if inp is None or proto_name(so) != "tcp" or not core.addr(inp["inp_ppcb"]):
        return None
    return inp["inp_ppcb"].cast(core.ptr_type("struct tcpcb"))


def endpoint(a, port):
    a, port = int(a), int(port)
    return "%s:%s" % (core.ip_host(a) if a else "*", port if port else "*")


def addrs(so):
    inp = inpcb(so)
    if inp is not None:
        return (endpoint(inp["inp_laddr"], inp["inp_lport"]),
                endpoint(inp["inp_faddr"], inp["inp_fport"]))
    if proto_name(so) == "raw" and core.addr(so["so_pcb"]):
        rcb = so["so_pcb"].cast(core.ptr_type("struct rawcb"))
        return endpoint(rcb["rcb_laddr"], 0), endpoint(rcb["rcb_faddr"], 0)
    return "-", "-"


def pcq_len(sb):
    q = sb["sb_pcq"]
    if not core.addr(q):
        return None
    from . import pcq
    return pcq.count(q.dereference())


def tcp_state(tp):
    return core.enum_names("enum tcp_state", "TCPS_").get(int(tp["t_state"]), "?")


def sock_line(so):
    s = so.dereference()
    la, fa = addrs(so)
    st = core.flagstr(s["so_state"], SOCKET_H, "SS_") if int(s["so_state"]) else ""
    tp = tcpcb_of(so)
    if tp is not None:
        st = (tcp_state(tp) + " " + st).strip()
    rcv, snd = s["so_rcv"], s["so_snd"]
    q = pcq_len(rcv)
    line = ("%#x %-4s %-21s %-21s rcv %d/%d snd %d/%d%s cpu %d %s" % (
        core.addr(so), proto_name(so), la, fa, int(rcv["sb_cc"]), int(rcv["sb_hiwat"]),
        int(snd["sb_cc"]), int(snd["sb_hiwat"]), " pcq %d" % q if q is not None else "",
        int(s["so_cpu"]), st))
    return line


@command("nk-sockets")
def nk_sockets(arg, from_tty):
    """List every socket: protocol, addresses, buffer counts/limits, owning netisr, state.

rcv/snd are sb_cc/sb_hiwat: data bytes queued and the buffer's limit; pcq
is the number of UDP datagrams still in the socket's lock-free queue
(not yet moved into so_rcv by a reader); cpu is the netisr that owns the
pcb (so_cpu)."""
    socks = list(all_sockets())
    out("%-10s %-4s %-21s %-21s %s" % ("SOCKET", "PROTO", "LOCAL", "FOREIGN", "BUFFERS, CPU, STATE"))
    for so in socks:
        out(sock_line(so))
    out("%d socket%s" % (len(socks), "" if len(socks) == 1 else "s"))


def sockbuf_lines(name, sb):
    lines = ["  %s: cc %d hiwat %d lowat %d mbcnt %d mbmax %d records %d drops %d%s" % (
        name, int(sb["sb_cc"]), int(sb["sb_hiwat"]), int(sb["sb_lowat"]), int(sb["sb_mbcnt"]),
        int(sb["sb_mbmax"]), int(sb["sb_nrecords"]), int(sb["sb_drops"]),
        " (records)" if bool(sb["sb_atomic"]) else " (stream)")]
    q = pcq_len(sb)
    if q is not None:
        charge = int(sb["sb_pcqcharge"])
        lines.append("    pcq %#x: %d queued (charged %d data bytes, %d storage), %d sleepers" % (
            core.addr(sb["sb_pcq"]), q, charge & 0xFFFFFFFF, charge >> 32, int(sb["sb_sleepers"])))
    if bool(sb["sb_rcvout"]) or bool(sb["sb_rcvwant"]):
        lines.append("    reader has data cut out (sb_rcvout %d, sb_rcvwant %d)" % (
            int(sb["sb_rcvout"]), int(sb["sb_rcvwant"])))
    return lines


def as_socket(expr):
    v, tag = core.parse_ptr(expr)
    if tag == "inpcb":
        return v["inp_socket"]
    if tag == "tcpcb":
        return v["t_socket"]
    if tag == "file":
        return v["f_socket"]
    return v.cast(core.ptr_type("struct socket"))


@command("nk-so")
def nk_so(arg, from_tty):
    """Show one socket in full: nk-so EXPR (a socket, inpcb, tcpcb or file pointer)."""
    so = as_socket(arg)
    if not core.addr(so):
        raise NkError("NULL socket")
    s = so.dereference()
    la, fa = addrs(so)
    proto = s["so_proto"]
    out("socket %#x: %s (%s), local %s foreign %s" % (
        core.addr(so), proto_name(so), core.cstr(proto["pr_name"]) if core.addr(proto) else "?", la, fa))
    out("  state %s options %s error %d linger %d cpu %d refs %d" % (
        core.flagstr(s["so_state"], SOCKET_H, "SS_"), core.flagstr(s["so_options"], SOCKET_H, "SO_OPT_"),
        int(s["so_error"]), int(s["so_linger"]), int(s["so_cpu"]), int(s["so_refs"])))
    for line in sockbuf_lines("so_rcv", s["so_rcv"]) + sockbuf_lines("so_snd", s["so_snd"]):
        out(line)
    if int(s["so_state"]) & core.const(SOCKET_H, "SS_ACCEPTCONN"):
        out("  listen: %d incomplete, %d complete, limit %d" % (
            int(s["so_incqlen"]), int(s["so_qlen"]), int(s["so_qlimit"])))
    if core.addr(s["so_head"]):
        out("  child of listener %#x" % core.addr(s["so_head"]))
    inp = inpcb(so)
    if inp is not None:
        out("  inpcb %#x flags %s" % (core.addr(inp), core.flagstr(inp["inp_flags"], "net/in_pcb.h", "INP_")))
    tp = tcpcb_of(so)
    if tp is not None:
        out("  tcpcb %#x %s (nk-tcpcb %#x)" % (core.addr(tp), tcp_state(tp), core.addr(tp)))
    rcv = s["so_rcv"]
    if core.addr(rcv["sb_mb"]):
        try:
            from . import mbufs
            if bool(rcv["sb_atomic"]):
                n = 0
                for rec in mbufs.packets(rcv["sb_mb"]):
                    body = rec["m_next"] if core.addr(rec["m_next"]) else rec
                    out("  record %d: %d bytes" % (n, len(mbufs.data(body))))
                    n += 1
            else:
                b = mbufs.data(rcv["sb_mb"], 32)
                out("  stream data starts: %r" % b)
        except ImportError:
            pass


# ---- TCP -------------------------------------------------------------------------

def seq_diff(a, b):
    """a - b in sequence space (signed 32-bit)."""
    d = (int(a) - int(b)) & 0xFFFFFFFF
    return d - (1 << 32) if d & 0x80000000 else d


def as_tcpcb(expr):
    v, tag = core.parse_ptr(expr)
    if tag in ("socket", "file"):
        so = as_socket(expr)
        tp = tcpcb_of(so)
        if tp is None:
            raise NkError("socket %#x has no tcpcb" % core.addr(so))
        return tp
    if tag == "inpcb":
        return v["inp_ppcb"].cast(core.ptr_type("struct tcpcb"))
    return v.cast(core.ptr_type("struct tcpcb"))


def tcpcb_warnings(tp, state):
    w = []
    una, nxt, mx = tp["snd_una"], tp["snd_nxt"], tp["snd_max"]
    if seq_diff(nxt, una) < 0:
        w.append("snd_nxt is below snd_una (%+d)" % seq_diff(nxt, una))
    if seq_diff(mx, nxt) < 0:
        w.append("snd_nxt is beyond snd_max (%+d)" % seq_diff(nxt, mx))
    if seq_diff(tp["rcv_adv"], tp["rcv_nxt"]) < 0:
        w.append("rcv_adv is below rcv_nxt: the window shrank (%+d)"
                 % seq_diff(tp["rcv_adv"], tp["rcv_nxt"]))
    if state not in ("CLOSED", "LISTEN", "SYN_SENT") and seq_diff(tp["rcv_nxt"], tp["irs"]) < 0:
        w.append("rcv_nxt is below irs")
    if state not in ("CLOSED", "LISTEN") and seq_diff(una, tp["iss"]) < 0:
        w.append("snd_una is below iss")
    kinds = core.enum_names("enum tcp_timer_kind", "TCPT_")
    armed = {kinds.get(i): int(tp["t_timer"][i]) for i in range(len(kinds)) if kinds.get(i) != "NTIMERS"}
    outstanding = seq_diff(mx, una)
    if outstanding > 0 and not armed.get("REXMT") and not armed.get("PERSIST") \
            and state not in ("CLOSED", "TIME_WAIT"):
        w.append("%d bytes outstanding but neither REXMT nor PERSIST is armed" % outstanding)
    if state in ("ESTABLISHED", "CLOSE_WAIT") and int(tp["snd_cwnd"]) == 0:
        w.append("snd_cwnd is 0")
    if int(tp["t_dupacks"]) < 0:
        w.append("t_dupacks is negative")
    first = [v for v in armed.values() if v]
    if first and int(tp["t_callout_at"]) and int(tp["t_callout_at"]) > min(first):
        w.append("the callout is armed for %d, after the earliest timer %d" % (
            int(tp["t_callout_at"]), min(first)))
    so = tp["t_socket"]
    if core.addr(so) and state not in ("CLOSED", "LISTEN", "SYN_SENT", "SYN_RECEIVED"):
        sndcc = int(so["so_snd"]["sb_cc"])
        fin = 1 if int(tp["t_flags"]) & core.const("net/tcp_var.h", "TF_SENTFIN") else 0
        if outstanding - fin > sndcc:
            w.append("%d bytes in flight but only %d in so_snd" % (outstanding - fin, sndcc))
    return w


def has_field(v, name):
    return any(f.name == name for f in v.type.strip_typedefs().fields())


def option_line(t):
    """Window scale, timestamps, SACK: the fields this kernel's tcpcb has."""
    parts = []
    fl = int(t["t_flags"])
    tf = core.defines("net/tcp_var.h", "TF_")
    if has_field(t, "snd_scale"):
        on = "TF_RCVD_SCALE" in tf and fl & tf["TF_RCVD_SCALE"] and fl & tf.get("TF_REQ_SCALE", 0)
        parts.append("wscale %s (snd_scale %d, rcv_scale %d)" % (
            "on" if on else "off", int(t["snd_scale"]), int(t["rcv_scale"])))
    if has_field(t, "ts_recent"):
        on = "TF_RCVD_TSTMP" in tf and fl & tf["TF_RCVD_TSTMP"] and fl & tf.get("TF_REQ_TSTMP", 0)
        parts.append("timestamps %s (ts_recent %u)" % ("on" if on else "off", int(t["ts_recent"])))
    if "TF_SACK_PERMIT" in tf:
        parts.append("SACK %s" % ("permitted" if fl & tf["TF_SACK_PERMIT"] else "off"))
    return ", ".join(parts)


def sack_lines(t, warns):
    """The sender's SACK scoreboard and the receiver's recent out-of-order
    segments, where this kernel's tcpcb has them (net/tcp_sack.h); checks
    that the ranges are sorted, disjoint and inside snd_una..snd_max."""
    lines = []
    if has_field(t, "t_sack") and core.addr(t["t_sack"]):
        sb = t["t_sack"].dereference()
        n = int(sb["sb_n"])
        iss, una, mx = t["iss"], t["snd_una"], t["snd_max"]
        blks = [(sb["sb_blk"][i]["sb_start"], sb["sb_blk"][i]["sb_end"]) for i in range(n)]
        lines.append("  sack scoreboard: %d range%s %s, HighRxt %+d" % (
            n, "" if n == 1 else "s",
            " ".join("[%+d,%+d)" % (seq_diff(a, iss), seq_diff(b, iss)) for a, b in blks),
            seq_diff(sb["sb_highrxt"], iss)))
        prev = None
        for a, b in blks:
            if seq_diff(b, a) <= 0:
                warns.append("SACK range [%+d,%+d) is empty" % (seq_diff(a, iss), seq_diff(b, iss)))
            if seq_diff(a, una) < 0 or seq_diff(b, mx) > 0:
                warns.append("SACK range [%+d,%+d) is outside snd_una..snd_max" % (
                    seq_diff(a, iss), seq_diff(b, iss)))
            if prev is not None and seq_diff(a, prev) <= 0:
                warns.append("SACK ranges overlap or touch or are out of order at %+d" % seq_diff(a, iss))
            prev = b
    if has_field(t, "t_nsackhist") and int(t["t_nsackhist"]):
        irs = t["irs"]
        hist = [seq_diff(t["t_sackhist"][i], irs) for i in range(int(t["t_nsackhist"]))]
        lines.append("  sack receiver: recent out-of-order segments at %s" % " ".join("%+d" % h for h in hist))
    return lines


@command("nk-tcpcb")
def nk_tcpcb(arg, from_tty):
    """Show a TCP connection's state, sequence space, windows, timers, with invariant checks: nk-tcpcb EXPR.

EXPR: a struct tcpcb *, or a socket, inpcb or file pointer. Sequence
numbers are shown raw and relative to the ISNs (iss for the send side,
irs for the receive side), as tcpdump's relative numbers; a WARNING line
follows for each invariant that fails."""
    tp = as_tcpcb(arg)
    if not core.addr(tp):
        raise NkError("NULL tcpcb")
    t = tp.dereference()
    state = tcp_state(t)
    inp = t["t_inp"]
    la = fa = "?"
    if core.addr(inp):
        la = endpoint(inp["inp_laddr"], inp["inp_lport"])
        fa = endpoint(inp["inp_faddr"], inp["inp_fport"])
    iss, irs = t["iss"], t["irs"]
    out("tcpcb %#x %s %s <-> %s cpu %d flags %s" % (
        core.addr(tp), state, la, fa, int(t["t_cpu"]), core.flagstr(t["t_flags"], "net/tcp_var.h", "TF_")))

    def s(name, base):
        return "%s %u (%+d)" % (name, int(t[name]) & 0xFFFFFFFF, seq_diff(t[name], base))
    out("  send: iss %u, %s, %s, %s; in flight %d" % (
        int(iss), s("snd_una", iss), s("snd_nxt", iss), s("snd_max", iss),
        seq_diff(t["snd_max"], t["snd_una"])))
    out("        snd_wnd %d (max seen %d), wl1 %u wl2 %u, mss %d (ours %d)" % (
        int(t["snd_wnd"]), int(t["t_maxsndwnd"]), int(t["snd_wl1"]), int(t["snd_wl2"]),
        int(t["t_maxseg"]), int(t["t_ourmss"])))
    out("  recv: irs %u, %s, %s; window advertised %d" % (
        int(irs), s("rcv_nxt", irs), s("rcv_adv", irs), seq_diff(t["rcv_adv"], t["rcv_nxt"])))
    out("  cc:   cwnd %d ssthresh %d dupacks %d recover %u bytes_acked %d%s" % (
        int(t["snd_cwnd"]), int(t["snd_ssthresh"]), int(t["t_dupacks"]),
        int(t["snd_recover"]), int(t["t_bytes_acked"]),
        " IN RECOVERY" if int(t["t_flags"]) & core.const("net/tcp_var.h", "TF_INRECOVERY") else ""))
    srtt, rttvar = int(t["t_srtt"]), int(t["t_rttvar"])
    out("  rtt:  srtt %s rttvar %s rto %d ms rxtshift %d%s" % (
        "%.3f ms" % (srtt / 8.0) if srtt else "none yet", "%.3f ms" % (rttvar / 4.0),
        int(t["t_rto"]), int(t["t_rxtshift"]),
        ", timing seq %u" % int(t["t_rtseq"]) if int(t["t_rtttime"]) else ""))
    kinds = core.enum_names("enum tcp_timer_kind", "TCPT_")
    armed = []
    for i, name in sorted(kinds.items()):
        if name == "NTIMERS":
            continue
        v = int(t["t_timer"][i])
        if v:
            armed.append("%s at %d ms" % (name, v))
    out("  timers (deadlines, ms since boot): %s; callout armed for %s" % (
        ", ".join(armed) or "none armed", int(t["t_callout_at"]) or "nothing"))
    opts = option_line(t)
    if opts:
        out("  opts: " + opts)
    sack_warns = []
    try:
        for line in sack_lines(t, sack_warns):
            out(line)
    except (gdb.error, KeyError, ValueError) as e:   # a SACK layout this does not know
        out("  sack: cannot show (%s)" % e)
    r = t["t_reass"]
    if int(r["tr_nseg"]):
        out("  reassembly: %d segments, %d bytes held out of order" % (int(r["tr_nseg"]), int(r["tr_bytes"])))
    so = t["t_socket"]
    if core.addr(so):
        out("  socket %#x: so_rcv %d/%d bytes, so_snd %d/%d bytes" % (
            core.addr(so), int(so["so_rcv"]["sb_cc"]), int(so["so_rcv"]["sb_hiwat"]),
            int(so["so_snd"]["sb_cc"]), int(so["so_snd"]["sb_hiwat"])))
    warns = tcpcb_warnings(t, state) + sack_warns
    for w in warns:
        out("  WARNING: " + w)
    if not warns:
        out("  invariants hold")
