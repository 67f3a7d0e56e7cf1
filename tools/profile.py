#!/usr/bin/python3
"""profile.py: where do guest instructions go?  `make profile CMD='...'`.

Boots the kernel under QEMU with `-icount shift=0,sleep=off` (one guest
instruction = one nanosecond of the guest's clock), types
    sysctl kern.prof.period=N; CMD; sysctl kern.prof.period=0
at the shell, so the machine-mode sampler of kernel/prof.c records the
interrupted pc and the kernel call stack every N instructions while CMD
runs, reads the samples out of guest memory through QEMU's monitor
(pmemsave of prof_buf), and symbolizes them against kernel/kernel.

Prints the top kernel functions by samples, i.e. by instructions: "self"
is the share of samples whose pc was in the function, "total" the share
in which it was anywhere on the stack. User-mode samples count as [user]
(their pc is shown, not symbolized); a hart idle in wfi is not sampled.
Writes, in the output directory (default prof/):
    profile.folded   one line per distinct stack, root first:
                     "syscall;sys_sendto;...;ip_output 12" (Brendan
                     Gregg's folded format, for flamegraph.pl and others)
    profile.svg      a flame graph a browser opens (hover: name, samples)
    profile.txt      the report printed on the terminal

Options: --cpus N (default 1), --period N instructions (default 20000,
the least that works: with shorter periods QEMU 7.2 under -icount takes
the M-mode timer interrupt back to back at one pc),
--top N, --out DIR, --junk (keep vm.junk_fill on; off by default, as in
make bench), --lockcheck (keep the lock-order checker on; booted with
lockcheck=0 otherwise, as make bench does), --rig (the guest's e1000 on a
tap in a network namespace made for the run, Linux at 10.0.2.2, instead of
slirp; root only), --peer 'ARGS' (with --rig: run `bench/run.py ARGS` in
the namespace while CMD runs, e.g. --peer 'ns-tcpsink --port 5201' for
`tcpstream -l 2 -p 5201 10.0.2.2`, or --peer 'ns-tcpsend --secs 2' for
`tcpstream -s & sleep 4`), --peer-script PATH (the script --peer's ARGS
go to instead of bench/run.py, e.g. bench/acceptload.py with --wait for
`reuseport -T`), --loss PCT (with --rig: PCT% of the TCP frames
dropped each way on the tap, bench/taploss.py, as make bench's loss
rows; with --loss-path forward instead Linux's end behind the rig's
namespace, which forwards and drops, bench/losspath.py: the peer runs
there, at 10.0.3.2, e.g. --loss 2 --loss-path forward --peer 'ns-tcpsink
--port 5201 --bind 10.0.3.2' for `tcpstream -l 2 -p 5201 10.0.3.2`).
Needs only the Debian packages
of the build (QEMU 7.2 has no
plugin headers; see docs/profiling.md for why the sampler is in the
guest).
"""

import argparse
import bisect
import collections
import html
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import netkern  # noqa: E402
import netrig   # noqa: E402

SAMPLE = 128            # sizeof(struct prof_sample), kernel/prof.h
DEPTH = 14              # PROF_DEPTH
MODE_S = 1


def symbols(kernel):
    """Sorted (address, name) of the kernel's functions."""
    nm = netkern.make_var("TOOLPREFIX") + "nm"
    out = subprocess.run([nm, "-n", "--defined-only", str(kernel)],
                         capture_output=True, text=True, check=True).stdout
    syms = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "tTwW":
            # A static function the link-time optimiser kept out of line
            # is renamed name.lto_priv.N (Makefile, LTO): show its name.
            syms.append((int(parts[0], 16), re.sub(r"\.lto_priv\.\d+$", "", parts[2])))
    return syms


class Symbolizer:
    def __init__(self, syms):
        self.addrs = [a for a, _ in syms]
        self.names = [n for _, n in syms]
        etext = [a for a, n in syms if n == "etext"]
        self.etext = etext[0] if etext else None

    def name(self, pc):
        if self.etext is not None and pc >= self.etext:
            return "[trampoline]"   # mapped at TRAMPOLINE, not in the image
        i = bisect.bisect_right(self.addrs, pc) - 1
        return self.names[i] if i >= 0 else "0x%x" % pc


