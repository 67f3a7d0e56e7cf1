"""Developer tools: gdb on the kernel, and `make qemu` itself (on a pty and
with stdin a pipe), as a student uses them."""

import io
import re
import subprocess

import pexpect

from grading import graded

import netkern


def gdb_argv(port, tmp_path, commands):
    """gdb-multiarch -batch with the project's gdb start-up file
    (tools/gdb/gdbinit.tmpl, pointed at `port`: it loads kernel/kernel and
    the helpers, and connects) and then `commands`."""
    init = netkern.write_gdbinit(tmp_path / "gdbinit", port)
    argv = ["gdb-multiarch", "-nx", "-batch", "-x", str(init)]
    for c in commands:
        argv += ["-ex", c]
    return argv


def check_stopped_in(func, out):
    # kernel/kernel is built -O2: the first line after func's prologue may
    # be an inlined helper's, in a header (main () at ./kernel/riscv.h:57).
    assert re.search(r"Breakpoint 1 at 0x[0-9a-f]+: file [\w/.]+\.[ch]",
                     out), "gdb could not set a breakpoint on %s:\n%s" % (
                         func, out)
    assert re.search(r"Breakpoint 1, (0x[0-9a-f]+ in )?%s \(" % func, out), (
        "gdb did not stop at %s:\n%s" % (func, out))
    assert re.search(r"pc\s+0x[0-9a-f]+\s+(0x[0-9a-f]+\s+)?<%s(\+\d+)?>"
                     % func, out), (
        "pc is not in %s:\n%s" % (func, out))


@graded(3)
def test_gdb_stops_at_main_from_reset(boot, workdir):
    "QEMU -S waits for gdb; break main, continue stops in the kernel's main"
    port = netkern.free_port()
    g = boot(cpus=2, qemu_args=["-S", "-gdb", "tcp:127.0.0.1:%d" % port],
             wait=False)
    assert netkern.wait_listening(port, 20), (
        "QEMU's gdb stub is not listening on port %d" % port)
    argv = gdb_argv(port, workdir, ["break main", "continue",
                                    "info registers pc", "bt 2"])
    try:
        r = subprocess.run(argv, cwd=netkern.ROOT, capture_output=True,
                           text=True, timeout=120 * netkern.SCALE)
    except subprocess.TimeoutExpired as e:
        raise AssertionError("gdb did not stop at main within %d s:\n%s"
                             % (e.timeout, e.stdout))
    out = r.stdout + r.stderr
    g.log.note("gdb output:\n" + out)
    check_stopped_in("main", out)


@graded(3)
def test_gdb_breaks_in_syscall_of_running_kernel(boot, workdir):
    "gdb attaches to a running kernel, stops in syscall, and detaches"
    port = netkern.free_port()
    g = boot(cpus=2, qemu_args=["-gdb", "tcp:127.0.0.1:%d" % port])
    # The shell waits in read(): no system call until we type.  QEMU
    # stops the machine while gdb is attached and inserts the breakpoint
    # before `continue` resumes it, so typing once the breakpoint is set
    # cannot race.  A breakpoint makes QEMU much slower (it checks every
    # block), hence the generous timeouts.
    argv = gdb_argv(port, workdir, ["break syscall", "continue",
                                    "info registers pc", "bt 3"])
    gdb = pexpect.spawn(argv[0], argv[1:], cwd=netkern.ROOT,
                        encoding="utf-8", codec_errors="replace",
                        timeout=120 * netkern.SCALE)
    gdb.logfile_read = io.StringIO()
    try:
        gdb.expect(r"Breakpoint 1 at 0x")
        g.sendline("echo after gdb")
        gdb.expect(pexpect.EOF)
    except pexpect.TIMEOUT:
        raise AssertionError("gdb did not stop in syscall:\n"
                             + gdb.logfile_read.getvalue())
    finally:
        gdb.close(force=True)
    out = gdb.logfile_read.getvalue().replace("\r", "")
    g.log.note("gdb output:\n" + out)
    check_stopped_in("syscall", out)
    assert re.search(r"#1 .* in \w*trap\w* \(", out), (
        "syscall was not called from the trap handler:\n" + out)
    # gdb detached at exit: the guest runs on and finishes the command.
    g.expect(r"(?:^|\n)after gdb\r?\n", 120 * netkern.SCALE,
             "the output of 'echo after gdb' once gdb detached")
    g.wait_prompt(60 * netkern.SCALE)
    assert g.run("echo still alive") == "still alive\n"


