"""gdb on the debug kernel: the start-up file `make qemu-gdb` writes and the
command it prints, backtraces that end cleanly, and every nk-* helper of
tools/gdb (docs/gdb.md) run against a live guest.

Each test boots its own QEMU (debug/kernel, -gdb on a free port) and runs
gdb-multiarch in batch mode: gdb attaches (which stops the machine), runs
its commands, and detaches when it exits, so the guest runs on. Both are
killed by the fixtures whatever happens (netkern.Guest for QEMU, a
finally for gdb).
"""

import re
import shlex
import shutil
import socket
import subprocess
import time

import pexpect
import pytest

import netkern
from test_udp import sysctl_int, wait_sysctl

GDB = "gdb-multiarch"
T = 120 * netkern.SCALE
UDP_PORT = 2000


def gdb_batch_argv(init, commands):
    """gdb -batch with our start-up file; each command's output is
    preceded by a line "@@ command" so it can be cut out afterwards."""
    argv = [GDB, "-nx", "-batch", "-x", str(init), "-ex", "set width 0",
            "-ex", "set height 0"]
    for c in commands:
        argv += ["-ex", "echo @@ %s\\n" % c.replace("\\", "\\\\"), "-ex", c]
    return argv


def sections(text):
    """{command: its output} from gdb_batch_argv's marked output; a
    command given again is "command#2", "#3", ..."""
    out = {}
    cur = None
    for line in text.replace("\r", "").splitlines():
        m = re.match(r"^@@ (.*)$", line)
        if m:
            cur = m.group(1)
            n = 2
            while cur in out:       # a command run again: "continue#2"
                cur = "%s#%d" % (m.group(1), n)
                n += 1
            out[cur] = ""
        elif cur is not None:
            out[cur] += line + "\n"
    return out


class Gdb:
    """One gdb-multiarch -batch run; killed in close() if still running."""

    def __init__(self, argv, log):
        self.log = log
        self.child = pexpect.spawn(argv[0], argv[1:], cwd=netkern.ROOT,
                                   encoding="utf-8", codec_errors="replace",
                                   timeout=T, dimensions=(50, 400))
        self.text = ""

    def expect(self, pattern, what):
        try:
            self.child.expect(pattern)
        except (pexpect.TIMEOUT, pexpect.EOF):
            raise AssertionError("gdb: no %s:\n%s" % (what, self.child.before[-4000:]))
        self.text += self.child.before + self.child.after

    def finish(self):
        """Wait for gdb to run its last command and exit; all its output."""
        try:
            self.child.expect(pexpect.EOF)
        except pexpect.TIMEOUT:
            raise AssertionError("gdb did not finish within %d s:\n%s"
                                 % (T, (self.text + self.child.before)[-4000:]))
        self.text += self.child.before
        self.text = self.text.replace("\r", "")
        self.log.note("gdb output:\n" + self.text)
        return self.text

    def close(self):
        if self.child.isalive():
            self.child.close(force=True)


@pytest.fixture
def gdbs():
    made = []

    def start(argv, log):
        g = Gdb(argv, log)
        made.append(g)
        return g
    try:
        yield start
    finally:
        for g in made:
            g.close()


def debug_guest(boot, workdir, netdev=netkern.NETDEV_ISOLATED, halted=False):
    """A guest running debug/kernel with QEMU's gdb stub on a free port;
    returns (guest, gdb port, start-up file)."""
    kernel = netkern.build_debug_kernel()
    port = netkern.free_port()
    fsimg = netkern.copy_fsimg(workdir, "fs-gdb.img")
    argv = [netkern.make_var("QEMU")] + shlex.split(netkern.make_var(
        "QEMUOPTS", CPUS=2, FSIMG=fsimg, NETDEV=netdev, DEBUG=1))
    argv += ["-gdb", "tcp:127.0.0.1:%d" % port] + (["-S"] if halted else [])
    assert "debug/kernel" in " ".join(argv), "DEBUG=1 did not pick debug/kernel"
    g = boot(cpus=2, fsimg=fsimg, argv=argv, wait=not halted,
             timeout=90 * netkern.SCALE)
    assert netkern.wait_listening(port, 20), "no gdb stub on port %d" % port
    init = netkern.write_gdbinit(workdir / "gdbinit", port, kernel)
    return g, port, init


def clean_bt(text, last):
    """A backtrace that ends at `last` with no unwinder complaint."""
    assert "corrupt stack" not in text and "?? ()" not in text, text
    assert "Backtrace stopped" not in text, text
    frames = re.findall(r"^#\d+\s+(?:0x[0-9a-f]+ in )?(\w+) ", text, re.M)
    assert frames and frames[-1] == last, (
        "backtrace does not end at %s:\n%s" % (last, text))
    return frames


# ---- the helpers load module by module --------------------------------------

