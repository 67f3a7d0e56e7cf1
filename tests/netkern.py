"""netkern.py: boot netkern in QEMU and drive its serial console from Python.

Problem: every integration test needs the same dull and fragile things --
compute the QEMU command line, boot on a private copy of fs.img, wait for
the shell prompt, type a command and cut its output out of the echo and the
next prompt, notice a kernel panic, and above all never leave a QEMU behind,
whatever happens to the test.

Idea: one class, Guest, owns one QEMU process (or one `make qemu`) for its
whole life.  It is a context manager; close() kills the process group by
PID with SIGKILL, and the pytest fixtures in conftest.py call close() in a
finally, so a failed assertion, a timeout or a Ctrl-C all end the QEMU they
started and no other.  The console transcript goes to a log file
(tests/logs/<test>.log) as it arrives, so a failure can be read afterwards.

Invariants:
  - every wait on the console also watches for "panic:" and for QEMU
    exiting; both turn into an AssertionError that carries the tail of the
    console (and the panic backtrace, with addresses resolved by addr2line);
  - run() is only called at a prompt, and leaves the guest at a prompt;
  - nothing here uses fixed ports or shared files: the image is the
    caller's copy, the network is slirp with restrict=on and no hostfwd
    unless the caller asks, gdb ports come from free_port().

Console parsing: the guest echoes what is typed, so run("ls") sends "ls\\n",
waits for the echoed "ls", then for a prompt "$ " at the start of a line;
the output is what lies between, with every \\r removed.  A program whose
output does not end in a newline therefore runs into the prompt and run()
times out: end output with a newline (read_file() does, for any file).  Keep typed lines short (< 100
characters): the guest's console line buffer is small.

Testing: /usr/bin/python3 -m pytest tests/ (make test); a failing test's
console is in tests/logs/<test>.log.
"""

import atexit
import ctypes
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pexpect
from pexpect import popen_spawn

ROOT = Path(__file__).resolve().parent.parent
LOGDIR = Path(os.environ.get("NETKERN_LOGDIR", ROOT / "tests" / "logs"))
KERNEL = ROOT / "kernel" / "kernel"
FSIMG = ROOT / "fs.img"

# slirp that never reaches outside the host and forwards nothing: many of
# these can run side by side.  Tests that need a port forward build their
# own NETDEV with free_port().
NETDEV_ISOLATED = "user,id=net0,restrict=on"

# Timeouts are generous: QEMU runs the guest with TCG, on a 2-core machine
# that may be busy with other things (boots of 10 s were seen beside CPU
# hogs; a timeout costs nothing while things go well).
# NETKERN_TIMEOUT_SCALE stretches all.
SCALE = float(os.environ.get("NETKERN_TIMEOUT_SCALE", "1"))
BOOT_TIMEOUT = 60 * SCALE
CMD_TIMEOUT = 60 * SCALE

PROMPT = r"(?:^|\n)\$ "
PANIC = r"panic: "

# (test name, cpus, seconds) for every boot; conftest.py prints the table.
BOOT_TIMES = []

# Every Guest that has a process; the atexit hook kills what is left, so
# even an interrupted run (Ctrl-C, SIGTERM) leaves no QEMU behind.
_LIVE = set()


@atexit.register
def _kill_leftovers():
    for g in list(_LIVE):
        try:
            g.close()
        except Exception:
            pass


class GuestError(AssertionError):
    """The guest did not behave: timeout, panic, or QEMU exited."""


class GuestTimeout(GuestError):
    pass


class GuestPanic(GuestError):
    pass


class GuestExited(GuestError):
    pass


# ---- host helpers ---------------------------------------------------------

