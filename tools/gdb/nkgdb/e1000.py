"""e1000: the Intel 8254x driver's rings (drivers/e1000.h, e1000_reg.h).

  nk-e1000 [all]   per unit: MAC, link, counters; the RX ring (device head
                   RDH and tail RDT, the driver's next slot, each slot's
                   status and buffer) and the TX ring (TDH/TDT, the
                   driver's tail and oldest unreclaimed slot, each slot's
                   command, status and the packet on its EOP slot).

Slots are grouped into runs of the same state; a slot that holds a
received frame (DD set) or a packet in flight is shown on its own line
with the frame decoded. `all` prints every slot. RDH/RDT/TDH/TDT are
read from the device's registers (reading them has no side effect).

How to read the RX ring: the device owns the slots from RDH up to RDT
(exclusive) and fills them; the driver's sc_rx_next is the next slot it
will look at; slots from sc_rx_next up to RDH have DD set and wait for
e1000_rxeof. TX: the driver fills from sc_tx_tail (= TDT); the device
sends from TDH; slots from sc_tx_clean up to TDH are sent and wait to be
reclaimed.
"""


from . import core
from .core import command, out

REG_H = "drivers/e1000_reg.h"


def reg(sc, name):
    off = core.const(REG_H, "E1000_" + name)
    return int.from_bytes(core.read(core.addr(sc["sc_regs"]) + off, 4), "little")


def units():
    arr = core.global_("e1000_softcs")
    n = arr.type.range()[1] + 1
    return [arr[i] for i in range(n) if core.addr(arr[i]["sc_regs"])]


def _decode_mbuf(m, nbytes=None):
    try:
        from . import mbufs
    except ImportError:
        return ""
    if nbytes is None:
        b = mbufs.data(m, 256)
    else:
        b = core.read(core.addr(m["m_data"]), min(nbytes, 256))
    return mbufs.decode(b, "ether")


def _runs(n, key):
    """[(first, last, key)] runs of equal keys over slots 0..n-1."""
    runs = []
    for i in range(n):
        k = key(i)
        if runs and runs[-1][2] == k:
            runs[-1][1] = i
        else:
            runs.append([i, i, k])
    return runs


def _range(first, last):
    return "%3d" % first if first == last else "%3d..%3d" % (first, last)


def show_rx(sc, every):
    n = core.const("drivers/e1000.h", "E1000_NRXDESC")
    ring = sc["sc_rx_ring"]
    rdh, rdt = reg(sc, "RDH"), reg(sc, "RDT")
    nxt = int(sc["sc_rx_next"])
    dd = core.const(REG_H, "E1000_RXD_STAT_DD")
    ready = 0
    out("  RX ring %#x: %d slots, RDH %d (device fills here), RDT %d, sc_rx_next %d "
        "(driver drains here)" % (core.addr(ring), n, rdh, rdt, nxt))

    def key(i):
        d = ring[i]
        st = int(d["rd_status"])
        mark = ("next " if i == nxt else "") + ("RDH " if i == rdh else "") + ("RDT " if i == rdt else "")
        if every or st & dd or mark:
            return ("one", i)
        return ("empty" if st == 0 else "status %#x" % st,
                "mbuf" if core.addr(sc["sc_rx_mbuf"][i]) else "NO BUFFER")

    for first, last, k in _runs(n, key):
        if k[0] == "one":
            d = ring[first]
            st = int(d["rd_status"])
            m = sc["sc_rx_mbuf"][first]
            mark = " ".join(x for x, c in (("<- sc_rx_next", first == nxt), ("<- RDH", first == rdh),
                                             ("<- RDT", first == rdt)) if c)
            line = "    rx[%3d] status %s len %d buf %#x mbuf %#x %s" % (
                first, core.flagstr(st, REG_H, "E1000_RXD_STAT_"), int(d["rd_length"]),
                int(d["rd_addr"]), core.addr(m), mark)
            out(line.rstrip())
            if st & dd and core.addr(m):
                ready += 1
                out("             " + _decode_mbuf(m, int(d["rd_length"])))
        else:
            out("    rx[%s] %s, %s" % (_range(first, last), k[0], k[1]))
    out("  RX: %d frame%s received and not yet drained" % (ready, "" if ready == 1 else "s"))


def show_tx(sc, every):
    n = core.const("drivers/e1000.h", "E1000_NTXDESC")
    ring = sc["sc_tx_ring"]
    tdh, tdt = reg(sc, "TDH"), reg(sc, "TDT")
    tail, clean = int(sc["sc_tx_tail"]), int(sc["sc_tx_clean"])
    out("  TX ring %#x: %d slots, TDH %d (device sends here), TDT %d, sc_tx_tail %d, "
        "sc_tx_clean %d (oldest not reclaimed)" % (core.addr(ring), n, tdh, tdt, tail, clean))
    inflight = []
    i = clean
    while i != tail and len(inflight) < n:
        inflight.append(i)
        i = (i + 1) % n
    busy = set(inflight)

    def key(i):
        if every or i in busy or i in (tdh, tdt, tail, clean):
            return ("one", i)
        return ("free",)

    for first, last, k in _runs(n, key):
        if k[0] != "one":
            out("    tx[%s] free" % _range(first, last))
            continue
        d = ring[first]
        m = sc["sc_tx_mbuf"][first]
        mark = " ".join(x for x, c in (("<- TDH", first == tdh), ("<- sc_tx_tail", first == tail),
                                         ("<- sc_tx_clean", first == clean)) if c)
        out(("    tx[%3d] cmd %s status %s len %d mbuf %#x %s%s" % (
            first, core.flagstr(d["td_cmd"], REG_H, "E1000_TXD_CMD_"),
            core.flagstr(d["td_status"], REG_H, "E1000_TXD_STAT_"), int(d["td_length"]),
            core.addr(m), "in flight " if first in busy else "", mark)).rstrip())
        if core.addr(m):
            out("             " + _decode_mbuf(m))
    out("  TX: %d slot%s in flight or unreclaimed" % (len(inflight), "" if len(inflight) == 1 else "s"))


@command("nk-e1000")
def nk_e1000(arg, from_tty):
    """Show the e1000 rings: head/tail, each slot's status and buffer: nk-e1000 [all]."""
    every = arg.strip() == "all"
    us = units()
    if not us:
        out("no e1000 attached")
    for sc in us:
        ifp = sc["sc_if"]
        out("e1000.%d (%s) mac %s irq %d link %s: rx %d pkts %d errors %d drops; "
            "tx %d pkts %d drops; %d interrupts" % (
                int(sc["sc_unit"]), core.cstr(ifp["if_name"]),
                core.mac([int(sc["sc_mac"][i]) & 0xFF for i in range(6)]),
                int(sc["sc_irq"]), "up" if int(sc["sc_link_up"]) else "down",
                int(sc["sc_rx_packets"]), int(sc["sc_rx_errors"]), int(sc["sc_rx_drops"]),
                int(sc["sc_tx_packets"]), int(sc["sc_tx_drops"]), int(sc["sc_intr"])))
        show_rx(sc, every)
        show_tx(sc, every)
