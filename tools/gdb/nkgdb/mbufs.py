"""mbufs: packets (net/mbuf.h) -- nk-mbuf, nk-pkts, nk-pcap.

  nk-mbuf EXPR        one packet: every mbuf of the m_next chain with its
                      length, offset into its storage, flags, cluster and
                      the cluster's reference count; whether the lengths
                      add up to the packet header's ph_len; one line
                      decoding the headers (Ethernet/ARP/IPv4/ICMP/UDP/TCP)
  nk-pkts EXPR        a queue of packets linked by m_nextpkt, one line each
  nk-pcap EXPR FILE   write packets to a pcap file (Wireshark, tshark,
                      tcpdump -r read it): an mbuf (and the packets queued
                      behind it by m_nextpkt), a struct sockbuf * or a
                      struct socket * (its receive buffer and PCQ; data
                      there has lost its headers, so addresses and ports
                      from the socket are put back in front)

Where a packet starts: a driver's mbuf starts with the Ethernet header,
one inside the stack (ip_input and later) with the IP header. The
decoder looks at the first byte (0x45..0x4f: IPv4) unless told: nk-mbuf
EXPR ether | ip.
"""

import struct
import time

import gdb

from . import core
from .core import command, out, NkError

MBUF_H = "net/mbuf.h"
MAXBYTES = 65536


def mflags(v):
    return core.flagstr(v, MBUF_H, "M_")


def chain(m, limit=1024):
    """The mbufs of one packet (m_next)."""
    for v in core.walk(m, "m_next", limit):
        yield v.dereference()


def packets(m, limit=4096):
    """The packets of an m_nextpkt queue (m is the first)."""
    return core.walk(m, "m_nextpkt", limit)


def storage(mb):
    """(start address, size) of the buffer an mbuf's data lives in."""
    if int(mb["m_flags"]) & core.const(MBUF_H, "M_EXT"):
        return core.addr(mb["m_ext"]["ext_buf"]), int(mb["m_ext"]["ext_size"])
    start = core.addr(mb["m_dat"].address)
    return start, core.addr(mb.address) + core.const(MBUF_H, "MSIZE") - start


def data(m, limit=MAXBYTES):
    """The bytes of one packet's chain."""
    buf = bytearray()
    for mb in chain(m):
        n = int(mb["m_len"])
        if n <= 0:
            continue
        n = min(n, limit - len(buf))
        buf += core.read(core.addr(mb["m_data"]), n)
        if len(buf) >= limit:
            break
    return bytes(buf)


# ---- one-line decoding ---------------------------------------------------------

TCPFLAGS = [(0x01, "F"), (0x02, "S"), (0x04, "R"), (0x08, "P"), (0x10, "."), (0x20, "U")]


def _tcpflags(f):
    return "".join(c for b, c in TCPFLAGS if f & b) or "none"


def decode_ip(b):
    if len(b) < 20:
        return "ip (truncated: %d bytes)" % len(b)
    vhl, tos, tlen, ident, off, ttl, proto, csum, src, dst = struct.unpack(">BBHHHBBHII", b[:20])
    hl = (vhl & 15) * 4
    s = "ip %s > %s" % (core.ip_host(src), core.ip_host(dst))
    frag = ""
    if off & 0x3FFF:
        frag = " frag off=%d%s" % ((off & 0x1FFF) * 8, " MF" if off & 0x2000 else "")
    p = b[hl:]
    if (off & 0x1FFF) == 0:
        if proto == 1 and len(p) >= 8:
            t, code, _, i, q = struct.unpack(">BBHHH", p[:8])
            name = {0: "echo reply", 8: "echo request", 3: "unreachable",
                    11: "time exceeded"}.get(t, "type %d" % t)
            extra = " id %d seq %d" % (i, q) if t in (0, 8) else " code %d" % code
            return "%s: icmp %s%s, ip len %d ttl %d%s" % (s, name, extra, tlen, ttl, frag)
        if proto == 17 and len(p) >= 8:
            sp, dp, ulen, _ = struct.unpack(">HHHH", p[:8])
            return "ip %s:%d > %s:%d: udp len %d (data %d), ip len %d ttl %d%s" % (
                core.ip_host(src), sp, core.ip_host(dst), dp, ulen, ulen - 8, tlen, ttl, frag)
        if proto == 6 and len(p) >= 20:
            sp, dp, seq, ack, offb, fl, win = struct.unpack(">HHIIBBH", p[:16])
            dlen = tlen - hl - (offb >> 4) * 4
            return "ip %s:%d > %s:%d: tcp [%s] seq %u ack %u win %d len %d, ip len %d%s" % (
                core.ip_host(src), sp, core.ip_host(dst), dp, _tcpflags(fl), seq, ack,
                win, dlen, tlen, frag)
    return "%s: proto %d, ip len %d ttl %d%s" % (s, proto, tlen, ttl, frag)


