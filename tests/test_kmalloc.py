"""kmalloc's per-CPU caches (kernel/kmcache.c) keep the counters honest.

An object in a CPU's cache is free: vm.kmalloc.<size>.inuse does not count
it, and a CPU that stays idle for a timer tick gives its cache back to the
slabs (vm.kmalloc.cached falls to 0), so the leak checks that compare
counters before and after a run see every object come back.  The traffic
is loopback (ping, netbench udprtt): no root, no network namespace.
Nothing asserts on time; waits poll until the counts are back, for up to
netkern.WAIT_TIMEOUT (a loaded host runs the guest's harts late).
"""

import netkern
from netrig import sysctl_int, sysctl_tree, wait_sysctl


def inuse(g):
    """Every vm.kmalloc.*.inuse and net.mbuf.*inuse count."""
    v = {}
    for prefix in ("vm.kmalloc", "net.mbuf"):
        for k, n in sysctl_tree(g, prefix).items():
            if k.endswith("inuse"):
                v[k] = n
    return v


def settle(g, base):
    """The inuse counts, read until they are back at base (the caches
    drain once their CPU idles) or the time runs out."""
    v = {}

    def back():
        v.clear()
        v.update(inuse(g))
        if v == base and sysctl_int(g, "vm.kmalloc.cached") == 0:
            return True
        g.run("sleep 20")
        return False
    netkern.until(back, delay=0)
    return v


def traffic(g, port):
    out = g.run("ping -c 30 -i 0.01 -W 20 127.0.0.1", timeout=120)
    assert "30 received" in out, out
    out = g.run("netbench udprtt -n 200 -p %d" % port, timeout=120)
    assert "lost=0" in out, out


def test_caches_drain_and_counts_come_back(guest):
    "after loopback traffic, with the caches on and off, every count is back"
    g = guest
    assert sysctl_int(g, "vm.kmalloc.pcpu_cache") == 1
    traffic(g, 9300)             # warm up: sockets, ARP, lazy allocations
    base = settle(g, inuse(g))
    assert sysctl_int(g, "vm.kmalloc.cached") == 0, \
        "the per-CPU caches did not drain on an idle system"
    pages = sysctl_int(g, "vm.pages_free") + sysctl_int(g, "vm.kmalloc.busy_pages")

    carved = sysctl_int(g, "vm.kmalloc.slabs_carved")
    traffic(g, 9301)
    assert settle(g, base) == base, "objects not back after traffic (caches on)"
    assert sysctl_int(g, "vm.kmalloc.cached") == 0
    assert sysctl_int(g, "vm.pages_free") + sysctl_int(g, "vm.kmalloc.busy_pages") == pages
    # Steady traffic reuses cached objects and kept slabs: no new carving
    # beyond a few slabs for the batches the caches hold.
    assert sysctl_int(g, "vm.kmalloc.slabs_carved") - carved < 16

    assert "Invalid argument" in g.run("sysctl vm.kmalloc.pcpu_cache=2")
    g.run("sysctl vm.kmalloc.pcpu_cache=0")
    traffic(g, 9302)
    assert wait_sysctl(g, "vm.kmalloc.cached", lambda v: v == 0) == 0
    assert settle(g, base) == base, "objects not back after traffic (caches off)"
    g.run("sysctl vm.kmalloc.pcpu_cache=1")
    traffic(g, 9303)
    assert settle(g, base) == base, "objects not back after switching on again"

    # The cache's size: 2..128 objects per class; a lowered limit drains
    # the excess at the next put, and every count still comes back.
    assert "Invalid argument" in g.run("sysctl vm.kmalloc.pcpu_max=1")
    assert "Invalid argument" in g.run("sysctl vm.kmalloc.pcpu_max=129")
    assert sysctl_int(g, "vm.kmalloc.pcpu_max") == 128
    g.run("sysctl vm.kmalloc.pcpu_max=2")
    traffic(g, 9304)
    assert settle(g, base) == base, "objects not back with a 2-object cache"
    g.run("sysctl vm.kmalloc.pcpu_max=128")
