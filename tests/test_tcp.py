"""TCP against Linux: the guest's TCP talking to Linux's over the e1000.

Every test boots its own guest in a fresh network namespace (netrig.py):
on the tap directly, or through the seeded impairment relay (relay.py)
when the test needs a bad network.  Linux's end is tcppeer.py, run inside
the namespace; the guest's end is nc, inetd (started by init) and sha256.

Transfers are checked end to end by SHA-256: Linux -> guest (nc -l into a
file, then sha256 in the guest), guest -> Linux (nc -N from that file into
Linux's sink), and both at once (Linux sends to inetd's echo and reads the
echo while it sends).  With the relay: 2% and 5% loss, reordering,
duplication, and corruption (whose frames the guest's and Linux's
checksums must drop: the digests would differ if one got through).

Also: 200 sequential and 64 concurrent connections to inetd's echo;
ECONNREFUSED both ways; ECONNRESET when Linux closes with SO_LINGER 0 in
the middle of a transfer; ETIMEDOUT when Linux vanishes (the relay drops
everything): with net.inet.tcp.rexmt_max=4 and rto_max_ms=1000 the guest
gives up after 5 retransmissions, a few seconds (the test allows 60 s);
ICMP port and host unreachable from Linux's nftables (ECONNREFUSED at
once, EHOSTUNREACH when connect gives up); keepalive finding a Linux peer
that went silent (nftables drops everything) with ETIMEDOUT;
and the same transfer through slirp's hostfwd (restrict=on) to the
guest's echo and discard.

After each test the guest must be back where it started: no tcpcb but
the listeners (TIME_WAIT ones expire: net.inet.tcp.msl_ms is set to 250 at
the start), net.mbuf.inuse and every vm.kmalloc.*.inuse at their values
after boot, and vm.pages_free + vm.kmalloc.busy_pages too (within
SLAB_SLACK pages).
"""

import json
import os
import re
import socket
import subprocess
import sys
import time
import hashlib
import random

import pytest

import netkern
from grading import graded
from netrig import netguest, sysctl_int, sysctl_tree

__all__ = ["netguest"]

# Tests on a tap in a network namespace need root: they run in make test
# and are not graded (graders run as an ordinary user: docs/labs/README.md).
HERE = os.path.dirname(os.path.abspath(__file__))
PY = sys.executable or "/usr/bin/python3"
MSL_MS = 250


# ---- helpers ---------------------------------------------------------------

def peer_argv(rig, cmd, **kw):
    argv = [PY, os.path.join(HERE, "tcppeer.py"), cmd]
    for k, v in kw.items():
        argv += ["--" + k.replace("_", "-"), str(v)]
    return rig.ns_argv(argv)


def peer(rig, cmd, timeout=120, **kw):
    """Run tcppeer.py cmd to its end; its JSON result."""
    kw.setdefault("deadline", timeout - 10)
    r = subprocess.run(peer_argv(rig, cmd, **kw), capture_output=True,
                       text=True, timeout=timeout)
    return json.loads(r.stdout.strip().splitlines()[-1])


class Bg:
    """tcppeer.py in the background (a server the guest connects to)."""

    def __init__(self, rig, cmd, timeout=120, **kw):
        kw.setdefault("deadline", timeout - 10)
        self.timeout = timeout
        self.p = subprocess.Popen(peer_argv(rig, cmd, **kw),
                                  stdout=subprocess.PIPE, text=True)
        line = self.p.stdout.readline()  # it listens: the guest may connect
        assert '"listening"' in line, "%s: %r" % (cmd, line)

    def result(self):
        out, _ = self.p.communicate(timeout=self.timeout)
        return json.loads(out.strip().splitlines()[-1])

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait(10)


def bg(g, cmd):
    """Start cmd in the background; its pid (the shell prints [pid])."""
    m = re.search(r"\[(\d+)\]", g.run(cmd + " &"))
    assert m, cmd
    return int(m.group(1))


def guest_sha(g, path):
    out = g.run("sha256 %s" % path, timeout=60)
    m = re.match(r"([0-9a-f]{64})  \S+  (\d+)", out)
    assert m, out
    return m.group(1), int(m.group(2))


def pcbs(g):
    """The guest's TCP connections: list of (local, foreign, state)."""
    out = g.run("sysctl -n net.inet.tcp.pcblist")
    return [tuple(ln.split()[:3]) for ln in out.splitlines()
            if len(ln.split()) >= 10]