def decode_arp(b):
    if len(b) < 28:
        return "arp (truncated)"
    op = struct.unpack(">H", b[6:8])[0]
    sha, spa, tpa = b[8:14], b[14:18], b[24:28]
    spa_s = core.ip_host(int.from_bytes(spa, "big"))
    tpa_s = core.ip_host(int.from_bytes(tpa, "big"))
    if op == 1:
        return "arp who-has %s tell %s" % (tpa_s, spa_s)
    if op == 2:
        return "arp reply %s is-at %s" % (spa_s, core.mac(sha))
    return "arp op %d" % op


def decode_ether(b):
    if len(b) < 14:
        return "ether (truncated: %d bytes)" % len(b)
    t = struct.unpack(">H", b[12:14])[0]
    s = "ether %s > %s" % (core.mac(b[6:12]), core.mac(b[0:6]))
    if t == 0x0800:
        return s + ", " + decode_ip(b[14:])
    if t == 0x0806:
        return s + ", " + decode_arp(b[14:])
    return s + ", type %#06x" % t


def looks_ip(b):
    return len(b) >= 20 and 0x45 <= b[0] <= 0x4F


def decode(b, kind=None):
    if kind == "ether" or (kind is None and not looks_ip(b)):
        return decode_ether(b)
    return decode_ip(b)


# ---- nk-mbuf / nk-pkts -----------------------------------------------------------

def describe_mbuf(mb):
    start, size = storage(mb)
    off = core.addr(mb["m_data"]) - start
    fl = int(mb["m_flags"])
    s = "  mbuf %#x len %d off %d flags %s" % (core.addr(mb.address), int(mb["m_len"]),
                                                off, mflags(fl))
    if fl & core.const(MBUF_H, "M_EXT"):
        ext = mb["m_ext"]
        ref = "?"
        if core.addr(ext["ext_refp"]):
            try:
                ref = str(int(ext["ext_refp"].dereference()))
            except gdb.MemoryError:
                pass
        s += " cluster %#x size %d refs %s" % (core.addr(ext["ext_buf"]), int(ext["ext_size"]), ref)
    if off < 0 or off + int(mb["m_len"]) > size:
        s += "  WARNING: data outside its storage (%d bytes)" % size
    return s


def pkthdr_line(mb):
    ph = mb["m_pkthdr"]
    ifp = ph["ph_rcvif"]
    rcvif = core.cstr(ifp["if_name"]) if core.addr(ifp) else "-"
    h = ("  pkthdr len %d rcvif %s flags %s proto %d" %
         (int(ph["ph_len"]), rcvif, core.flagstr(ph["ph_flags"], MBUF_H, "PH_"), int(ph["ph_proto"])))
    if int(ph["ph_flags"]) & core.const(MBUF_H, "PH_HASHVALID"):
        h += " flowhash %#x" % int(ph["ph_flowhash"])
    return h