def monitor(sock_path, cmd, timeout=30):
    """Send one HMP command to QEMU's monitor socket; returns its output."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(sock_path)
    buf = b""
    while b"(qemu)" not in buf:
        buf += s.recv(4096)
    s.sendall(cmd.encode() + b"\n")
    buf = b""
    while buf.count(b"(qemu)") < 1:
        buf += s.recv(4096)
    s.close()
    return buf.decode(errors="replace")


def read_samples(path, n):
    data = Path(path).read_bytes()
    out = []
    for i in range(n):
        rec = struct.unpack_from("<%dQ" % (2 + DEPTH), data, i * SAMPLE)
        pc, info = rec[0], rec[1]
        mode, depth = (info >> 8) & 0xff, (info >> 16) & 0xff
        out.append((pc, mode, list(rec[2:2 + min(depth, DEPTH)])))
    return out


def fold(samples, sym):
    """Folded stacks: {"root;...;leaf": count}."""
    folded = collections.Counter()
    for pc, mode, stack in samples:
        if mode != MODE_S:
            folded["[user]"] += 1
            continue
        # A return address is after the call: look up ra - 4.
        frames = [sym.name(pc)] + [sym.name(ra - 4) for ra in stack]
        folded[";".join(reversed(frames))] += 1
    return folded


def report(folded, top, period, idle, dropped, cmd):
    total = sum(folded.values())
    selfc, totc = collections.Counter(), collections.Counter()
    for stack, c in folded.items():
        frames = stack.split(";")
        selfc[frames[-1]] += c
        for f in set(frames):
            totc[f] += c
    lines = ["profile of: %s" % cmd,
             "%d samples, one per %d guest instructions (~%.1f M instructions); "
             "%d idle samples not counted%s" %
             (total, period, total * period / 1e6, idle,
              ", %d DROPPED (buffer full)" % dropped if dropped else ""),
             "",
             "%7s %7s  %s" % ("self%", "total%", "function (self = pc in it, "
                              "total = on the stack)")]
    for name, c in selfc.most_common(top):
        lines.append("%6.2f%% %6.2f%%  %s" % (100.0 * c / total,
                                              100.0 * totc[name] / total, name))
    lines.append("")
    lines.append("top by total (inclusive):")
    for name, c in totc.most_common(top):
        lines.append("%6.2f%%  %s" % (100.0 * c / total, name))
    return "\n".join(lines) + "\n"


# ---- flame graph (SVG) -------------------------------------------------------

def flamegraph(folded, title, width=1200, row=16):
    """An SVG flame graph of the folded stacks: root at the bottom, each
    frame as wide as its samples, siblings sorted by name."""
    tree = {}
    for stack, c in folded.items():
        node = tree
        for f in stack.split(";"):
            ent = node.setdefault(f, [0, {}])
            ent[0] += c
            node = ent[1]
    total = sum(c for c, _ in tree.values()) or 1
    rects = []
    maxdepth = [0]

    def walk(node, x, depth):
        for name in sorted(node):
            c, kids = node[name]
            w = width * c / total
            rects.append((x, depth, w, name, c))
            maxdepth[0] = max(maxdepth[0], depth)
            walk(kids, x, depth + 1)
            x += w

    walk(tree, 0.0, 0)
    height = (maxdepth[0] + 1) * row + 40
    out = ['<?xml version="1.0" standalone="no"?>',
           '<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
           'font-family="monospace" font-size="11">' % (width, height),
           '<rect width="100%" height="100%" fill="#f8f8f0"/>',
           '<text x="4" y="16" font-size="14">%s</text>' % html.escape(title)]
    for x, depth, w, name, c in rects:
        if w < 0.3:
            continue
        y = height - (depth + 1) * row - 4
        h = abs(hash(name)) % 60
        color = "rgb(%d,%d,%d)" % (205 + h // 2, 80 + h * 2, 40 + h // 3)
        label = name if w > 7 * len(name) else name[:max(0, int(w / 7) - 2)] + ".." \
            if w > 28 else ""
        out.append('<g><title>%s: %d samples (%.2f%%)</title>'
                   '<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s" '
                   'stroke="#f8f8f0" stroke-width="0.5"/>'
                   '<text x="%.1f" y="%d">%s</text></g>'
                   % (html.escape(name), c, 100.0 * c / total, x, y, w, row - 1,
                      color, x + 2, y + row - 4, html.escape(label)))
    out.append("</svg>")
    return "\n".join(out) + "\n"


# ---- the run -----------------------------------------------------------------

def run(args):
    kernel = ROOT / "kernel" / "kernel"
    sym = Symbolizer(symbols(kernel))
    buf_addr = [a for a, n in symbols_all(kernel) if n == "prof_buf"]
    if not buf_addr:
        sys.exit("profile: no prof_buf in kernel/kernel (kernel/prof.c)")
    work = Path(tempfile.mkdtemp(prefix="nkprof-"))
    mon = str(work / "monitor.sock")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rig = peer = lp = None
    try:
        fs = netkern.copy_fsimg(work)
        qargs = (["-icount", "shift=0,sleep=off",
                  "-monitor", "unix:%s,server,nowait" % mon]
                 + ([] if args.lockcheck else ["-append", "lockcheck=0"]))
        argv = None
        if args.rig:
            rig = netrig.NetRig(work).setup()
            if args.loss is not None and args.loss_path == "forward":
                sys.path.insert(0, str(ROOT / "bench"))
                from losspath import LossPath
                lp = LossPath(rig, args.loss).__enter__()
            argv = rig.ns_argv(netkern.qemu_argv(fs, args.cpus, rig.netdev(),
                                                 qargs))
        g = netkern.Guest(fs, cpus=args.cpus, log=out / "console.txt",
                          name="profile", argv=argv, qemu_args=qargs)
        with g:
            g.boot(timeout=300)
            if not args.junk:
                g.run("sysctl vm.junk_fill=0")
            if args.loss is not None and args.loss_path == "tap":
                sys.path.insert(0, str(ROOT / "bench"))
                from taploss import TapLoss     # needs QEMU holding the tap
                lp = TapLoss(rig, args.loss).__enter__()
            if args.peer:
                peer = subprocess.Popen(
                    (lp or rig).ns_argv([sys.executable, str(ROOT / args.peer_script)]
                                + args.peer.split()),
                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                if "ns-tcpsink" in args.peer:
                    peer.stdout.readline()      # {"listening": port}
            line = ("sysctl kern.prof.period=%d; %s; sysctl kern.prof.period=0"
                    % (args.period, args.cmd))
            cmd_out = g.run(line, timeout=args.timeout)
            if peer is not None:
                try:
                    cmd_out += "\n--- peer ---\n" + peer.communicate(timeout=120)[0]
                except subprocess.TimeoutExpired:
                    peer.kill()
                    cmd_out += "\n--- peer: killed (did not end) ---\n"
            n = int(g.run("sysctl -n kern.prof.samples").strip())
            idle = int(g.run("sysctl -n kern.prof.idle").strip())
            dropped = int(g.run("sysctl -n kern.prof.dropped").strip())
            dump = work / "samples.bin"
            reply = monitor(mon, "pmemsave 0x%x %d \"%s\"" % (buf_addr[0], max(n, 1) * SAMPLE,
                                                         dump))
            for _ in range(100):        # pmemsave writes synchronously; be safe
                if dump.exists() and dump.stat().st_size >= n * SAMPLE:
                    break
                time.sleep(0.1)
            if not dump.exists():
                raise RuntimeError("pmemsave wrote nothing: %s" % reply)
            samples = read_samples(dump, n)
            try:
                g.halt()
            except Exception as e:      # the samples are in; close() kills it
                print("profile: halt failed (%s); report anyway"
                      % str(e).splitlines()[0], file=sys.stderr)
    finally:
        if peer is not None and peer.poll() is None:
            peer.kill()
            peer.wait()
        if lp is not None:
            lp.close()
        if rig is not None:
            rig.close()             # after the guest (with g: killed it)
        shutil.rmtree(work, ignore_errors=True)
    if not samples:
        sys.exit("profile: no samples (did the command run? output:\n%s)" % cmd_out)
    folded = fold(samples, sym)
    text = report(folded, args.top, args.period, idle, dropped, args.cmd)
    (out / "profile.txt").write_text(text)
    (out / "profile.folded").write_text(
        "".join("%s %d\n" % kv for kv in sorted(folded.items())))
    (out / "profile.svg").write_text(flamegraph(
        folded, "%s (%d samples, 1 per %d instructions)"
        % (args.cmd, sum(folded.values()), args.period)))
    sys.stdout.write("--- command output ---\n%s\n--- profile ---\n%s" % (cmd_out, text))
    print("wrote %s/profile.txt, profile.folded, profile.svg" % out)


def symbols_all(kernel):
    nm = netkern.make_var("TOOLPREFIX") + "nm"
    out = subprocess.run([nm, "--defined-only", str(kernel)],
                         capture_output=True, text=True, check=True).stdout
    return [(int(p[0], 16), p[2]) for p in (l.split() for l in out.splitlines())
            if len(p) == 3]


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("cmd", help="shell command line to run in the guest")
    ap.add_argument("--cpus", type=int, default=1)
    ap.add_argument("--period", type=int, default=20000,
                    help="guest instructions between samples (>= 20000)")
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--out", default=str(ROOT / "prof"))
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--junk", action="store_true",
                    help="keep page junk-fill on (vm.junk_fill=1)")
    ap.add_argument("--lockcheck", action="store_true",
                    help="keep the lock-order checker on (boot arg lockcheck=0 "
                         "otherwise, as in make bench)")
    ap.add_argument("--rig", action="store_true",
                    help="e1000 on a tap in a fresh network namespace "
                         "(Linux at 10.0.2.2) instead of slirp; root only")
    ap.add_argument("--peer",
                    help="with --rig: 'ARGS' for bench/run.py, run in the "
                         "namespace while CMD runs (e.g. 'ns-tcpsink')")
    ap.add_argument("--peer-script", default="bench/run.py",
                    help="the script --peer's ARGS go to (default bench/run.py; "
                         "e.g. bench/acceptload.py)")
    ap.add_argument("--loss", type=float,
                    help="with --rig: LOSS%% of the TCP frames dropped each way "
                    "(bench/taploss.py, or bench/losspath.py: --loss-path)")
    ap.add_argument("--loss-path", choices=("tap", "forward"), default="tap",
                    help="tap: on the tap, Linux's end on it (make bench's loss rows); "
                    "forward: Linux's end behind a forwarding namespace that drops")
    args = ap.parse_args(argv)
    if args.loss is not None and not args.rig:
        ap.error("--loss needs --rig")
    if args.peer and not args.rig:
        ap.error("--peer needs --rig")
    if args.period < 20000:
        # Shorter periods make QEMU 7.2 (-icount) deliver the M-mode timer
        # interrupt back to back at one pc: the profile degenerates.
        ap.error("--period: at least 20000 instructions")
    run(args)


if __name__ == "__main__":
    main(sys.argv[1:])