# vm.pages_free + vm.kmalloc.busy_pages counts kmalloc's empty slabs as
# free, however many it keeps; what may still be missing after a test are
# pages outside kmalloc that come and go with the shell's commands (a
# child's page table and stack): at most this many.
SLAB_SLACK = 16


def resources(g):
    """What must come back: every net.mbuf.*inuse and vm.kmalloc.*.inuse
    count, and the free pages plus the pages kmalloc's slabs hold (how
    objects spread over slabs moves with the order of frees: the e1000 RX
    ring's clusters, refilled while the stack frees the ones it handed
    up, may end one per page; the inuse counts catch an object leak)."""
    v = {"pages": sysctl_int(g, "vm.pages_free") +
         sysctl_int(g, "vm.kmalloc.busy_pages")}
    for prefix in ("net.mbuf", "vm.kmalloc"):
        for k, n in sysctl_tree(g, prefix).items():
            if k.endswith("inuse"):
                v[k] = n
    return v


def prepare(g):
    """Short TIME_WAIT, then the baseline to come back to."""
    g.run("sysctl net.inet.tcp.msl_ms=%d" % MSL_MS)
    return resources(g)


def settle(g, base):
    """Wait for the connections to go (listeners stay) and the resources
    to come back to base; assert both.  (Timers and netisrs do it on
    their own time: up to netkern.WAIT_TIMEOUT each on a loaded host.)"""
    left = []

    def gone():
        left[:] = [p for p in pcbs(g) if p[2] != "LISTEN"]
        return not left
    netkern.until(gone)
    assert not left, "tcpcbs left behind: %s" % left
    now = {}

    def back():
        now.update(resources(g))
        return all(now[k] <= base[k] for k in base if k != "pages") and \
            now["pages"] >= base["pages"] - SLAB_SLACK
    if netkern.until(back):
        return
    diff = {k: (base.get(k), now[k]) for k in now if now[k] != base.get(k)}
    raise AssertionError("resources not back to baseline (before, after): "
                         "%s" % diff)


def linux_to_guest(rig, g, port, nbytes, seed, timeout=240):
    """Linux sends nbytes to the guest's nc -l, which writes /rx; the
    digests must match.  Returns the digest."""
    g.sendline("nc -d -l -p %d > /rx" % port)
    r = peer(rig, "send", port=port, bytes=nbytes, seed=seed,
             timeout=timeout)
    assert r.get("sent") == nbytes and r.get("eof"), r
    g.wait_prompt(timeout=60)
    sha, n = guest_sha(g, "/rx")
    assert n == nbytes and sha == r["sent_sha256"], \
        "guest got %d bytes (sha %s), Linux sent %d (sha %s)" % (
            n, sha, nbytes, r["sent_sha256"])
    return sha


def guest_to_linux(rig, g, port, nbytes, sha, timeout=240):
    """The guest's nc -N sends /rx to Linux's sink; the digests match."""
    sink = Bg(rig, "sink", port=port, timeout=timeout)
    try:
        out = g.run("nc -N 10.0.2.2 %d < /rx" % port, timeout=timeout)
        r = sink.result()
    finally:
        sink.kill()
    assert "nc:" not in out, out
    c = r["conns"][0]
    assert c["eof"] and c["bytes"] == nbytes and c["sha256"] == sha, (c, sha)


def both_ways(rig, g, nbytes, seed, timeout=240):
    """Linux sends to inetd's echo and reads the echo at the same time."""
    r = peer(rig, "send", port=7, bytes=nbytes, seed=seed, timeout=timeout)
    assert r.get("sent") == nbytes and r.get("eof") and not r.get("error"), r
    assert r["got"] == nbytes and r["got_sha256"] == r["sent_sha256"], r


def transfers(rig, g, nbytes, seed):
    sha = linux_to_guest(rig, g, 5001, nbytes, seed)
    guest_to_linux(rig, g, 5002, nbytes, sha)
    both_ways(rig, g, nbytes, seed + 1)


# ---- transfers -------------------------------------------------------------