def show_packet(m, kind=None):
    mbs = list(chain(m))
    first = mbs[0] if mbs else None
    out("packet %#x: %d mbuf%s" % (core.addr(m), len(mbs), "" if len(mbs) == 1 else "s"))
    for mb in mbs:
        out(describe_mbuf(mb))
    total = sum(int(mb["m_len"]) for mb in mbs)
    if first is not None and int(first["m_flags"]) & core.const(MBUF_H, "M_PKTHDR"):
        out(pkthdr_line(first))
        phlen = int(first["m_pkthdr"]["ph_len"])
        if phlen == total:
            out("  lengths add up: sum of m_len %d = ph_len %d" % (total, phlen))
        else:
            out("  WARNING: sum of m_len %d != ph_len %d" % (total, phlen))
    else:
        out("  no packet header (M_PKTHDR clear): %d bytes in the chain" % total)
    out("  " + decode(data(m, 256), kind))


def _args(arg):
    words = arg.split()
    kind = None
    if words and words[-1] in ("ether", "ip"):
        kind = words.pop()
    return " ".join(words), kind


@command("nk-mbuf")
def nk_mbuf(arg, from_tty):
    """Show one packet's mbuf chain and decode its headers: nk-mbuf EXPR [ether|ip].

Per mbuf: address, m_len, offset of m_data into its storage, flags, and
for a cluster its address, size and reference count. Then the packet
header and whether the m_len add up to ph_len, then one line decoding
Ethernet/ARP/IPv4/ICMP/UDP/TCP."""
    expr, kind = _args(arg)
    m = core.parse(expr, "struct mbuf")
    if not core.addr(m):
        raise NkError("NULL mbuf")
    show_packet(m, kind)


@command("nk-pkts")
def nk_pkts(arg, from_tty):
    """List a queue of packets linked by m_nextpkt, one line each: nk-pkts EXPR [ether|ip]."""
    expr, kind = _args(arg)
    m = core.parse(expr, "struct mbuf")
    n = 0
    for p in packets(m):
        mbs = list(chain(p))
        total = sum(int(mb["m_len"]) for mb in mbs)
        out("%3d %#x %d bytes in %d mbuf%s: %s" % (n, core.addr(p), total, len(mbs),
                                                   "" if len(mbs) == 1 else "s",
                                                   decode(data(p, 256), kind)))
        n += 1
    out("%d packet%s" % (n, "" if n == 1 else "s"))


# ---- nk-pcap -----------------------------------------------------------------------

ETH_FAKE = bytes(6) + bytes([2, 0, 0, 0, 0, 1])   # dst, src of made-up frames


def ether_wrap(b):
    return ETH_FAKE + b"\x08\x00" + b


def _cksum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip_packet(src, dst, proto, payload):
    h = struct.pack(">BBHHHBBHII", 0x45, 0, 20 + len(payload), 0, 0x4000, 64, proto, 0, src, dst)
    h = h[:10] + struct.pack(">H", _cksum(h)) + h[12:]
    return h + payload


def udp_packet(src, sport, dst, dport, payload):
    u = struct.pack(">HHHH", sport, dport, 8 + len(payload), 0) + payload
    return ip_packet(src, dst, 17, u)


