"""conftest.py: pytest fixtures and hooks shared by all netkern host tests.

Fixtures:
  console_log  path of this test's console log, tests/logs/<test>.log
               (truncated at the start of the test);
  workdir      the test's tmp dir; image copies in it are deleted when the
               test passed, kept when it failed;
  fsimg        a private copy of fs.img in workdir (pass it to boot() to
               boot twice on the same image);
  boot         factory: boot(cpus=2, fsimg=None, netdev=..., qemu_args=(),
               wait=True, **Guest kwargs) -> a booted netkern.Guest (on a
               fresh copy of fs.img unless fsimg is given); every guest it
               made is killed when the test ends, whatever happened;
  guest        one booted guest with 2 CPUs on a private image.

Hooks: a failed test shows the tail of its console log; the session ends
with a table of boot times and a last line "N passed, M failed".
SIGTERM is turned into KeyboardInterrupt so the fixtures' finally blocks
(and the atexit hook in netkern.py) still kill QEMU.
"""

import re
import signal
import subprocess

import pytest

import netkern

LOG_KEY = pytest.StashKey()
FAILED_KEY = pytest.StashKey()


def _sigterm(signum, frame):
    raise KeyboardInterrupt("SIGTERM")


def pytest_configure(config):
    signal.signal(signal.SIGTERM, _sigterm)


@pytest.fixture(scope="session")
def built():
    """Make sure kernel/kernel and fs.img are up to date (make test has
    built them already; this is for running pytest by hand)."""
    targets = ["kernel/kernel", "fs.img"]
    q = subprocess.run(["make", "-q"] + targets, cwd=netkern.ROOT,
                       capture_output=True)
    if q.returncode != 0:
        r = subprocess.run(["make"] + targets, cwd=netkern.ROOT,
                           capture_output=True, text=True, timeout=900)
        assert r.returncode == 0, "make failed:\n" + r.stdout + r.stderr
    return True


def log_name(item_name):
    return re.sub(r"[^\w.=-]+", "_", item_name).strip("_") + ".log"


@pytest.fixture
def console_log(request):
    path = netkern.LOGDIR / log_name(request.node.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("")
    request.node.stash[LOG_KEY] = path
    return path


@pytest.fixture
def workdir(request, tmp_path):
    """The test's tmp dir; its image copies are deleted when the test
    passed (kept for a look when it failed)."""
    yield tmp_path
    if not request.node.stash.get(FAILED_KEY, False):
        for img in tmp_path.glob("*.img"):
            img.unlink()


@pytest.fixture
def fsimg(built, workdir):
    return netkern.copy_fsimg(workdir)


@pytest.fixture
def boot(request, built, workdir, console_log):
    guests = []

    def _boot(cpus=2, fsimg=None, netdev=netkern.NETDEV_ISOLATED,
              qemu_args=(), wait=True, timeout=netkern.BOOT_TIMEOUT, **kw):
        if fsimg is None:
            fsimg = netkern.copy_fsimg(workdir, "fs-%d.img" % len(guests))
        g = netkern.Guest(fsimg, cpus=cpus, netdev=netdev,
                          qemu_args=qemu_args, log=console_log,
                          name=request.node.name, **kw)
        guests.append(g)
        if wait:
            g.boot(timeout, test=request.node.name)
        else:
            g.start()
        return g

    try:
        yield _boot
    finally:
        for g in guests:
            g.close()


@pytest.fixture
def guest(boot):
    return boot(cpus=2)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed:
        item.stash[FAILED_KEY] = True
    if not rep.failed or rep.when == "teardown":
        return
    if call.excinfo is not None and call.excinfo.errisinstance(
            netkern.GuestError):
        return          # the message already carries the console tail
    path = item.stash.get(LOG_KEY, None)
    if path is None or not path.exists():
        return
    text = path.read_text(errors="replace").replace("\r", "")
    tail = "\n".join(text.splitlines()[-40:])
    rep.sections.append(("console tail (full log: %s)" % path, tail))


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    config._netkern_stats = terminalreporter.stats
    if netkern.BOOT_TIMES:
        terminalreporter.write_sep("-", "boot times (spawn to first prompt)")
        for name, cpus, secs in netkern.BOOT_TIMES:
            terminalreporter.write_line("%6.2f s  cpus=%-2s %s"
                                        % (secs, cpus, name))


def pytest_unconfigure(config):
    """The closing line docs/design.md section 8 asks of `make test`."""
    stats = getattr(config, "_netkern_stats", None)
    if stats is None or config.option.collectonly:
        return
    passed = len([r for r in stats.get("passed", []) if r.when == "call"])
    failed = len(stats.get("failed", [])) + len(stats.get("error", []))
    skipped = len(stats.get("skipped", []))
    line = "%d passed, %d failed" % (passed, failed)
    if skipped:
        line += ", %d skipped" % skipped
    print(line, flush=True)