def test_gdb_helper_modules_load_independently(tmp_path):
    """A broken helper module is named and the others still load: a copy
    of tools/gdb with a syntax error in pcq.py, loaded into gdb with the
    debug kernel's symbols (no QEMU needed)."""
    kernel = netkern.build_debug_kernel()
    tools = tmp_path / "gdb"
    shutil.copytree(netkern.ROOT / "tools" / "gdb", tools,
                    ignore=shutil.ignore_patterns("__pycache__"))
    (tools / "nkgdb" / "pcq.py").write_text("def broken(:\n")
    r = subprocess.run(
        [GDB, "-nx", "-batch", "-ex", "file %s" % kernel,
         "-ex", "python import sys; sys.path.insert(0, %r); import nkgdb; nkgdb.load()" % str(tools),
         "-ex", "help netkern", "-ex", "help nk-mbuf", "-ex", "nk-pcq 0"],
        capture_output=True, text=True, timeout=T)
    out = r.stdout + r.stderr
    assert re.search(r"helper module pcq failed to load \(SyntaxError", out), out
    assert "FAILED modules" in out and re.search(r"^\s+pcq: SyntaxError", out, re.M), out
    for cmd in ("nk-ps", "nk-bt", "nk-mbuf", "nk-sockets", "nk-tcpcb", "nk-netisr",
                "nk-e1000", "nk-locks", "nk-cpus", "nk-runq", "nk-pcap", "nk-so",
                "nk-msg", "nk-pkts"):
        assert re.search(r"^  %s\s" % cmd, out, re.M), "%s not listed:\n%s" % (cmd, out)
    assert not re.search(r"^  nk-pcq\s", out, re.M), out
    assert "Undefined command: \"nk-pcq\"" in out, out
    assert "Show one packet's mbuf chain" in out, out


DECODE_CASES = [
    ('Ether(src="52:55:0a:00:02:02", dst="ff:ff:ff:ff:ff:ff")/ARP(op=1, hwsrc="52:55:0a:00:02:02", '
     'psrc="10.0.2.2", pdst="10.0.2.15")',
     "ether 52:55:0a:00:02:02 > ff:ff:ff:ff:ff:ff, arp who-has 10.0.2.15 tell 10.0.2.2"),
    ('Ether(src="52:54:00:12:34:56", dst="52:55:0a:00:02:02")/ARP(op=2, hwsrc="52:54:00:12:34:56", '
     'psrc="10.0.2.15", pdst="10.0.2.2")',
     "ether 52:54:00:12:34:56 > 52:55:0a:00:02:02, arp reply 10.0.2.15 is-at 52:54:00:12:34:56"),
    ('IP(src="10.0.2.2", dst="10.0.2.15", ttl=64)/ICMP(type=8, id=7, seq=3)/b"abcd"',
     "ip 10.0.2.2 > 10.0.2.15: icmp echo request id 7 seq 3, ip len 32 ttl 64"),
    ('IP(src="10.0.2.2", dst="10.0.2.15")/TCP(sport=5000, dport=7, flags="SA", seq=100, ack=200, '
     'window=1000)',
     "ip 10.0.2.2:5000 > 10.0.2.15:7: tcp [S.] seq 100 ack 200 win 1000 len 0, ip len 40"),
    ('IP(src="10.0.2.2", dst="10.0.2.15", flags="MF", frag=0)/UDP(sport=9, dport=2000)/(b"x" * 40)',
     "ip 10.0.2.2:9 > 10.0.2.15:2000: udp len 48 (data 40), ip len 68 ttl 64 frag off=0 MF"),
    ('IP(src="10.0.2.2", dst="10.0.2.15", frag=185, proto=17)/(b"y" * 20)',
     "ip 10.0.2.2 > 10.0.2.15: proto 17, ip len 40 ttl 64 frag off=1480"),
]


def test_gdb_packet_decoder_one_liners(tmp_path):
    """nk-mbuf's one-line decoder (tools/gdb/nkgdb/mbufs.py) on frames
    scapy builds: ARP request and reply, ICMP echo, a TCP SYN,ACK, the
    first and a later IP fragment (no QEMU: gdb with the kernel's
    symbols, the decoder called from gdb's Python)."""
    kernel = netkern.build_debug_kernel()
    script = tmp_path / "decode.py"
    lines = ["import sys", "sys.path.insert(0, %r)" % str(netkern.ROOT / "tools" / "gdb"),
             "from scapy.all import Ether, ARP, IP, ICMP, TCP, UDP",
             "from nkgdb import mbufs"]
    for i, (pkt, _) in enumerate(DECODE_CASES):
        lines.append("print('case %d:', mbufs.decode(bytes(%s)))" % (i, pkt))
    script.write_text("\n".join(lines) + "\n")
    r = subprocess.run([GDB, "-nx", "-batch", "-ex", "file %s" % kernel, "-ex", "source %s" % script],
                       capture_output=True, text=True, timeout=T)
    out = r.stdout + r.stderr
    for i, (_, want) in enumerate(DECODE_CASES):
        assert "case %d: %s\n" % (i, want) in out, "case %d: want %r in:\n%s" % (i, want, out)


