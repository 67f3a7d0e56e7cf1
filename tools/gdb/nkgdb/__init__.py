"""nkgdb: gdb helpers that read netkern's own structures.

The generated .gdbinit (tools/gdb/gdbinit.tmpl) puts tools/gdb on
sys.path and calls nkgdb.load(). Each module below is imported on its own,
inside its own try/except: a helper that breaks (a renamed field, a bug)
is reported by name and the others load anyway. `help netkern` lists the
commands that loaded and the modules that did not.

Modules (each starts with what it shows and how to read it):
  core      types, enum names and #define constants from the kernel
  printers  pretty printers (IPv4 addresses, ports, MACs, flag words) and
            $nk_curproc(), $nk_cpu(n), $container_of(ptr, "struct x", "f")
  procs     nk-ps, nk-bt, nk-cpus, nk-runq
  mbufs     nk-mbuf, nk-pkts, nk-pcap (and the one-line packet decoder)
  sockets   nk-sockets, nk-so, nk-tcpcb
  netisr    nk-netisr, nk-msg
  e1000     nk-e1000
  pcq       nk-pcq
  locks     nk-locks
"""

import importlib
import sys
import traceback

import gdb

MODULES = ["core", "printers", "procs", "mbufs", "sockets", "netisr",
           "e1000", "pcq", "locks"]

loaded = []
failed = {}


def load(quiet=False):
    """Import every helper module; returns (loaded, failed)."""
    del loaded[:]
    failed.clear()
    for name in MODULES:
        full = __name__ + "." + name
        try:
            if full in sys.modules:
                importlib.reload(sys.modules[full])
            else:
                importlib.import_module(full)
            loaded.append(name)
        except Exception as e:  # any error: report it, load the rest
            failed[name] = "%s: %s" % (type(e).__name__, e)
            gdb.write("netkern: helper module %s failed to load (%s); "
                      "the other helpers still work\n" % (name, failed[name]),
                      gdb.STDERR)
            if "NKGDB_TRACE" in __import__("os").environ:
                traceback.print_exc()
    _help_command()
    if not quiet:
        n = len(_commands())
        gdb.write("netkern: %d gdb helper commands loaded%s; `help netkern` "
                  "lists them\n" % (n, ", %d module(s) failed" % len(failed)
                                   if failed else ""))
    return loaded, failed


def _commands():
    core = sys.modules.get(__name__ + ".core")
    return core.COMMANDS if core is not None else {}


def _help_command():
    lines = ["netkern's gdb helpers: commands that read the kernel's structures.",
             "",
             "Commands (help nk-NAME for one):"]
    cmds = _commands()
    for name in sorted(cmds):
        lines.append("  %-12s %s" % (name, cmds[name][0]))
    lines += ["",
              "Convenience functions, for use inside print:",
              "  $nk_curproc()        the struct proc * running on the selected CPU",
              "  $nk_cpu(n)           &cpus[n]",
              "  $container_of(ptr, \"struct x\", \"field\")   the struct x holding *ptr",
              "",
              "Pretty printers show IPv4 addresses as dotted quads, ports in host",
              "order, MAC addresses as xx:xx:..., flag words by name",
              "(`disable pretty-printer global netkern` for raw values).",
              "",
              "Loaded modules: " + (", ".join(loaded) or "none")]
    if failed:
        lines.append("FAILED modules (their commands are missing):")
        for name, why in failed.items():
            lines.append("  %s: %s" % (name, why))
    doc = "\n".join(lines)

    class Netkern(gdb.Command):
        __doc__ = doc

        def __init__(self):
            super().__init__("netkern", gdb.COMMAND_USER)

        def invoke(self, arg, from_tty):
            gdb.write(doc + "\n")

    Netkern()