def test_tcp_transfers_sha256_on_a_clean_link(netguest):
    "1 MB Linux -> guest, guest -> Linux, and both at once (echo); LRO on and off"
    rig, g = netguest(cpus=2)
    base = prepare(g)
    transfers(rig, g, 1 << 20, 1)
    # Receive coalescing (net/tcp_lro.c) is on by default: the in-order
    # segments of one input batch reached TCP merged, and the digests
    # matched. Off, nothing merges and the bytes are the same.
    assert sysctl_int(g, "net.inet.tcp.lro") == 1
    merged = sysctl_int(g, "net.inet.tcp.lro_mergedsegs")
    assert merged > 0 and sysctl_int(g, "net.inet.tcp.lro_merged") > 0
    g.run("sysctl net.inet.tcp.lro=0")
    linux_to_guest(rig, g, 5004, 256 << 10, 4)
    assert sysctl_int(g, "net.inet.tcp.lro_mergedsegs") == merged
    g.run("sysctl net.inet.tcp.lro=1")
    # Two harts: the e1000's interrupt line moved to the hart of the
    # streams' netisr (net/netisr_steer.c) ...
    moves = sysctl_int(g, "dev.e1000.0.irq_moves")
    assert moves >= 1
    # ... and with the switch off it goes back to every hart, once.
    g.run("sysctl net.netisr.irq_follow=0")
    linux_to_guest(rig, g, 5003, 256 << 10, 3)
    assert sysctl_int(g, "dev.e1000.0.irq_moves") == moves + 1
    g.run("sysctl net.netisr.irq_follow=1")
    settle(g, base)


IMPAIR = {
    "loss2": {"loss": 0.02},
    "loss5": {"loss": 0.05, "reorder": 0.03, "reorder_ms": 4},
    "reorder": {"reorder": 0.05, "reorder_ms": 8, "delay_ms": 1,
                "jitter_ms": 2},
    "dup": {"dup": 0.05},
    "corrupt": {"corrupt": 0.03},
}


@pytest.mark.parametrize("kind", list(IMPAIR), ids=list(IMPAIR))
def test_tcp_transfers_sha256_through_the_relay(netguest, kind):
    "256 KB each way and both at once, with the impairment on both directions"
    p = IMPAIR[kind]
    rig, g = netguest(cpus=2, relay={"seed": 42, "in": p, "out": p})
    base = prepare(g)
    transfers(rig, g, 256 << 10, 7)
    st = rig.relay_stats()
    key = {"loss2": "dropped", "loss5": "dropped", "reorder": "reordered",
           "dup": "duplicated", "corrupt": "corrupted"}[kind]
    assert st["in"][key] > 0 and st["out"][key] > 0, st
    if kind == "corrupt":
        # the guest's checksum dropped what was corrupted on the way in
        assert sysctl_int(g, "net.inet.tcp.rcvbadsum") > 0
    if kind == "loss5":
        sack_in_use(g)
    settle(g, base)


def sack_in_use(g):
    """Linux and the guest negotiated SACK (net.inet.tcp.sack=1, the
    default): netstat -s shows the guest's SACK recoveries, the blocks
    it received (as sender) and sent (as receiver), and its bytes
    retransmitted beside those the scoreboard marked lost."""
    out = g.run("netstat -s")
    st = {m.group(2): int(m.group(1))
          for m in re.finditer(r"^\s+(\d+) (\w+)$", out, re.M)}
    print("SACK: %s" % {k: v for k, v in st.items()
                        if k.startswith("sack_") or k in ("sndrexmitbyte",
                                                          "recovery")})
    for k in ("sack_recovery", "sack_rcvblocks", "sack_sndblocks",
              "sack_rexmitbyte", "sack_lostbyte"):
        assert st.get(k, 0) > 0, (k, out)


def test_tcp_nc_keeps_listening(netguest):
    """nc -l -k takes one connection after the other into one file: the
    file is both transfers, in order."""
    rig, g = netguest(cpus=2)
    base = prepare(g)
    pid = bg(g, "nc -d -l -k -p 5007 > /k")
    a = peer(rig, "send", port=5007, bytes=70000, seed=11)
    b = peer(rig, "send", port=5007, bytes=50000, seed=12)
    assert a.get("sent") == 70000 and a["eof"], a
    assert b.get("sent") == 50000 and b["eof"], b
    g.run("kill %d" % pid)
    import tcppeer
    want = hashlib.sha256(tcppeer.data(11, 70000) +
                          tcppeer.data(12, 50000)).hexdigest()
    assert guest_sha(g, "/k") == (want, 120000)
    settle(g, base)


# ---- many connections ------------------------------------------------------

def test_tcp_200_sequential_and_64_concurrent_connections(netguest):
    rig, g = netguest(cpus=2)
    base = prepare(g)
    r = peer(rig, "conns", port=7, count=200, parallel=1, timeout=240)
    assert r["ok"] == 200 and r["bad"] == 0, r
    r = peer(rig, "conns", port=7, count=64, parallel=64, timeout=240)
    assert r["ok"] == 64 and r["bad"] == 0, r
    settle(g, base)