# ---- make qemu-gdb and the command it prints --------------------------------

def test_make_qemu_gdb_prints_a_gdb_command_that_works(boot, workdir, gdbs):
    """make qemu-gdb boots debug/kernel halted and prints the gdb command;
    that command, run as printed, loads symbols before connecting (no
    "No executable" warning), is not refused by auto-load, loads the
    helpers, stops at main, and backtraces end cleanly."""
    fsimg = netkern.copy_fsimg(workdir, "fs-make.img")
    port = netkern.free_port()
    g = boot(cpus=2, fsimg=fsimg, wait=False,
             argv=["make", "qemu-gdb", "CPUS=2", "FSIMG=%s" % fsimg, "GDBPORT=%d" % port,
                   "GDBINIT=%s" % (workdir / "gdbinit"), "NETDEV=" + netkern.NETDEV_ISOLATED])
    g.expect(r"\*\*\*   (gdb-multiarch [^\r\n]*)\r?\n", T, "the gdb command make prints")
    cmd = g.child.match.group(1)
    assert cmd.endswith("-x %s" % (workdir / "gdbinit")), cmd
    g.expect(r" -kernel (\S+) ", T, "the QEMU command line")
    assert g.child.match.group(1) == "debug/kernel", "make qemu-gdb did not boot debug/kernel"
    assert netkern.wait_listening(port, 30), "no gdb stub on port %d" % port
    # Hart 0's stop: both harts run to main, and whichever gets there first
    # stops the machine; a hart 1 stopped at main's first line has not yet
    # filled in its cpus[] entry, so nk-cpus could not show it there (CI
    # once stopped on hart 1, with hart 0 still in start()).
    argv = shlex.split(cmd) + ["-batch", "-ex", "break main if $tp == 0", "-ex", "continue",
                               "-ex", "bt", "-ex", "nk-cpus", "-ex", "show confirm"]
    gd = gdbs(argv, g.log)
    out = gd.finish()
    assert "No executable has been specified" not in out, out
    assert "auto-load" not in out and "declined" not in out, out
    assert re.search(r"netkern: \d+ gdb helper commands loaded;", out), out
    assert re.search(r"Breakpoint 1, main \(\) at kernel/main\.c:\d+", out), out
    clean_bt(out[out.index("Breakpoint 1, main"):out.index("cpu0:")], "main")
    assert re.search(r"^cpu\d: scheduler\s+pc main \(kernel/main\.c:\d+\)", out, re.M), out
    assert "Whether to confirm potentially dangerous operations is on." in out, out
    # interactively, a stray `quit` asks before it detaches
    argv = shlex.split(cmd)
    gi = pexpect.spawn(argv[0], argv[1:], cwd=netkern.ROOT, encoding="utf-8",
                       codec_errors="replace", timeout=T)
    try:
        gi.expect(r"\(gdb\) ")
        gi.sendline("quit")
        gi.expect(r"A debugging session is active\.")
        gi.expect(r"Quit anyway\? \(y or n\) ")
        gi.sendline("y")
        gi.expect(pexpect.EOF)
    except (pexpect.TIMEOUT, pexpect.EOF):
        raise AssertionError("quit did not ask before detaching:\n" + str(gi.before))
    finally:
        gi.close(force=True)


# ---- a running guest, stopped at a received datagram and when idle -----------

def start_udphold(g):
    """udphold in the background; its ready line may come before the
    shell's next prompt (then run() has it) or after (then expect it)."""
    ready = r"udphold: port %d" % UDP_PORT
    if not re.search(ready, g.run("udphold %d &" % UDP_PORT)):
        g.expect(ready, T, "udphold's ready line")


def settled(g, name, tries=20):
    """A guest counter once two reads half a second apart agree."""
    v = sysctl_int(g, name)
    for _ in range(tries):
        time.sleep(0.5)
        w = sysctl_int(g, name)
        if w == v:
            break
        v = w
    return v


def send_udp(port, payloads):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for p in payloads:
            s.sendto(p, ("127.0.0.1", port))
            time.sleep(0.05)


