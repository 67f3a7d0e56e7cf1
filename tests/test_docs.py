"""Generated pictures in docs/ are up to date with the code they show.

docs/pcap/*.pcap (written by the host tests with WIRE_PCAP) show what
docs/tcp.md says they show: SACK blocks and three retransmissions in
one round trip with SACK, none and one per round trip without.

docs/tcp_fsm.svg is drawn by tools/tcp_fsm_svg.py from the
TCP_FSM_EDGE(FROM, TO, "label") lines of net/tcp_fsm.h: regenerate it
and compare, and check that every state of the enum and every edge label
is in the picture.
"""

import re
import struct
import subprocess
import sys

from netkern import ROOT

TOOL = ROOT / "tools" / "tcp_fsm_svg.py"
HEADER = ROOT / "net" / "tcp_fsm.h"
SVG = ROOT / "docs" / "tcp_fsm.svg"


def test_tcp_fsm_svg_is_generated_from_the_header():
    r = subprocess.run([sys.executable, str(TOOL), "--check", str(HEADER),
                        str(SVG)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


def test_tcp_fsm_svg_shows_every_state_and_edge():
    header = HEADER.read_text()
    pic = SVG.read_text()
    enum = re.search(r"enum tcp_state \{(.*?)\};", header, re.S).group(1)
    states = re.findall(r"TCPS_(\w+)", enum)
    assert len(states) == 11, states
    for st in states:
        assert ">%s</text>" % st in pic, st
    labels = re.findall(r'^TCP_FSM_EDGE\(\w+, \w+, "([^"]*)"\)', header, re.M)
    assert len(labels) >= 20
    for lb in labels:
        assert ">%s</text>" % lb.replace("&", "&amp;") in pic, lb
    assert pic.count("<line ") == len(labels)


def read_pcap(path):
    """(ms, tcp fields) of each packet of a raw-IPv4 pcap."""
    data = path.read_bytes()
    magic, _, _, _, _, link = struct.unpack("<IIIIII", data[:24])
    assert magic == 0xa1b2c3d4 and link == 101, (hex(magic), link)
    off, out = 24, []
    while off < len(data):
        sec, usec, incl, _ = struct.unpack("<IIII", data[off:off + 16])
        pkt = data[off + 16:off + 16 + incl]
        off += 16 + incl
        ihl = (pkt[0] & 15) * 4
        t = pkt[ihl:]
        sport, dport, seq, ack = struct.unpack(">HHII", t[:12])
        thl = (t[12] >> 4) * 4
        opts, sacks = t[20:thl], 0
        i = 0
        while i < len(opts) and opts[i] != 0:
            if opts[i] == 1:
                i += 1
                continue
            if opts[i] == 5:
                sacks = (opts[i + 1] - 2) // 8
            i += max(opts[i + 1], 2)
        out.append((sec * 1000 + usec // 1000, sport, seq, len(t) - thl,
                    sacks))
    return out


def rexmit_times(pkts):
    """When data segments went out a second time (seq below the highest)."""
    hi, times = {}, []
    for ms, sport, seq, length, _ in pkts:
        if length == 0:
            continue
        end = (seq + length) % (1 << 32)
        if sport in hi and (seq - hi[sport]) % (1 << 32) >= 1 << 31:
            times.append(ms)                  # modulo 2^32, as TCP compares
        if sport not in hi or (end - hi[sport]) % (1 << 32) < 1 << 31:
            hi[sport] = end
    return times


def test_sack_pcaps_show_blocks_and_the_retransmissions_they_drive():
    sack = read_pcap(ROOT / "docs" / "pcap" / "tcp_sack_three_holes.pcap")
    reno = read_pcap(ROOT / "docs" / "pcap" / "tcp_newreno_three_holes.pcap")
    assert max(p[4] for p in sack) >= 3, "no ACK with three SACK blocks"
    assert max(p[4] for p in reno) == 0
    rs, rr = rexmit_times(sack), rexmit_times(reno)
    assert len(rs) == 3 and len(set(rs)) == 1, rs       # one round trip
    assert len(rr) == 3 and rr[1] - rr[0] == rr[2] - rr[1] > 0, rr   # one per RTT


# ---- the tree stands on its own (docs/design.md, docs/conventions.md) ----
# The pattern is built from pieces so this file does not match itself.
_OUTSIDE = re.compile("|".join([
    r"\.\." + "/shared",
    "shared" + "/seeds",
    "(?i:" + "seed" + r"[- ]?00[0-9])",
    r"(^|[^/a-z])(" + "DES" + "IGN|" + "CONVEN" + r"TIONS)\.md",
    "CONVEN" + r"TIONS rule",
]))
_SKIP_DIRS = {".git", "build", "__pycache__", ".pytest_cache"}


def _tree_files():
    r = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z"],
                       capture_output=True, timeout=60)
    if r.returncode == 0 and r.stdout:
        return [ROOT / n for n in r.stdout.decode().split("\0") if n]
    # A student's tree may come without git history: walk it.
    out = []
    for p in ROOT.rglob("*"):
        if p.is_file() and not (_SKIP_DIRS & set(p.relative_to(ROOT).parts)):
            out.append(p)
    return out


def _text(p):
    try:
        data = p.read_bytes()
    except OSError:
        return None
    if b"\0" in data[:8192]:
        return None
    return data.decode("utf-8", "replace")


def test_no_reference_points_outside_the_tree():
    bad = []
    for p in _tree_files():
        text = _text(p)
        if text is None:
            continue
        for i, line in enumerate(text.splitlines(), 1):
            if _OUTSIDE.search(line):
                bad.append("%s:%d: %s" % (p.relative_to(ROOT), i, line.strip()))
    assert not bad, "\n".join(bad)


def test_design_and_conventions_cover_what_the_tree_cites():
    design = (ROOT / "docs" / "design.md").read_text()
    conv = (ROOT / "docs" / "conventions.md").read_text()
    sections = set(int(n) for n in re.findall(r"^## (\d+)\. ", design, re.M))
    assert sections == set(range(1, 10)), sorted(sections)
    rules = set(int(n) for n in re.findall(r"^(\d+)\. \*\*", conv, re.M))
    assert rules and rules == set(range(1, max(rules) + 1)), sorted(rules)
    # Each mechanism: its file exists and design names it with its original.
    for f, ref in [("net/tcp_rcvd_async.c", "96c6eb29"),
                   ("net/soreceive_stream.c", "Oppermann"),
                   ("net/pcq.c", "Fast protocol and port demultiplexing"),
                   ("net/ifq.c", "if_start_barrier"),
                   ("net/in_localgroup.c", "740d1d9f")]:
        assert (ROOT / f).is_file(), f
        assert f in design and ref in design, (f, ref)
    # Every "docs/design.md N" and "docs/conventions.md rule N" in the tree
    # names a section or rule that exists.
    for p in _tree_files():
        text = _text(p)
        if text is None:
            continue
        for n in re.findall(r"docs/design\.md (?:section )?(\d+)", text):
            assert int(n) in sections, (str(p), n)
        for n in re.findall(r"docs/conventions\.md\s+rule\s+(\d+)", text):
            assert int(n) in rules, (str(p), n)
