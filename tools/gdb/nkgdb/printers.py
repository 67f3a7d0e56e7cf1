"""printers: pretty printers and convenience functions.

`print` on a kernel structure shows its fields as C values: addresses and
ports in network order (ip_src = 0x202000a, sin_port = 2952), MAC
addresses as character arrays, flag words as numbers. These printers keep
the structure and every field, and rewrite only those fields:
  - IPv4 addresses as dotted quads (network- or host-order, as the field
    is documented in its header);
  - ports as host numbers (a network-order uint16 is byte-swapped);
  - MAC addresses as 52:54:00:12:34:56;
  - flag words as NAME|NAME with the names from the header's #defines;
  - the PCQ's packed word as its producer and consumer indices;
  - the e1000's per-slot mbuf arrays as a count (nk-e1000 shows slots);
  - void * fields that always point at one type as that type: a
    port's owner as the thread's pid and name, inp_ppcb as the tcpcb
    with its state.
A field printed on its own afterwards (p ip->ip_src) keeps the format:
fields are recognised by their address until the target runs again.
`disable pretty-printer global netkern` shows raw values.

Convenience functions:
  $nk_curproc()      struct proc * running on the selected hart (or 0)
  $nk_cpu(n)         &cpus[n]
  $container_of(ptr, "struct x", "field")   the struct x whose field
                     ptr points at, e.g. from a queued message to its mbuf:
                     p *$container_of(msg, "struct mbuf", "m_pkthdr.ph_msg")
"""

import gdb
import gdb.printing

from . import core

MBUF_H = "net/mbuf.h"


def _flags(header, prefix):
    return lambda v: "%s (%#x)" % (core.flagstr(v, header, prefix), int(v))


def _ip_net(v):
    return core.ip_net(v)


def _ip_host(v):
    return core.ip_host(v)


def _port_net(v):
    return "%d" % core.ntohs(v)


def _u16_net_hex(v):
    return "%#06x" % core.ntohs(v)


def _u32_net(v):
    x = int(v) & 0xFFFFFFFF
    return "%d" % int.from_bytes(x.to_bytes(4, "little"), "big")


def _mac(v):
    return core.mac([int(v[i]) & 0xFF for i in range(6)])


def _pcq_pc(v):
    x = int(v)
    return "prod %d, cons %d (%#x)" % (x >> 32, x & 0xFFFFFFFF, x)


def _slots(v):
    n = v.type.range()[1] + 1
    used = sum(1 for i in range(n) if core.addr(v[i]))
    return "{%d slots, %d hold an mbuf: nk-e1000 lists them}" % (n, used)


def _oids(v):
    n = v.type.range()[1] + 1
    return "{%d sysctl knobs}" % n


def _as(typename, what=None):
    """A void * that always points at one type: show it as that type."""
    def f(v):
        a = core.addr(v)
        if a == 0:
            return "0x0"
        s = "(%s *) %#x" % (typename, a)
        return s + (what(core.deref(a, typename)) if what else "")
    return f


def _tcp_state(tp):
    return " " + core.enum_names("enum tcp_state", "TCPS_").get(int(tp["t_state"]), "?")


def _thread(v):
    """A thread pointer (struct proc *) as its pid and name."""
    a = core.addr(v)
    if a == 0:
        return "0x0"
    p = core.deref(a, "struct proc")
    return "%#x <pid %d %s>" % (a, int(p["pid"]), core.cstr(p["name"]))


def _state(enum, prefix):
    def f(v):
        names = core.enum_names(enum, prefix)
        return names.get(int(v), str(int(v)))
    return f