def host_env(extra=None):
    """os.environ without the variables an outer make (make test) passes
    down: MAKEFLAGS would carry its command-line variables (CPUS=...) and
    jobserver descriptors into the makes the tests run."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")}
    env.update(extra or {})
    return env


def make_var(name, **overrides):
    """Value of a Makefile variable, through the Makefile's print-% target,
    with VAR=value overrides on the make command line."""
    cmd = ["make", "-s", "--no-print-directory", "print-" + name]
    cmd += ["%s=%s" % (k, v) for k, v in overrides.items()]
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True,
                       timeout=60, env=host_env())
    if r.returncode != 0:
        raise RuntimeError("%s failed:\n%s" % (" ".join(cmd), r.stderr))
    return r.stdout.strip()


def qemu_argv(fsimg, cpus=2, netdev=NETDEV_ISOLATED, extra=()):
    """The QEMU command the Makefile would run for `make qemu`, with our own
    image, CPU count and -netdev.  No quoting in QEMUOPTS, so split() is
    enough; paths must not contain spaces."""
    qemu = make_var("QEMU")
    opts = make_var("QEMUOPTS", CPUS=cpus, FSIMG=fsimg, NETDEV=netdev)
    return [qemu] + shlex.split(opts) + list(extra)


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_listening(port):
    """True if something listens on 127.0.0.1:port (reads /proc/net/tcp,
    so it does not connect and use up a one-shot server such as QEMU's gdb
    stub)."""
    want = "%08X:%04X" % (0x0100007F, port)
    anyaddr = "00000000:%04X" % port
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if fields[1] in (want, anyaddr) and fields[3] == "0A":
                return True
    return False


# How long to wait for something the guest finishes on its own time (a
# queue draining, a timer, a background program starting): on a loaded
# host its harts and netisrs may run seconds late.  A pass waits far less.
WAIT_TIMEOUT = 30 * SCALE


def until(fn, timeout=WAIT_TIMEOUT, delay=0.25):
    """fn() again and again until it returns something true, or timeout
    seconds have passed; returns its last value (the caller asserts on
    it).  Wait for the condition, never for a fixed time or number of
    tries: either may be too short when the host is busy."""
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(delay)


def wait_listening(port, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_listening(port):
            return True
        time.sleep(0.05)
    return False


DEBUG_KERNEL = ROOT / "debug" / "kernel"


def write_gdbinit(path, port, kernel=KERNEL):
    """A gdb start-up file from tools/gdb/gdbinit.tmpl, as `make gdbinit`
    writes .gdbinit: symbols of `kernel`, the helpers in tools/gdb, then
    target remote 127.0.0.1:port.  Returns path."""
    tmpl = (ROOT / "tools" / "gdb" / "gdbinit.tmpl").read_text()
    for key in ("@PORT@", "@KERNEL@", "@TOOLS@"):
        assert key in tmpl, "tools/gdb/gdbinit.tmpl lost its %s" % key
    text = (tmpl.replace("@PORT@", str(port)).replace("@KERNEL@", str(kernel))
            .replace("@TOOLS@", str(ROOT / "tools" / "gdb")))
    Path(path).write_text(text)
    return Path(path)


def build_debug_kernel():
    """debug/kernel (make debug/kernel), built if it is out of date."""
    r = subprocess.run(["make", "-s", "debug/kernel"], cwd=ROOT,
                       capture_output=True, text=True, timeout=900,
                       env=host_env())
    assert r.returncode == 0, "make debug/kernel failed:\n" + r.stdout + r.stderr
    return DEBUG_KERNEL


def copy_fsimg(dest_dir, name="fs.img"):
    """A private copy of the built fs.img, so tests never share an image."""
    dest = Path(dest_dir) / name
    shutil.copyfile(FSIMG, dest)
    return dest


def build_fsck():
    """Path to the host fsck tool, building it if needed: the Makefile rule
    if there is one, else gcc directly."""
    tool = ROOT / "mkfs" / "fsck"
    src = ROOT / "mkfs" / "fsck.c"
    r = subprocess.run(["make", "-s", "mkfs/fsck"], cwd=ROOT,
                       capture_output=True, text=True, timeout=120,
                       env=host_env())
    if r.returncode == 0 and tool.exists():
        return tool
    if not src.exists():
        raise AssertionError("mkfs/fsck.c does not exist: cannot check the "
                             "file system image")
    r = subprocess.run(["gcc", "-Wall", "-O2", "-I.", "-o", str(tool),
                        str(src)], cwd=ROOT, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, "building mkfs/fsck failed:\n" + r.stderr
    return tool


def fsck(image):
    """Run mkfs/fsck on an image; returns (exit code, output)."""
    tool = build_fsck()
    r = subprocess.run([str(tool), str(image)], cwd=ROOT, capture_output=True,
                       text=True, timeout=120)
    return r.returncode, r.stdout + r.stderr


def symbolize(text):
    """Append 'addr: function at file:line' for each kernel address in a
    panic backtrace, using the cross addr2line on kernel/kernel."""
    addrs = sorted(set(re.findall(r"0x0*(80[0-9a-fA-F]{6})\b", text)),
                   key=text.find)
    if not addrs or not KERNEL.exists():
        return ""
    try:
        prefix = make_var("TOOLPREFIX")
        r = subprocess.run([prefix + "addr2line", "-f", "-p", "-C", "-e",
                            str(KERNEL)] + ["0x" + a for a in addrs],
                           capture_output=True, text=True, timeout=30)
    except (OSError, RuntimeError, subprocess.TimeoutExpired):
        return ""
    lines = r.stdout.strip().splitlines()
    return "\n".join("  0x%s: %s" % (a, l) for a, l in zip(addrs, lines))


def _die_with_parent():
    """preexec_fn: SIGKILL this child if the test process dies, so a killed
    pytest cannot leave a QEMU running (the pty hangup covers most cases;
    this covers the rest)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)       # PR_SET_PDEATHSIG
    except OSError:
        pass