def test_gdb_helpers_on_a_live_guest(boot, workdir, gdbs):
    """Stopped in udp_input at a datagram from the host, and again when the
    guest is idle with datagrams queued in a socket that nobody reads and
    a TCP connection open: every nk-* command prints what is there."""
    hport = netkern.free_port()
    tport = netkern.free_port()
    netdev = ("user,id=net0,restrict=on,hostfwd=udp:127.0.0.1:%d-:%d,"
              "hostfwd=tcp:127.0.0.1:%d-:7" % (hport, UDP_PORT, tport))
    g, port, init = debug_guest(boot, workdir, netdev)
    start_udphold(g)
    # slirp learns the guest's MAC from its first packet: until then a
    # datagram from the host may be lost, so send until one arrives
    in0 = sysctl_int(g, "net.inet.udp.ipackets")
    for _ in range(10):
        send_udp(hport, [b"warmup"])
        if wait_sysctl(g, "net.inet.udp.ipackets", lambda v: v > in0, tries=6, delay=0.5) > in0:
            break
    warm = sysctl_int(g, "net.inet.udp.ipackets") - in0
    assert warm >= 1, "no datagram from the host reached the guest"

    # -- 1. stopped at a received datagram
    pcap = workdir / "one.pcap"
    cmds = ["break udp_input", "continue", "bt",
            "nk-mbuf m", "nk-pkts m", "nk-pcap m %s" % pcap,
            "nk-msg &m->m_pkthdr.ph_msg", "nk-netisr",
            "p $nk_curproc()->name", "p $nk_cpu(0)->id",
            "p $container_of(&m->m_pkthdr.ph_msg, \"struct mbuf\", \"m_pkthdr.ph_msg\") == m",
            "p *(struct ip *)m->m_data", "nk-cpus", "nk-runq", "nk-ps", "nk-bt all",
            "nk-e1000", "nk-locks", "break pcq_put", "continue", "nk-locks", "nk-cpus",
            "up", "p *(struct inpcb *)so->so_pcb", "p netisrs[0].ni_port", "delete"]
    gd = gdbs(gdb_batch_argv(init, cmds), g.log)
    gd.expect(r"Breakpoint 1 at 0x", "the breakpoint on udp_input")
    gd.expect(r"@@ continue", "continue")
    send_udp(hport, [b"gdb-datagram-1"])
    s = sections(gd.finish())
    assert re.search(r"Breakpoint 1, udp_input \(m=0x[0-9a-f]+, hlen=20\)", s["continue"]), s["continue"]
    frames = clean_bt(s["bt"], "thread_start")
    assert frames[:2] == ["udp_input", "ip_input"] and "netisr_thread" in frames, frames

    mb = s["nk-mbuf m"]
    assert re.search(r"^  mbuf 0x[0-9a-f]+ len \d+ off \d+ flags PKTHDR", mb, re.M), mb
    assert re.search(r"lengths add up: sum of m_len (\d+) = ph_len \1", mb), mb
    m = re.search(r"ip 10\.0\.2\.2:(\d+) > 10\.0\.2\.15:%d: udp len 22 \(data 14\)" % UDP_PORT, mb)
    assert m, "no decoded 10.0.2.2 -> 10.0.2.15:%d UDP line:\n%s" % (UDP_PORT, mb)
    sport = m.group(1)
    assert re.search(r"^\s*0 0x[0-9a-f]+ 42 bytes in 1 mbuf: ip 10\.0\.2\.2:%s > 10\.0\.2\.15:%d"
                     % (sport, UDP_PORT), s["nk-pkts m"], re.M), s["nk-pkts m"]
    assert "1 packet\n" in s["nk-pkts m"]
    assert "wrote 1 packet to" in s["nk-pcap m %s" % pcap]
    r = subprocess.run(["tshark", "-r", str(pcap), "-T", "fields", "-e", "ip.src", "-e", "ip.dst",
                        "-e", "udp.srcport", "-e", "udp.dstport", "-e", "data.data"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["10.0.2.2", "10.0.2.15", sport, str(UDP_PORT),
                                b"gdb-datagram-1".hex()], r.stdout
    msg = s["nk-msg &m->m_pkthdr.ph_msg"]
    assert re.search(r"handler netisr_packet flags (DONE|0)", msg) or "handler netisr_packet" in msg, msg
    assert "udp len 22" in msg, msg
    cur = re.search(r'= "(netisr\d)"', s["p $nk_curproc()->name"])
    assert cur, s["p $nk_curproc()->name"]
    assert re.search(r"^%s \(cpu \d, pid \d+, RUNNING on cpu\d\)" % cur.group(1), s["nk-netisr"], re.M), s["nk-netisr"]
    assert "= 0" in s["p $nk_cpu(0)->id"]
    assert "= 1" in s["p $container_of(&m->m_pkthdr.ph_msg, \"struct mbuf\", \"m_pkthdr.ph_msg\") == m"]
    ip = s["p *(struct ip *)m->m_data"]
    assert "ip_src = 10.0.2.2," in ip and "ip_dst = 10.0.2.15" in ip and "ip_len = 42," in ip, ip
    assert re.search(r"^cpu\d: \d+ %s\b" % cur.group(1), s["nk-cpus"], re.M), s["nk-cpus"]
    assert re.search(r"^cpu0 running", s["nk-runq"], re.M), s["nk-runq"]
    ps = s["nk-ps"]
    for name in ("init", "sh", "udphold", "netisr0 \\[k\\]", "netisr1 \\[k\\]", "inetd"):
        assert re.search(r"^\s*\d+ (SLEEPING|RUNNABLE|RUNNING)\s.* %s$" % name, ps, re.M), name + ":\n" + ps
    assert re.search(r"^\s*\d+ RUNNING\s+\d=\d\s+%s \[k\]$" % cur.group(1), ps, re.M), ps
    bts = s["nk-bt all"]
    sh = re.search(r"^pid \d+ sh \(SLEEPING\):\n((?:#.*\n)+)", bts, re.M)
    assert sh, bts
    assert clean_bt(sh.group(1), "usertrapvec")[0] == "sched", sh.group(1)
    assert re.search(r"^pid \d+ %s \(RUNNING\), running on hart \d:\n#0 .*udp_input" % cur.group(1), bts, re.M), bts
    e = s["nk-e1000"]
    assert "e1000.0 (em0) mac 52:54:00:12:34:56" in e and "RX ring" in e and "TX ring" in e, e
    assert re.search(r"lock-order checker on: \d+ classes", s["nk-locks"]), s["nk-locks"]
    # in pcq_put the netisr holds no lock at all: udp_input let go of the
    # UDP table's lock before delivering (the socket is pinned by a
    # reference), and the PCQ takes no socket lock
    assert re.search(r"Breakpoint 2, pcq_put \(", s["continue#2"]), s["continue#2"]
    locks = s["nk-locks#2"]
    assert re.search(r"^cpu\d \(\d+ %s\): noff 0$" % cur.group(1), locks, re.M), locks
    assert "holds" not in locks, locks
    assert re.search(r"^cpu\d: \d+ netisr\d +pc pcq_put .*\n +noff=0 .*locks=\[\]",
                     s["nk-cpus#2"], re.M), s["nk-cpus#2"]
    assert re.search(r"^#1 .* in udp_deliver_so \(so=0x[0-9a-f]+, q=0x[0-9a-f]+, m=", s["up"], re.M), s["up"]
    inp = s["p *(struct inpcb *)so->so_pcb"]
    for want in ("inp_laddr = 0.0.0.0,", "inp_lport = %d," % UDP_PORT, "inp_flags = INPORT (0x1),",
                 "inp_ppcb = 0x0"):
        assert want in inp, "%r not in:\n%s" % (want, inp)
    assert re.search(r"mp_owner = 0x[0-9a-f]+ <pid \d+ netisr0>,", s["p netisrs[0].ni_port"]), \
        s["p netisrs[0].ni_port"]

    # -- a packet message queued on a netisr's port: stop right after
    # netisr_dispatch_proto queued it for the netisr of the hart that took
    # the interrupt (that netisr cannot run before the interrupt returns)
    src = (netkern.ROOT / "net" / "netisr.c").read_text().splitlines()
    line = [i + 1 for i, l in enumerate(src) if "lwkt_sendmsg(netisr_cpuport(cpu)" in l]
    assert len(line) == 1, "netisr_dispatch_proto's lwkt_sendmsg line not found"
    cmds = ["break net/netisr.c:%d if cpu == $tp" % (line[0] + 1), "continue", "nk-netisr",
            "nk-msg &m->m_pkthdr.ph_msg", "nk-cpus", "delete"]
    gd = gdbs(gdb_batch_argv(init, cmds), g.log)
    gd.expect(r"@@ continue", "continue")
    for k in range(40):        # a new flow each time: half hash to that hart
        send_udp(hport, [b"queued-%d" % k])
        try:
            gd.child.expect(r"Breakpoint 1, netisr_dispatch_proto", timeout=0.5)
            break
        except pexpect.TIMEOUT:
            pass
    s = sections(gd.finish())
    ni = s["nk-netisr"]
    m = re.search(r"^(netisr\d) \(cpu (\d), pid \d+, (\w+)\): qlen 1, 1 message queued, .*\n"
                  r"  msg 0x[0-9a-f]+ handler netisr_packet flags QUEUED error 0\n"
                  r"    mbuf 0x[0-9a-f]+ \(\d+ bytes\): ether 52:55:0a:00:02:02 > 52:54:00:12:34:56, "
                  r"ip 10\.0\.2\.2:\d+ > 10\.0\.2\.15:%d: udp" % UDP_PORT, ni, re.M)
    assert m, ni
    assert re.search(r"^msg 0x[0-9a-f]+ handler netisr_packet flags QUEUED error 0\n.*\n"
                     r"  target %s \(0x[0-9a-f]+\), reply port none" % m.group(1),
                     s["nk-msg &m->m_pkthdr.ph_msg"], re.M), s["nk-msg &m->m_pkthdr.ph_msg"]
    assert re.search(r"^cpu%s: .*, in a trap from the kernel$" % m.group(2), s["nk-cpus"], re.M) or \
        re.search(r"^cpu%s: .*e1000.*in a trap" % m.group(2), s["nk-cpus"], re.M), s["nk-cpus"]

    # -- 2. idle: datagrams wait in udphold's socket, a TCP connection is open
    tcp = socket.create_connection(("127.0.0.1", tport), timeout=T)
    try:
        tcp.sendall(b"hello\n")
        assert tcp.recv(100) == b"hello\n", "inetd's echo did not answer"
        base = sysctl_int(g, "net.inet.udp.ipackets")
        send_udp(hport, [b"idle-%d" % i for i in range(3)])
        wait_sysctl(g, "net.inet.udp.ipackets", lambda v: v >= base + 3)
        # all went to udphold; under load a late one may still come in
        queued = settled(g, "net.inet.udp.ipackets") - in0
        keys = ("0.pkts", "1.pkts", "0.qdrops", "1.qdrops")
        before = {k: sysctl_int(g, "net.netisr.%s" % k) for k in keys}
        cmds = ["nk-sockets", "nk-netisr", "nk-netisr 1"]
        gd = gdbs(gdb_batch_argv(init, cmds), g.log)
        s = sections(gd.finish())
        after = {k: sysctl_int(g, "net.netisr.%s" % k) for k in keys}
        socks = s["nk-sockets"]
        m = re.search(r"^(0x[0-9a-f]+) udp  \*:%d .* pcq (\d+) " % UDP_PORT, socks, re.M)
        assert m, socks
        assert int(m.group(2)) == queued, "pcq %s, %d datagrams received" % (m.group(2), queued)
        so = m.group(1)
        t = re.search(r"^(0x[0-9a-f]+) tcp  10\.0\.2\.15:7\s+10\.0\.2\.2:\d+ .* ESTABLISHED", socks, re.M)
        assert t, socks
        assert re.search(r"^0x[0-9a-f]+ tcp  \*:7 .* LISTEN", socks, re.M), socks
        for cpu in (0, 1):
            line = re.search(r"^netisr%d .*qlen (\d+), .* pkts (\d+) .* qdrops (\d+)" % cpu,
                             s["nk-netisr"], re.M)
            assert line, s["nk-netisr"]
            # the counters sysctl shows, read just before and after gdb
            # stopped the machine (a late ACK from the host may fall between)
            for k, got in (("%d.pkts" % cpu, line.group(2)), ("%d.qdrops" % cpu, line.group(3))):
                assert before[k] <= int(got) <= after[k], (line.group(0), k, before, after)
            assert line.group(1) == "0", line.group(0)
        assert s["nk-netisr 1"].startswith("netisr1 "), s["nk-netisr 1"]

        pcap = workdir / "sock.pcap"
        cmds = ["nk-so %s" % so, "nk-pcq (struct socket *)%s" % so,
                "nk-pcap (struct socket *)%s %s" % (so, pcap),
                "nk-tcpcb (struct socket *)%s" % t.group(1), "nk-so %s" % t.group(1),
                "p *(struct inpcb *)((struct socket *)%s)->so_pcb" % t.group(1)]
        gd = gdbs(gdb_batch_argv(init, cmds), g.log)
        s = sections(gd.finish())
        assert re.search(r"pcq 0x[0-9a-f]+: %d queued" % queued, s["nk-so %s" % so]), s["nk-so %s" % so]
        pq = s["nk-pcq (struct socket *)%s" % so]
        assert re.search(r"producer (\d+) consumer 0 .*: %d queued of 256" % queued, pq), pq
        assert len(re.findall(r"PUBLISHED 0x[0-9a-f]+: \d+ data bytes from 10\.0\.2\.2:\d+", pq)) == queued, pq
        r = subprocess.run(["tshark", "-r", str(pcap), "-T", "fields", "-e", "data.data"],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        assert r.stdout.split()[-3:] == [(b"idle-%d" % i).hex() for i in range(3)], r.stdout
        tc = s["nk-tcpcb (struct socket *)%s" % t.group(1)]
        assert re.search(r"^tcpcb 0x[0-9a-f]+ ESTABLISHED 10\.0\.2\.15:7 <-> 10\.0\.2\.2:\d+", tc, re.M), tc
        assert re.search(r"rcv_nxt \d+ \(\+7\)", tc), tc          # SYN + "hello\n"
        assert re.search(r"snd_una \d+ \(\+7\), snd_nxt \d+ \(\+7\), snd_max \d+ \(\+7\); in flight 0", tc), tc
        assert "invariants hold" in tc, tc
        # slirp's TCP offers none of RFC 7323 / 2018
        assert re.search(r"^  opts: wscale off .*, timestamps off .*, SACK off$", tc, re.M), tc
        assert "ESTABLISHED" in s["nk-so %s" % t.group(1)]
        inp = s["p *(struct inpcb *)((struct socket *)%s)->so_pcb" % t.group(1)]
        assert re.search(r"inp_ppcb = \(struct tcpcb \*\) 0x[0-9a-f]+ ESTABLISHED$", inp, re.M), inp
        assert "inp_laddr = 10.0.2.15," in inp and "inp_faddr = 10.0.2.2," in inp, inp
        # a broken invariant is reported: snd_nxt moved below snd_una for
        # the moment of one nk-tcpcb (the machine is stopped), then put back
        tp = "((struct tcpcb *)((struct inpcb *)((struct socket *)%s)->so_pcb)->inp_ppcb)" % t.group(1)
        cmds = ["set var %s->snd_nxt -= 5" % tp, "nk-tcpcb %s" % tp, "set var %s->snd_nxt += 5" % tp,
                "nk-tcpcb %s" % tp]
        gd = gdbs(gdb_batch_argv(init, cmds), g.log)
        out = gd.finish()
        s = sections(out)
        assert "WARNING: snd_nxt is below snd_una (-5)" in s["nk-tcpcb %s" % tp], out
        assert "invariants hold" in out.split("@@ set var %s->snd_nxt += 5" % tp)[1], out
    finally:
        tcp.close()
    # gdb detached: the guest goes on
    assert g.run("echo alive") == "alive\n"



def test_gdb_helpers_work_when_stopped_in_user_mode(boot, workdir, gdbs):
    """A hart stopped in user mode sees only its process's memory; the
    helpers then read the kernel through a hart in the kernel and give the
    selection back: spin keeps one hart in user mode, gdb selects it."""
    g, port, init = debug_guest(boot, workdir)
    g.run("spin 120 &")
    # spin is on a hart once ps shows it running (a loaded host starts it late)
    assert netkern.until(lambda: re.search(r"^\s*\d+ R\s+\d+\s+\S+ spin$",
                                           g.run("ps"), re.M)), g.run("ps")
    pick = ("python sel = [t for t in gdb.selected_inferior().threads() "
            "if (t.switch() or int(gdb.newest_frame().pc()) < 0x80000000)]")
    cmds = [pick, "python sel[0].switch() if sel else print('NO USER HART')",
            "p $pc < 0x80000000", "p $nk_cpu(0)->id", "nk-ps", "nk-bt 1", "nk-cpus",
            "p $pc < 0x80000000"]
    # spin's hart is in the kernel now and then (timer interrupts, its
    # clock reads): attach again until gdb finds it in user mode
    s = {}

    def user_hart():
        s.clear()
        s.update(sections(gdbs(gdb_batch_argv(init, cmds), g.log).finish()))
        return "NO USER HART" not in s["python sel[0].switch() if sel else print('NO USER HART')"]
    if not netkern.until(user_hart, timeout=60 * netkern.SCALE, delay=0.2):
        raise AssertionError("60 s of stops, never a hart in user mode while spin runs")
    assert "= 1" in s["p $pc < 0x80000000"], s
    assert re.search(r"^\s*\d+ RUNNING\s+\d\s+spin$", s["nk-ps"], re.M), s["nk-ps"]
    assert clean_bt(s["nk-bt 1"], "usertrapvec")[0] == "sched", s["nk-bt 1"]
    assert re.search(r"^cpu\d: \d+ spin\s+pc 0x[0-9a-f]+, in user mode$", s["nk-cpus"], re.M), s["nk-cpus"]
    assert "= 1" in s["p $pc < 0x80000000#2"], "the user-mode hart is no longer selected"
    assert g.run("echo alive") == "alive\n"


# ---- docs/gdb.md, replayed -----------------------------------------------------

DOC = netkern.ROOT / "docs" / "gdb.md"


def doc_steps(text):
    """The ```gdb blocks of docs/gdb.md as steps: ("cmd", command, [the
    output lines the document shows]) and ("host", "udp"|"tcp", text) or
    ("console", text) for the `# host:` / `# console:` lines, which say
    what to do outside gdb once the command before them is running."""
    steps = []
    for block in re.findall(r"^```gdb\n(.*?)^```", text, re.M | re.S):
        for line in block.splitlines():
            if line.startswith("(gdb) "):
                steps.append(["cmd", line[6:].strip(), []])
            elif line.startswith("# host: "):
                kind, _, payload = line[8:].partition(" ")
                steps.append(["host", kind, payload])
            elif line.startswith("# console: "):
                steps.append(["console", line[11:]])
            elif line.strip() and line.strip() != "..." and steps and steps[-1][0] == "cmd":
                steps[-1][2].append(line)
    return steps


KEEP = re.compile(r"\b(?:\d+\.\d+\.\d+\.\d+|(?:[0-9a-f]{2}:){5}[0-9a-f]{2})\b")


def norm(line):
    """A line with what changes from run to run (addresses, numbers)
    made uniform, and blanks collapsed. IPv4 and MAC addresses stay as
    they are: the guest's, slirp's and the host's are always the same."""
    kept = KEEP.findall(line)
    line = KEEP.sub("\0", line)
    line = re.sub(r"<(\w+)\+\d+>", r"<\1>", line)    # <netisrs+752>: which one
    line = re.sub(r"0x[0-9a-f]+", "0x*", line)
    line = re.sub(r"\d+", "N", line)
    for k in kept:
        line = line.replace("\0", "{%s}" % k, 1)
    return " ".join(line.split())


SCALAR = re.compile(r"^(?:Value returned is )?\$\d+ = (-?\d+)$")


def same(want, have):
    """want (a line of the document) and have (gdb's) agree: equal once
    normalised, and a printed number (`$3 = 20`, `Value returned is $5 =
    11`) is the same number: those are what the page teaches."""
    if norm(want) != norm(have):
        return False
    w = SCALAR.match(want.strip())
    return w is None or SCALAR.match(have.strip()).group(1) == w.group(1)


def check_shown(cmd, shown, got):
    """Every line the document shows for cmd is in gdb's output, in order."""
    have = got.splitlines()
    i = 0
    for want in shown:
        while i < len(have) and not same(want, have[i]):
            i += 1
        assert i < len(have), ("docs/gdb.md shows, after `(gdb) %s`:\n  %s\n"
                               "but gdb printed:\n%s" % (cmd, want, got))
        i += 1


def test_docs_gdb_walkthrough_replays(boot, workdir, gdbs):
    """Every ```gdb block of docs/gdb.md, run in one batch gdb against a
    guest with the document's set-up (udphold on 2000, the slirp port
    forwards of make qemu-gdb): each output line the document shows is
    printed, in order, with only numbers and addresses allowed to
    differ -- except the value of a printed number ($3 = 20)."""
    steps = doc_steps(DOC.read_text())
    assert len([s for s in steps if s[0] == "cmd"]) >= 20, steps
    uport, tport = netkern.free_port(), netkern.free_port()
    netdev = ("user,id=net0,restrict=on,hostfwd=udp:127.0.0.1:%d-:%d,"
              "hostfwd=tcp:127.0.0.1:%d-:7" % (uport, UDP_PORT, tport))
    g, port, init = debug_guest(boot, workdir, netdev)
    start_udphold(g)
    in0 = sysctl_int(g, "net.inet.udp.ipackets")
    for _ in range(10):   # until slirp knows the guest's MAC
        send_udp(uport, [b"warmup"])
        if wait_sysctl(g, "net.inet.udp.ipackets", lambda v: v > in0, tries=6, delay=0.5) > in0:
            break
    # files the document writes to /tmp go to this test's own directory
    cmds = [("%d %s" % (i, s[1]), s[1].replace("/tmp/", "%s/" % workdir))
            for i, s in enumerate(steps) if s[0] == "cmd"]
    argv = [GDB, "-nx", "-batch", "-x", str(init), "-ex", "set width 0", "-ex", "set height 0"]
    for mark, c in cmds:
        argv += ["-ex", "echo @@ %s\\n" % mark, "-ex", c]
    gd = gdbs(argv, g.log)
    tcp = None
    try:
        last = None
        for i, s in enumerate(steps):
            if s[0] == "cmd":
                last = "%d %s" % (i, s[1])
                continue
            # the command before this line is running: act now
            gd.expect(r"@@ %s\r?\n" % re.escape(last), "the step `%s`" % last)
            time.sleep(0.5)
            if s[0] == "console":
                g.sendline(s[1])
            elif s[1] == "udp":
                send_udp(uport, [s[2].encode() + b"\n"])   # as echo | nc -u
            elif s[1] == "tcp":
                if tcp is None:
                    tcp = socket.create_connection(("127.0.0.1", tport), timeout=T)
                tcp.sendall(s[2].encode() + b"\n")
            else:
                raise AssertionError("docs/gdb.md: unknown host action %r" % s[1])
        out = gd.finish()
    finally:
        if tcp is not None:
            tcp.close()
    if "NKGDB_DOC_DUMP" in __import__("os").environ:
        (workdir.parent / "gdbdoc.out").write_text(out)
    got = sections(out)
    for i, s in enumerate(steps):
        if s[0] == "cmd":
            mark = "%d %s" % (i, s[1])
            assert mark in got, "gdb never ran `%s` (an earlier step failed?)\n%s" % (s[1], out[-3000:])
            assert "Python Exception" not in got[mark] and "Error occurred" not in got[mark], got[mark]
            check_shown(s[1], s[2], got[mark].replace("%s/" % workdir, "/tmp/"))
    # the pcap file the document writes opens in tshark, as it shows
    pcaps = re.findall(r"^\(gdb\) nk-pcap \S+ /tmp/(\S+)$", DOC.read_text(), re.M)
    assert pcaps, "docs/gdb.md no longer writes a pcap file"
    for name in pcaps:
        r = subprocess.run(["tshark", "-r", str(workdir / name)], capture_output=True,
                           text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        assert re.search(r"10\.0\.2\.2 \S+ 0\.0\.0\.0\s+UDP \d+ \d+ \S+ %d Len=11" % UDP_PORT,
                         r.stdout), r.stdout
