"""RFC 7323 against Linux: window scale, timestamps, receive autotuning.

Each test boots a guest on a tap (or the relay) in a fresh namespace
(netrig.py) and reads the capture of the guest's e1000 (net.pcap) with
tshark when the guest is gone:

- with SO_RCVBUF = 1 MB (nc -b) on the guest: Linux sends 2 MB to the
  guest's nc -l and the guest's nc sends them back to Linux, both checked
  by SHA-256; the guest's SYN and SYN,ACK carry window scale 5 (the
  smallest shift that fits 1 MB in 16 bits) and timestamps, its SYN,ACK
  echoes Linux's TSval, every later segment it sends carries timestamps,
  and the window it advertises goes past 64 KB;
- receive autotuning: through the relay with 10 ms each way, Linux sends
  to inetd's discard (which sets no SO_RCVBUF): the window the guest
  advertises grows past 64 KB (net.inet.tcp.rcvbufgrow counts it); with
  net.inet.tcp.recvbuf_auto=0 the same transfer never sees more than
  64 KB;
- the capture docs/tcp.md shows (docs/pcap/rfc7323.pcap, made by
  tools/pcap_rfc7323.py) is in the tree and tshark decodes the
  negotiation in it.
"""

import re
import subprocess

from netkern import ROOT

from netrig import netguest, sysctl_int
from test_tcp import Bg, guest_sha, peer, prepare, settle

__all__ = ["netguest"]

GUEST = "10.0.2.15"
FIELDS = ["ip.src", "tcp.srcport", "tcp.dstport", "tcp.flags.syn",
          "tcp.flags.ack", "tcp.flags.reset", "tcp.len",
          "tcp.window_size_value", "tcp.options.wscale.shift",
          "tcp.options.timestamp.tsval", "tcp.options.timestamp.tsecr"]


def segments(pcap):
    """Every TCP segment of the capture as a dict of FIELDS (strings)."""
    argv = ["tshark", "-n", "-r", str(pcap), "-Y", "tcp", "-T", "fields"]
    for f in FIELDS:
        argv += ["-e", f]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, "tshark failed:\n" + r.stderr
    return [dict(zip(FIELDS, ln.split("\t"))) for ln in r.stdout.splitlines()]


def from_guest(segs, port, local=True):
    """The guest's segments of connections on its port (local) or to
    Linux's port (not local)."""
    key = "tcp.srcport" if local else "tcp.dstport"
    return [s for s in segs if s["ip.src"] == GUEST and s[key] == str(port)]


def syn_of(segs, ack):
    out = [s for s in segs if s["tcp.flags.syn"] in ("1", "True") and
           (s["tcp.flags.ack"] in ("1", "True")) == ack]
    assert out, "no SYN%s in %d segments" % (",ACK" if ack else "", len(segs))
    return out[0]


def later(segs):
    """Segments after the handshake, resets aside (RFC 7323 5.3: a RST
    need not carry timestamps)."""
    return [s for s in segs if s["tcp.flags.syn"] not in ("1", "True") and
            s["tcp.flags.reset"] not in ("1", "True")]


def max_window(segs, shift):
    return max(int(s["tcp.window_size_value"]) << shift for s in later(segs))


def test_tcp_rfc7323_options_and_1mb_rcvbuf_with_linux(netguest):
    "window scale and timestamps negotiated both ways; 2 MB each way with a 1 MB SO_RCVBUF"
    rig, g = netguest(cpus=2)
    base = prepare(g)
    nbytes = 2 << 20
    g.sendline("nc -d -l -b 1048576 -p 5001 > /rx")
    r = peer(rig, "send", port=5001, bytes=nbytes, seed=11, timeout=240)
    assert r.get("sent") == nbytes and r.get("eof"), r
    g.wait_prompt(timeout=60)
    sha, n = guest_sha(g, "/rx")
    assert n == nbytes and sha == r["sent_sha256"]
    sink = Bg(rig, "sink", port=5002, timeout=240)
    try:
        out = g.run("nc -N -b 1048576 10.0.2.2 5002 < /rx", timeout=240)
        c = sink.result()["conns"][0]
    finally:
        sink.kill()
    assert "nc:" not in out, out
    assert c["eof"] and c["bytes"] == nbytes and c["sha256"] == sha, c
    assert sysctl_int(g, "net.inet.tcp.tsrtt") > 0
    stats = g.run("netstat -s")     # the RFC 7323 counters, not its knobs
    assert re.search(r"^\s+[1-9]\d* tsrtt$", stats, re.M), stats
    assert re.search(r"^\s+0 pawsdrop$", stats, re.M), stats
    assert not re.search(r" (wscale|timestamps|recvbuf_auto)$", stats, re.M)
    settle(g, base)
    g.close()                       # QEMU gone: the capture is complete
    segs = segments(rig.pcap)

    # Passive open: Linux's SYN offers both; the guest's SYN,ACK answers
    # with shift 5 (65535 << 5 >= 1 MB > 65535 << 4) and echoes TSval.
    rx = from_guest(segs, 5001)
    sa = syn_of(rx, ack=True)
    # (Linux's SYN that it answers: an earlier one may have been refused
    # while nc was starting.)
    lsyn = syn_of([s for s in segs if s["tcp.dstport"] == "5001" and
                   s["tcp.srcport"] == sa["tcp.dstport"]], ack=False)
    assert lsyn["tcp.options.wscale.shift"] and lsyn["tcp.options.timestamp.tsval"]
    assert sa["tcp.options.wscale.shift"] == "5", sa
    assert sa["tcp.options.timestamp.tsecr"] == lsyn["tcp.options.timestamp.tsval"]
    assert int(sa["tcp.window_size_value"]) == 65535   # a SYN's window: unscaled
    # Active open: the guest's SYN offers shift 5 and timestamps (TSecr 0).
    tx = from_guest(segs, 5002, local=False)
    syn = syn_of(tx, ack=False)
    assert syn["tcp.options.wscale.shift"] == "5", syn
    assert syn["tcp.options.timestamp.tsval"] and syn["tcp.options.timestamp.tsecr"] == "0"
    # Timestamps on every later segment, data and ACKs alike.
    for name, conn in (("receiving", rx), ("sending", tx)):
        bare = [s for s in later(conn) if not s["tcp.options.timestamp.tsval"]]
        assert not bare, "%s: %d of %d segments without timestamps" % (
            name, len(bare), len(later(conn)))
    data = [s for s in later(tx) if int(s["tcp.len"]) > 0]
    assert data and max(int(s["tcp.len"]) for s in data) <= 1460 - 12
    # The guest's window, scaled by 2^5, goes past what 16 bits can say.
    assert max_window(rx, 5) > 65535, max_window(rx, 5)