# ---- errors ----------------------------------------------------------------

def test_tcp_connection_refused_both_ways(netguest):
    rig, g = netguest(cpus=2)
    base = prepare(g)
    r = peer(rig, "refused", port=4444, timeout=30)
    assert r["result"] == "refused", r
    out = g.run("nc -d 10.0.2.2 4444", timeout=30)
    assert "Connection refused" in out, out
    settle(g, base)


def test_tcp_reset_by_linux_mid_transfer(netguest):
    """Linux closes with SO_LINGER 0 in the middle of a transfer: the
    guest's reader gets ECONNRESET (after some of the data); the guest's
    writer learns it too (the write fails; nc reports the drop's error
    from SO_ERROR, as a write after a drop is EPIPE in BSD)."""
    rig, g = netguest(cpus=2)
    base = prepare(g)
    # the guest reads: Linux sends 1 MB and resets before the guest has it
    rst = Bg(rig, "resetsend", port=5005, bytes=1 << 20, timeout=60)
    try:
        out = g.run("nc -d 10.0.2.2 5005 > /part", timeout=60)
        assert rst.result()["sent"] == 1 << 20
    finally:
        rst.kill()
    assert "nc: read: Connection reset by peer" in out, out
    assert sysctl_int(g, "net.inet.tcp.rstrcvd") >= 1
    # the guest writes: Linux reads 64 KB of 512 KB and resets
    linux_to_guest(rig, g, 5001, 512 << 10, 3)
    rst = Bg(rig, "reset", port=5003, after=64 << 10, timeout=60)
    try:
        out = g.run("nc -N 10.0.2.2 5003 < /rx", timeout=60)
        assert rst.result()["read"] == 64 << 10
    finally:
        rst.kill()
    assert "Connection reset by peer" in out, out
    settle(g, base)


def test_tcp_timeout_when_linux_vanishes(netguest):
    """The guest sends to a Linux server that stops answering (the relay
    drops every frame both ways): the write fails with ETIMEDOUT after
    rexmt_max retransmissions, bounded by rto_max_ms each."""
    rig, g = netguest(cpus=2, relay={"seed": 1, "in": {}, "out": {}})
    base = prepare(g)
    linux_to_guest(rig, g, 5001, 256 << 10, 4)
    g.run("sysctl net.inet.tcp.rexmt_max=4")
    g.run("sysctl net.inet.tcp.rto_max_ms=1000")
    hole = Bg(rig, "blackhole", port=5004, timeout=90)
    try:
        g.sendline("nc -N 10.0.2.2 5004 < /rx")
        line = hole.p.stdout.readline()        # accepted: now vanish
        assert "accepted" in line, line
        rig.set_relay({"seed": 1, "in": {"loss": 1.0}, "out": {"loss": 1.0}})
        t0 = time.monotonic()
        out = g.wait_prompt(timeout=60, what="nc to give up")
        took = time.monotonic() - t0
    finally:
        hole.kill()
    print("ETIMEDOUT after %.1f s" % took)
    assert "nc: write: Connection timed out" in out, out
    assert sysctl_int(g, "net.inet.tcp.timeoutdrop") >= 1
    rig.set_relay({"seed": 1, "in": {}, "out": {}})
    settle(g, base)


def nft(rig, ruleset):
    """Load an nftables ruleset into the peer's namespace (its own table:
    `nft delete table ip nk` undoes it)."""
    path = os.path.join(str(rig.workdir), "nft-%d.conf" % random.randrange(1 << 30))
    with open(path, "w") as f:
        f.write(ruleset)
    rig.ns_run(["nft", "-f", path])