# struct tag -> {field: formatter}
FIELDS = {
    "ip": {"ip_src": _ip_net, "ip_dst": _ip_net, "ip_len": _port_net,
           "ip_id": _port_net, "ip_off": _u16_net_hex},
    "sockaddr_in": {"sin_port": _port_net},
    "tcphdr": {"th_sport": _port_net, "th_dport": _port_net,
               "th_seq": _u32_net, "th_ack": _u32_net, "th_win": _port_net,
               "th_flags": _flags("net/tcp_var.h", "TH_")},
    "ether_header": {"eh_dst": _mac, "eh_src": _mac, "eh_type": _u16_net_hex},
    "udphdr": {"uh_sport": _port_net, "uh_dport": _port_net, "uh_ulen": _port_net},
    "icmp": {"icmp_id": _port_net, "icmp_seq": _port_net},
    "inpcb": {"inp_laddr": _ip_host, "inp_faddr": _ip_host,
              "inp_flags": _flags("net/in_pcb.h", "INP_"),
              "inp_ppcb": _as("struct tcpcb", _tcp_state)},
    "ifnet": {"if_lladdr": _mac, "if_addr": _ip_host, "if_netmask": _ip_host,
              "if_broadaddr": _ip_host, "if_flags": _flags("net/if.h", "IFF_"),
              "if_oids": _oids},
    "e1000_softc": {"sc_mac": _mac, "sc_rx_mbuf": _slots, "sc_tx_mbuf": _slots,
                    "sc_knob": _oids},
    "netisr": {"ni_oids": _oids},
    "ifqueue": {"ifq_oids": _oids},
    "mbuf": {"m_flags": _flags(MBUF_H, "M_")},
    "m_pkthdr": {"ph_flags": _flags(MBUF_H, "PH_")},
    "lwkt_msg": {"ms_flags": _flags("net/lwkt_msg.h", "MSGF_")},
    "socket": {"so_state": _flags("net/socket.h", "SS_"),
               "so_options": _flags("net/socket.h", "SO_OPT_")},
    "lwkt_port": {"mp_owner": _thread},
    "tcpcb": {"t_flags": _flags("net/tcp_var.h", "TF_")},
    "pcq": {"pcq_pc": _pcq_pc},
    "tcp_seg": {"sg_flags": _flags("net/tcp_var.h", "TH_"),
                "sg_src": _ip_host, "sg_dst": _ip_host},
}

# (address, type name) -> text of a field being printed (see module doc)
_seen = {}


class _Text:
    def __init__(self, text):
        self.text = text

    def to_string(self):
        return self.text


class StructPrinter:
    def __init__(self, val, fields):
        self.val = val
        self.fields = fields

    def children(self):
        for f in self.val.type.strip_typedefs().fields():
            v = self.val[f]
            name = f.name or ""
            fmt = self.fields.get(name)
            if fmt is None:
                yield name, v
                continue
            try:
                text = fmt(v)
            except (gdb.error, ValueError, core.NkError):
                yield name, v
                continue
            if v.address is not None:
                if len(_seen) > 20000:
                    _seen.clear()
                _seen[(core.addr(v.address), str(v.type))] = text
                yield name, v
            else:
                yield name, text


class InAddrPrinter:
    def __init__(self, val):
        self.val = val

    def to_string(self):
        return core.ip_net(self.val["s_addr"])


def lookup(val):
    t = val.type.strip_typedefs()
    if t.code == gdb.TYPE_CODE_STRUCT:
        if t.tag == "in_addr":
            return InAddrPrinter(val)
        spec = FIELDS.get(t.tag)
        if spec is not None:
            return StructPrinter(val, spec)
        return None
    if _seen and t.code in (gdb.TYPE_CODE_INT, gdb.TYPE_CODE_ARRAY, gdb.TYPE_CODE_PTR) \
            and val.address is not None:
        text = _seen.get((core.addr(val.address), str(val.type)))
        if text is not None:
            return _Text(text)
    return None


def _forget(event):
    _seen.clear()


class _Collection(gdb.printing.PrettyPrinter):
    """The netkern printers, as one entry `info pretty-printer` shows."""

    def __init__(self):
        super().__init__("netkern", [])

    def __call__(self, val):
        try:
            return lookup(val)
        except gdb.error:
            return None


gdb.printing.register_pretty_printer(None, _Collection(), replace=True)
gdb.events.cont.connect(_forget)


# ---- convenience functions -------------------------------------------------

class NkCurproc(gdb.Function):
    """$nk_curproc(): the struct proc * running on the selected hart (0 in the scheduler)."""

    def __init__(self):
        super().__init__("nk_curproc")

    def invoke(self):
        return core.global_("cpus")[core.current_hart()]["proc"]


class NkCpu(gdb.Function):
    """$nk_cpu(n): &cpus[n], the struct cpu of hart n."""

    def __init__(self):
        super().__init__("nk_cpu")

    def invoke(self, n):
        n = int(n)
        if not 0 <= n < core.ncpu():
            raise gdb.GdbError("$nk_cpu: no hart %d (ncpu = %d)" % (n, core.ncpu()))
        return core.global_("cpus")[n].address


class ContainerOf(gdb.Function):
    """$container_of(ptr, "struct x", "field"): the struct x * whose member field (a.b allowed) is at ptr."""

    def __init__(self):
        super().__init__("container_of")

    def invoke(self, ptr, typename, field):
        tname = typename.string()
        t = core.type_(tname)
        off = 0
        for part in field.string().split("."):
            found = None
            for f in t.strip_typedefs().fields():
                if f.name == part:
                    found = f
            if found is None:
                raise gdb.GdbError("$container_of: %s has no field %s" % (t, part))
            off += found.bitpos // 8
            t = found.type
        return gdb.Value(core.addr(ptr) - off).cast(core.ptr_type(tname))


NkCurproc()
NkCpu()
ContainerOf()