def discard_window(rig, g, nbytes, seed):
    """Linux sends nbytes to inetd's discard (port 9)."""
    r = peer(rig, "send", port=9, bytes=nbytes, seed=seed, timeout=300)
    assert r.get("sent") == nbytes and r.get("eof") and not r.get("error"), r


def test_tcp_recvbuf_autotuning_over_20ms_rtt(netguest):
    "the window grows past 64 KB into inetd's discard over 20 ms; not with recvbuf_auto=0"
    delay = {"delay_ms": 10}
    rig, g = netguest(cpus=2, relay={"seed": 3, "in": delay, "out": delay})
    base = prepare(g)
    nbytes = 3 << 20
    assert sysctl_int(g, "net.inet.tcp.recvbuf_auto") == 1
    grow0 = sysctl_int(g, "net.inet.tcp.rcvbufgrow")
    discard_window(rig, g, nbytes, 21)
    grown = sysctl_int(g, "net.inet.tcp.rcvbufgrow") - grow0
    g.run("sysctl net.inet.tcp.recvbuf_auto=0")
    discard_window(rig, g, nbytes, 22)
    grown_off = sysctl_int(g, "net.inet.tcp.rcvbufgrow") - grow0 - grown
    g.run("sysctl net.inet.tcp.recvbuf_auto=1")
    settle(g, base)
    g.close()
    conns = {}
    for s in from_guest(segments(rig.pcap), 9):
        conns.setdefault(s["tcp.dstport"], []).append(s)
    assert len(conns) == 2, sorted(conns)
    on, off = list(conns.values())       # in the order they started
    shift_on = int(syn_of(on, ack=True)["tcp.options.wscale.shift"])
    shift_off = int(syn_of(off, ack=True)["tcp.options.wscale.shift"])
    print("autotuning: %d buffer growths, largest window %d (on), %d (off)"
          % (grown, max_window(on, shift_on), max_window(off, shift_off)))
    # Autotuning on: the shift covers net.inet.tcp.recvbuf_max (2 MB: 6),
    # and the window grew past 64 KB.
    assert shift_on == 6 and grown > 0, (shift_on, grown)
    assert max_window(on, shift_on) > 65535, max_window(on, shift_on)
    # Off: the default 64 KB buffer needs no shift; it stays.
    assert shift_off == 0 and grown_off == 0, (shift_off, grown_off)
    assert max_window(off, shift_off) <= 65535


def test_docs_pcap_shows_rfc7323_negotiation():
    "docs/pcap/rfc7323.pcap: tshark decodes window scale and timestamps in the handshake"
    segs = segments(ROOT / "docs" / "pcap" / "rfc7323.pcap")
    lsyn = syn_of([s for s in segs if s["ip.src"] != GUEST], ack=False)
    sa = syn_of([s for s in segs if s["ip.src"] == GUEST], ack=True)
    assert lsyn["tcp.options.wscale.shift"] and lsyn["tcp.options.timestamp.tsval"]
    assert sa["tcp.options.wscale.shift"] == "5"
    assert sa["tcp.options.timestamp.tsecr"] == lsyn["tcp.options.timestamp.tsval"]
    rest = later(segs)
    assert len(rest) >= 6 and all(s["tcp.options.timestamp.tsval"] for s in rest)
    assert any(int(s["tcp.len"]) > 0 for s in rest)