def test_tcp_icmp_errors_from_linux(netguest):
    """Linux's nftables answers the guest's SYNs with ICMP instead of a
    RST (net/tcp_icmp.c, RFC 1122 4.2.3.9): port unreachable is a hard
    error in SYN_SENT -- connect fails at once with ECONNREFUSED, no RST
    involved; host unreachable is a soft error -- connect keeps
    retransmitting and, when it gives up, reports EHOSTUNREACH instead of
    ETIMEDOUT."""
    rig, g = netguest(cpus=2)
    base = prepare(g)
    rig.ns_run(["sysctl", "-q", "-w", "net.ipv4.icmp_ratelimit=0"])
    nft(rig, "table ip nk {\n chain in {\n"
             "  type filter hook input priority 0; policy accept;\n"
             "  tcp dport 4450 reject with icmp type port-unreachable\n"
             "  tcp dport 4451 reject with icmp type host-unreachable\n"
             " }\n}\n")
    rst0 = sysctl_int(g, "net.inet.tcp.rstrcvd")
    out = g.run("nc -d 10.0.2.2 4450", timeout=60)
    assert "Connection refused" in out, out
    assert sysctl_int(g, "net.inet.tcp.icmp_hard") == 1
    assert sysctl_int(g, "net.inet.tcp.rstrcvd") == rst0   # not a RST
    g.run("sysctl net.inet.tcp.syn_rexmt_max=2")
    g.run("sysctl net.inet.tcp.rto_init_ms=200")
    out = g.run("nc -d 10.0.2.2 4451", timeout=60)
    assert "No route to host" in out, out
    assert sysctl_int(g, "net.inet.tcp.icmp_soft") >= 1
    assert sysctl_int(g, "net.inet.tcp.timeoutdrop") == 1   # it gave up by itself
    assert sysctl_int(g, "net.inet.tcp.icmp_hard") == 1
    settle(g, base)


def test_tcp_keepalive_finds_a_dead_peer(netguest):
    """nc -K (SO_KEEPALIVE) reading from a Linux server that sent 100 KB
    and then went quiet: while Linux answers, the keepalive probes keep
    the idle connection open; once nftables drops everything from the
    guest (the peer vanished in the middle of the connection), keepcnt
    unanswered probes end the read with ETIMEDOUT (bound: keepidle_ms +
    keepcnt x keepintvl_ms after the last answer)."""
    rig, g = netguest(cpus=2)
    base = prepare(g)
    g.run("sysctl net.inet.tcp.keepidle_ms=1000")
    g.run("sysctl net.inet.tcp.keepintvl_ms=500")
    g.run("sysctl net.inet.tcp.keepcnt=3")
    hole = Bg(rig, "blackhole", port=5010, bytes=100000, seed=5, timeout=120)
    try:
        bg(g, "nc -d -K 10.0.2.2 5010 > /ka.data")
        line = hole.p.stdout.readline()
        assert "accepted" in line, line
        probes = 0
        for _ in range(120):             # a few rounds of answered probes
            probes = sysctl_int(g, "net.inet.tcp.keepprobe")
            if probes >= 3:
                break
            time.sleep(0.25)
        assert probes >= 3, probes
        assert sysctl_int(g, "net.inet.tcp.keepdrops") == 0
        assert [p for p in pcbs(g) if p[1] == "10.0.2.2:5010"][0][2] == \
            "ESTABLISHED"
        nft(rig, "table ip nk {\n chain in {\n"
                 "  type filter hook input priority 0; policy accept;\n"
                 "  ip saddr 10.0.2.15 drop\n }\n}\n")
        g.expect(r"nc: read: [^\r\n]*\r?\n", timeout=60,
                 what="the keepalive to give up")
        out = g.child.after
    finally:
        hole.kill()
    assert "nc: read: Connection timed out" in out, out
    assert sysctl_int(g, "net.inet.tcp.keepdrops") == 1
    import tcppeer
    assert guest_sha(g, "/ka.data") == \
        (hashlib.sha256(tcppeer.data(5, 100000)).hexdigest(), 100000)
    rig.ns_run(["nft", "delete", "table", "ip", "nk"])
    settle(g, base)


# ---- slirp -----------------------------------------------------------------

@graded(3, lab="tcp", limit=240)
def test_tcp_through_slirp_hostfwd(boot):
    """The host connects through slirp's hostfwd (restrict=on) to the
    guest's echo and discard: 256 KB echoed intact, 256 KB discarded."""
    port, port2 = netkern.free_port(), netkern.free_port()
    g = boot(cpus=2, netdev="user,id=net0,restrict=on,"
                            "hostfwd=tcp:127.0.0.1:%d-:7,"
                            "hostfwd=tcp:127.0.0.1:%d-:9" % (port, port2))
    base = prepare(g)
    d = random.Random(9).randbytes(256 << 10)
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    got = bytearray()
    off = 0
    s.setblocking(False)
    end = time.monotonic() + 120
    import selectors
    sel = selectors.DefaultSelector()
    sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE)
    eof = False
    while not eof and time.monotonic() < end:
        for _, ev in sel.select(1.0):
            if ev & selectors.EVENT_WRITE and off < len(d):
                try:
                    off += s.send(d[off:off + 32768])
                except BlockingIOError:
                    pass
                if off == len(d):
                    s.shutdown(socket.SHUT_WR)
                    sel.modify(s, selectors.EVENT_READ)
            if ev & selectors.EVENT_READ:
                try:
                    b = s.recv(65536)
                except BlockingIOError:
                    continue
                if not b:
                    eof = True
                got += b
    s.close()
    assert eof and hashlib.sha256(got).digest() == \
        hashlib.sha256(d).digest(), (len(got), len(d))
    with socket.create_connection(("127.0.0.1", port2), timeout=30) as s2:
        s2.sendall(d)
        s2.shutdown(socket.SHUT_WR)
        s2.settimeout(30)
        assert s2.recv(10) == b""
    settle(g, base)