def _new_group_die_with_parent():
    os.setpgrp()
    _die_with_parent()


# ---- the transcript -------------------------------------------------------

class Transcript:
    """A file-like sink for pexpect's logfile_read: everything the guest
    prints goes to the log file as it comes, and the last part is kept in
    memory for error messages."""

    KEEP = 64 * 1024

    def __init__(self, path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.f = open(self.path, "a", encoding="utf-8", errors="replace")
        self.buf = ""

    def write(self, s):
        self.f.write(s)
        self.f.flush()
        self.buf = (self.buf + s)[-self.KEEP:]

    def flush(self):
        self.f.flush()

    def note(self, msg):
        """A harness line in the log, set apart from console output."""
        stamp = time.strftime("%H:%M:%S")
        self.f.write("\n### netkern %s %s\n" % (stamp, msg))
        self.f.flush()

    def tail(self, lines=40):
        text = self.buf.replace("\r", "")
        return "\n".join(text.splitlines()[-lines:])

    def close(self):
        if not self.f.closed:
            self.f.close()


# ---- the guest ------------------------------------------------------------

class Guest:
    """One netkern machine.

        with Guest(fsimg, cpus=2, log="tests/logs/x.log") as g:
            g.boot()
            out = g.run("ls")
            assert g.halt() == 0

    argv replaces the QEMU command (e.g. ["make", "qemu", ...]); pipe=True
    talks to it over pipes instead of a pty.  The process always runs in a
    process group of its own, and kill() kills that group by its id.
    """

    def __init__(self, fsimg, cpus=2, netdev=NETDEV_ISOLATED, qemu_args=(),
                 log=None, name="guest", argv=None, pipe=False, env=None):
        self.fsimg = Path(fsimg)
        self.cpus = cpus
        self.netdev = netdev
        self.qemu_args = list(qemu_args)
        self.name = name
        self.argv = argv
        self.pipe = pipe
        self.env = env
        self.log = Transcript(log or LOGDIR / (name + ".log"))
        self.child = None
        self.pid = None
        self.boot_time = None
        self.exitstatus = None
        self.signalstatus = None
        self.at_prompt = False

    # -- life cycle --

    def start(self):
        """Spawn QEMU (or argv) without waiting for anything."""
        assert self.child is None, "guest already started"
        argv = self.argv or qemu_argv(self.fsimg, self.cpus, self.netdev,
                                      self.qemu_args)
        self.log.note("spawn: " + " ".join(shlex.quote(a) for a in argv))
        env = host_env(self.env)
        self.t_spawn = time.monotonic()
        if self.pipe:
            self.child = popen_spawn.PopenSpawn(
                argv, cwd=ROOT, env=env, encoding="utf-8",
                codec_errors="replace", preexec_fn=_new_group_die_with_parent)
        else:
            # pty fork: the child calls setsid(), so it leads its own group.
            self.child = pexpect.spawn(
                argv[0], argv[1:], cwd=ROOT, env=env, encoding="utf-8",
                codec_errors="replace", echo=False,
                dimensions=(24, 200), preexec_fn=_die_with_parent)
        self.child.logfile_read = self.log
        self.pid = self.child.pid
        _LIVE.add(self)
        return self

    def boot(self, timeout=BOOT_TIMEOUT, test=None):
        """Start and wait for the first prompt; records the boot time (wall
        time from spawn to prompt) in the log and BOOT_TIMES."""
        if self.child is None:
            self.start()
        self.expect(PROMPT, timeout, "the first shell prompt")
        self.boot_time = time.monotonic() - self.t_spawn
        self.at_prompt = True
        self.log.note("boot time %.2f s (cpus=%s)" % (self.boot_time,
                                                     self.cpus))
        print("%s: boot time %.2f s (cpus=%s)" % (test or self.name,
                                                  self.boot_time, self.cpus))
        BOOT_TIMES.append((test or self.name, self.cpus, self.boot_time))
        return self

    def alive(self):
        if self.child is None:
            return False
        if self.pipe:
            return self.child.proc.poll() is None
        return self.child.isalive()

    def kill(self, sig=signal.SIGKILL):
        """Kill the guest's process group now (SIGKILL: like pulling the
        plug) and reap it.  Safe to call twice."""
        if self.child is None:
            return
        if self.alive():
            self.log.note("kill -%d %d" % (sig, self.pid))
            try:
                os.killpg(self.pid, sig)
            except ProcessLookupError:
                pass
        self._reap(10)

    def close(self):
        """Kill if still running and close the log.  Called by __exit__ and
        by the fixtures' finally."""
        try:
            if self.child is not None and self.alive():
                self.kill()
            elif self.child is not None:
                self._reap(10)
        finally:
            _LIVE.discard(self)
            self.log.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def _reap(self, timeout):
        """Wait for the process to end; record exit status or signal."""
        if self.exitstatus is not None or self.signalstatus is not None:
            return
        if self.pipe:
            p = self.child.proc
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.pid, signal.SIGKILL)
                p.wait(timeout)
            rc = p.returncode
            self.exitstatus = rc if rc >= 0 else None
            self.signalstatus = -rc if rc < 0 else None
            for f in (p.stdin, p.stdout):
                try:
                    f.close()
                except OSError:
                    pass
            return
        deadline = time.monotonic() + timeout
        while self.child.isalive() and time.monotonic() < deadline:
            time.sleep(0.05)
        if self.child.isalive():
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.child.close(force=True)
        self.exitstatus = self.child.exitstatus
        self.signalstatus = self.child.signalstatus

    # -- console --

    def expect(self, pattern, timeout=CMD_TIMEOUT, what=None):
        """Wait for a regex (or list of them) on the console; returns the
        index matched.  A panic, QEMU exiting or the timeout raise."""
        pats = pattern if isinstance(pattern, list) else [pattern]
        i = self.child.expect(pats + [PANIC, pexpect.EOF, pexpect.TIMEOUT],
                              timeout=timeout)
        if i < len(pats):
            return i
        what = what or " | ".join(str(p) for p in pats)
        if i == len(pats):
            self._raise_panic()
        if i == len(pats) + 1:
            self._reap(10)
            raise GuestExited("QEMU exited (status %s, signal %s) while "
                              "waiting for %s\n%s" % (
                                  self.exitstatus, self.signalstatus, what,
                                  self._tail()))
        self.log.note("timeout after %.0f s waiting for %s" % (timeout, what))
        raise GuestTimeout("timed out after %.0f s waiting for %s\n%s"
                           % (timeout, what, self._tail()))

    def _tail(self, lines=30):
        return ("---- last console lines (full log: %s) ----\n%s\n----"
                % (self.log.path, self.log.tail(lines)))

    def _raise_panic(self):
        """Read what follows "panic:" (the backtrace) until the console is
        quiet, then raise with it and the resolved addresses."""
        before = self.child.before or ""
        text = (before[before.rfind("\n") + 1:] + self.child.after +
                self.child.buffer)
        self.child.buffer = ""
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                text += self.child.read_nonblocking(4096, timeout=1)
            except pexpect.TIMEOUT:
                break
            except pexpect.EOF:
                break
        text = text.replace("\r", "")
        sym = symbolize(text)
        self.log.note("kernel panic detected")
        raise GuestPanic("kernel panic:\n%s%s\n%s" % (
            text, "\nbacktrace resolved:\n" + sym if sym else "",
            self._tail(15)))

    def send(self, text):
        """Type text as is (no newline added)."""
        self.at_prompt = False
        self.child.send(text)

    def sendline(self, line):
        self.at_prompt = False
        self.child.send(line + "\n")

    def run(self, cmd, timeout=CMD_TIMEOUT):
        """Type cmd at the prompt and return its output: the text between
        the echoed command line and the next prompt, without \\r."""
        assert self.at_prompt, "run(%r): guest is not at a prompt" % cmd
        self.sendline(cmd)
        self.expect(re.escape(cmd), timeout, "the echo of %r" % cmd)
        self.expect(PROMPT, timeout, "the prompt after %r" % cmd)
        self.at_prompt = True
        out = self._before_prompt()
        return out[1:] if out.startswith("\n") else out

    def read_file(self, path, timeout=CMD_TIMEOUT):
        """Contents of a guest file as text, through `cat path; echo`: the
        echo ends the output with a newline even when the file does not
        (a file cut short by a crash), so the prompt is found."""
        out = self.run("cat %s; echo" % path, timeout)
        assert out.endswith("\n"), "cat %s; echo: no final newline" % path
        return out[:-1]

    def wait_prompt(self, timeout=CMD_TIMEOUT, what="a prompt"):
        """After send(): wait for the prompt; returns what came before it."""
        self.expect(PROMPT, timeout, what)
        self.at_prompt = True
        return self._before_prompt()

    def _before_prompt(self):
        """Text before the prompt just matched, with the newline that the
        prompt pattern swallowed put back, and without \r."""
        out = self.child.before
        if self.child.after.startswith("\n"):
            out += "\n"
        return out.replace("\r", "")

    def wait_exit(self, timeout=CMD_TIMEOUT):
        """Wait for the process to exit by itself; returns its exit code
        (None if killed by a signal)."""
        i = self.child.expect([PANIC, pexpect.EOF, pexpect.TIMEOUT],
                              timeout=timeout)
        if i == 0:
            self._raise_panic()
        if i == 2:
            raise GuestTimeout("QEMU did not exit within %.0f s\n%s"
                               % (timeout, self._tail()))
        self._reap(10)
        self.log.note("exited: status %s signal %s"
                      % (self.exitstatus, self.signalstatus))
        return self.exitstatus

    def halt(self, code=None, timeout=CMD_TIMEOUT):
        """Type `halt` (or `halt code`) and wait for QEMU to exit; returns
        QEMU's exit code."""
        cmd = "halt" if code is None else "halt %d" % code
        self.sendline(cmd)
        return self.wait_exit(timeout)


# ---- output parsing -------------------------------------------------------

def ls_names(out):
    """Names listed by ls: the first word of each line."""
    return {line.split()[0] for line in out.splitlines() if line.split()}


def text_diff(got, want):
    """'' if equal, else a short description of where they differ (for
    assertion messages about long texts)."""
    if got == want:
        return ""
    n = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b),
             min(len(got), len(want)))
    return ("%d chars, expected %d; first difference at offset %d:\n"
            "  got:      %r\n  expected: %r" % (len(got), len(want), n,
                                                got[max(0, n - 20):n + 40],
                                                want[max(0, n - 20):n + 40]))


def parse_usertests(out):
    """usertests output -> (results {name: "OK" | "FAIL ..."}, verdict)
    where verdict is "passed", "failed" or None (no final line)."""
    results = {}
    for line in out.splitlines():
        m = re.match(r"\s*([\w.-]+): (OK|FAIL.*)$", line)
        if m:
            results[m.group(1)] = m.group(2)
    if re.search(r"^ALL TESTS PASSED\s*$", out, re.M):
        verdict = "passed"
    elif re.search(r"^SOME TESTS FAILED", out, re.M):
        verdict = "failed"
    else:
        verdict = None
    return results, verdict