def tcp_packet(src, sport, dst, dport, seq, payload):
    t = struct.pack(">HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, 0, 5 << 4, 0x18, 65535, 0, 0)
    return ip_packet(src, dst, 6, t + payload)


def frames_of_queue(m):
    """Ethernet frames for an mbuf and the packets queued after it."""
    for p in packets(m):
        b = data(p)
        yield b if not looks_ip(b) else ether_wrap(b)


def _local(so):
    """(laddr, lport, faddr, fport, tcpcb or None), host order, of a socket."""
    inp = so["so_pcb"].cast(core.ptr_type("struct inpcb"))
    if not core.addr(inp):
        return 0, 0, 0, 0, None
    tp = None
    if int(so["so_type"]) == core.const("kernel/socket.h", "SOCK_STREAM") \
            and core.addr(inp["inp_ppcb"]):
        tp = inp["inp_ppcb"].cast(core.ptr_type("struct tcpcb"))
    return (int(inp["inp_laddr"]), int(inp["inp_lport"]), int(inp["inp_faddr"]),
            int(inp["inp_fport"]), tp)


def record_frame(rec, local):
    """A socket-buffer record (address mbuf + data) as a UDP frame."""
    laddr, lport = local[0], local[1]
    a = rec.dereference()
    src, sport = 0, 0
    if int(a["m_len"]) == core.sizeof("struct sockaddr_in"):
        sin = a["m_data"].cast(core.ptr_type("struct sockaddr_in")).dereference()
        sport = core.ntohs(sin["sin_port"])
        src = int.from_bytes(int(sin["sin_addr"]["s_addr"]).to_bytes(4, "little"), "big")
        payload = data(a["m_next"])
    else:
        payload = data(rec)
    return ether_wrap(udp_packet(src, sport, laddr, lport, payload))


def frames_of_sockbuf(sb, so=None):
    local = _local(so) if so is not None else (0, 0, 0, 0, None)
    if bool(sb["sb_atomic"]):
        for rec in packets(sb["sb_mb"]):
            yield record_frame(rec, local)
    else:
        laddr, lport, faddr, fport, tp = local
        seq = 0
        if tp is not None:
            seq = int(tp["rcv_nxt"]) - int(sb["sb_cc"])
        for mb in chain(sb["sb_mb"], 65536):
            n = int(mb["m_len"])
            if n <= 0:
                continue
            payload = core.read(core.addr(mb["m_data"]), n)
            yield ether_wrap(tcp_packet(faddr, fport, laddr, lport, seq, payload))
            seq += n


def frames_of_pcq(q, local):
    from . import pcq as pcqmod
    for item in pcqmod.items(q):
        yield record_frame(gdb.Value(item).cast(core.ptr_type("struct mbuf")), local)


def write_pcap(path, frames):
    now = time.time()
    n = 0
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))   # LINKTYPE_ETHERNET
        for fr in frames:
            sec = int(now)
            usec = int((now - sec) * 1e6) + n
            f.write(struct.pack("<IIII", sec, usec % 1000000, len(fr), len(fr)))
            f.write(fr)
            n += 1
    return n


@command("nk-pcap")
def nk_pcap(arg, from_tty):
    """Write packets to a pcap file Wireshark opens: nk-pcap EXPR FILE.

EXPR is a struct mbuf * (that packet and those queued after it by
m_nextpkt), a struct sockbuf * (its records or stream data) or a struct
socket * (so_rcv and, for UDP, the datagrams still in its PCQ). Data from
a socket buffer has no headers left: the socket's addresses and ports are
put in front again (UDP, or TCP numbered from rcv_nxt - sb_cc)."""
    words = arg.rsplit(None, 1)
    if len(words) != 2:
        raise NkError("usage: nk-pcap EXPR FILE")
    expr, path = words
    v = core.parse(expr)
    t = v.type.strip_typedefs()
    if t.code == gdb.TYPE_CODE_PTR:
        t = t.target().strip_typedefs()
    elif t.code == gdb.TYPE_CODE_STRUCT:
        v = v.address
    tag = t.tag if t.code == gdb.TYPE_CODE_STRUCT else None
    if tag == "socket":
        so = v.dereference()
        frames = list(frames_of_sockbuf(so["so_rcv"], so))
        q = so["so_rcv"]["sb_pcq"]
        if core.addr(q):
            frames += list(frames_of_pcq(q, _local(so)))
    elif tag == "sockbuf":
        frames = list(frames_of_sockbuf(v.dereference()))
    else:
        frames = list(frames_of_queue(v.cast(core.ptr_type("struct mbuf"))))
    n = write_pcap(path, frames)
    out("wrote %d packet%s to %s" % (n, "" if n == 1 else "s", path))