# ---- the tools -------------------------------------------------------------

def test_tcp_tools_tcpstream_and_netstat(netguest):
    """tcpstream both directions over lo0 with 2 streams, its report
    lines; netstat lists inetd's listeners (with -a only) and a live
    connection both ways with -T's columns."""
    rig, g = netguest(cpus=2)
    base = prepare(g)
    srv = bg(g, "tcpstream -s > /ts.txt")
    netkern.until(lambda: "tcpstream: server port 5201" in g.read_file("/ts.txt"))
    for rev in ("", "-R "):
        out = g.run("tcpstream -l 1 -P 2 %s127.0.0.1" % rev, timeout=120)
        streams = re.findall(r"^stream (\d): ([\d.]+) Mbit/s bytes=(\d+) "
                             r"ms=(\d+)$", out, re.M)
        total = re.search(r"^tcpstream: total=([\d.]+) streams=2 "
                          r"bytes=(\d+) elapsed_ns=(\d+) idle_ns=(\d+)$", out, re.M)
        assert len(streams) == 2 and total, out
        # The run's guest time and the part the harts idled in it.
        assert 0 <= int(total.group(4)) <= 2 * int(total.group(3)), out
        assert all(int(b) > 0 for _, _, b, _ in streams), out
        assert int(total.group(2)) == sum(int(b) for _, _, b, _ in streams)
        assert out.rstrip().splitlines()[-1].startswith("tcpstream: total=")
    # -n: a stream ends after that many bytes, long before -l's 60 s.
    out = g.run("tcpstream -l 60 -n 100000 127.0.0.1", timeout=120)
    assert re.search(r"^tcpstream: total=[\d.]+ streams=1 bytes=100000 ", out, re.M), out
    served = ""

    def printed():      # the server prints after its close
        nonlocal served
        served = g.read_file("/ts.txt")
        return "served recv bytes=100000 " in served
    netkern.until(printed)
    assert len(re.findall(r"^tcpstream: served recv bytes=\d+", served,
                          re.M)) == 3, served
    assert "served recv bytes=100000 " in served, served
    assert len(re.findall(r"^tcpstream: served send bytes=\d+", served,
                          re.M)) == 2, served
    cli = bg(g, "nc -d 127.0.0.1 9")
    # nc connects in the background: wait until both ends show
    netkern.until(lambda: g.run("netstat").count("ESTABLISHED") == 2)
    out = g.run("netstat -aT")
    assert re.search(r"^Proto Recv-Q Send-Q Local Address +Foreign Address +"
                     r"State +cwnd +ssthresh +srtt +rto +cpu +opts$", out,
                     re.M), out
    for port in (7, 9, 13, 19, 5201):
        assert re.search(r"^tcp +\d+ +\d+ 0\.0\.0\.0:%d +0\.0\.0\.0:0 +LISTEN"
                         % port, out, re.M), (port, out)
    est = re.findall(r"^tcp +\d+ +\d+ 127\.0\.0\.1:(\d+) +127\.0\.0\.1:(\d+) "
                     r"+ESTABLISHED +(\d+) +\d+ +\d+ +\d+ +\d +\S*sack\S*$", out,
                     re.M)
    assert len(est) == 2 and {est[0][0], est[0][1]} == {est[1][0], est[1][1]} \
        and "9" in (est[0][0], est[0][1]), out
    assert all(int(c) > 0 for _, _, c in est), "cwnd 0: %s" % out
    plain = g.run("netstat")
    assert "LISTEN" not in plain and plain.count("ESTABLISHED") == 2, plain
    g.run("kill %d" % cli)
    g.run("kill %d" % srv)
    settle(g, base)