def make_qemu_argv(fsimg):
    return ["make", "qemu", "CPUS=1", "FSIMG=%s" % fsimg,
            "NETDEV=" + netkern.NETDEV_ISOLATED]


@graded(3)
def test_make_qemu_boots_and_halt_ends_make(boot, fsimg):
    "make qemu boots to the prompt on a terminal; halt makes make exit 0"
    g = boot(cpus=1, fsimg=fsimg, argv=make_qemu_argv(fsimg))
    assert g.run("echo via make") == "via make\n"
    assert g.halt() == 0, "make qemu did not exit 0 after halt"


@graded(3)
def test_make_qemu_with_stdin_a_pipe(boot, fsimg):
    "make qemu works with stdin and stdout pipes, typing after the prompt"
    g = boot(cpus=1, fsimg=fsimg, argv=make_qemu_argv(fsimg), pipe=True)
    g.send("echo piped\n")
    out = g.wait_prompt(what="the prompt after 'echo piped'")
    assert re.search(r"^piped$", out, re.M), "no 'piped' line in:\n" + out
    g.send("halt\n")
    assert g.wait_exit() == 0, "make qemu did not exit 0 after halt"


@graded(3)
def test_make_qemu_reads_input_piped_before_boot(boot, fsimg):
    "printf 'echo piped\\nhalt\\n' | make qemu runs both commands"
    g = boot(cpus=1, fsimg=fsimg, argv=make_qemu_argv(fsimg), pipe=True,
             wait=False)
    # All input is there before the guest starts, as with a shell pipe:
    # none of it may be lost while the UART and console come up.
    g.send("echo piped\nhalt\n")
    status = g.wait_exit(60 * netkern.SCALE)
    console = g.log.buf.replace("\r", "")
    assert re.search(r"^(\$ )?piped$", console, re.M), (
        "the output of 'echo piped' is missing:\n" + console[-1500:])
    assert status == 0, "make qemu did not exit 0 after halt"


def test_make_profile_names_the_icmp_path(tmp_path):
    """tools/profile.py (make profile): the machine-mode sampler under
    -icount profiles 60 loopback pings; the folded stacks reach icmp_input
    through ip_input and the netisr thread, the report gives shares, and
    the flame graph is an SVG."""
    out = tmp_path / "prof"
    r = subprocess.run(
        [netkern.make_var("PYTHON"), str(netkern.ROOT / "tools" / "profile.py"),
         "--out", str(out), "ping -c 60 -i 0.01 127.0.0.1"],
        cwd=netkern.ROOT, capture_output=True, text=True,
        timeout=600 * netkern.SCALE, env=netkern.host_env())
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert "60 packets transmitted, 60 received" in r.stdout, r.stdout[-2000:]
    folded = (out / "profile.folded").read_text()
    m = re.search(r"^(\S*;)?netisr_\w+;(\S*;)?ip_input;(\S*;)?icmp_input(;\S*)? \d+$",
                  folded, re.M)
    assert m, "no netisr -> ip_input -> icmp_input stack:\n" + folded[:3000]
    report = (out / "profile.txt").read_text()
    shares = [float(x) for x in re.findall(r"^\s*([\d.]+)% ", report, re.M)]
    assert shares and 0 < max(shares) <= 100, report
    assert re.search(r"^(\d+) samples", report.splitlines()[1]), report
    assert (out / "profile.svg").read_text().startswith("<?xml"), "no SVG"
