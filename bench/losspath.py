"""bench/losspath.py: a lossy path between the guest and Linux's TCP end,
where both ends' TCPs see real losses (`bench/lossdiag.py --path
forward`, `tools/profile.py --loss-path forward`; `make bench`'s 2% loss
rows used it from 2026-12-06 22:30 to 2026-12-07 16:30 UTC and now drop
on the tap itself, bench/taploss.py, because this path's clean rate is
a third of the tap's: see Idea's last paragraph).

Problem: the rig's Linux (tests/netrig.py) lives in the namespace that
owns the tap, so a drop there is in its own stack.  A drop at Linux's
input hook is a loss for the guest's TCP, but a drop at its output hook
is not a loss at all: the netfilter verdict comes back to Linux's TCP as
a local transmit error, and it simply sends the segment again later,
without loss recovery (no retransmission counted, cwnd untouched).  So a
2% rule on input and output measured real loss only guest -> Linux.

Idea: Linux's TCP end moves to a second namespace, <rig ns>p, joined to
the rig's namespace by a veth pair; the rig's namespace forwards between
the tap and the veth, and drops pct% of what it forwards, both ways
(nftables FORWARD hook, numgen random).  Neither end's own stack sees a
drop; each sees a segment that never arrives.

    guest 10.0.2.15 -- tap [rig ns: 10.0.2.2, forwards, drops] veth
          10.0.3.1 == veth 10.0.3.2 [<rig ns>p: ns-tcpsend, ns-tcpsink]

The guest reaches 10.0.3.2 through its default gateway 10.0.2.2.  The
veth in the peer namespace has gso_max_segs 1, so Linux's TCP sends
one-segment packets: a forwarded GSO packet of 44 segments dropped as
one would be a burst, not 2% of the segments.  The rig's side of the
tap path has no GRO (a tap without IFF_NAPI), so what the guest sends
is forwarded frame by frame too.

Invariants: the peer namespace's name is the rig's plus "p" (unique per
run as the rig's is); close() deletes it (and with it the veth pair and
the rule's table in the rig's namespace), also after a failed setup.
Counters: per direction, the packets forwarded and dropped (nft
counters), so a run can report the loss it really had.
"""

import json
import subprocess
import sys

ADDR = "10.0.3.2"           # Linux's TCP end in the peer namespace
GW = "10.0.3.1"             # the rig namespace's end of the veth
GUEST_NET = "10.0.2.0/24"
TABLE = "nkloss"


def nft_load(rig, table, rules):
    """Replace nft table inet `table` in rig's namespace by rules (the
    lines of an `nft -f` file)."""
    rig.ns_run(["nft", "delete", "table", "inet", table], check=False)
    p = subprocess.run(rig.ns_argv(["nft", "-f", "-"]),
                       input="\n".join(rules + [""]), text=True,
                       capture_output=True, timeout=30)
    if p.returncode != 0:
        raise RuntimeError("nft: " + p.stderr.strip())


def nft_counters(rig, table):
    """{comment: packets} of the counting rules of nft table inet `table`
    in rig's namespace ({} if there is none)."""
    p = rig.ns_run(["nft", "-j", "list", "table", "inet", table], check=False)
    c = {}
    try:
        items = json.loads(p.stdout)["nftables"]
    except (ValueError, KeyError):
        return c
    for it in items:
        r = it.get("rule")
        if not r or "comment" not in r:
            continue
        for e in r["expr"]:
            if "counter" in e:
                c[r["comment"]] = e["counter"]["packets"]
    return c


class Scoped:
    """`with X(...) as x:` for a path with setup() (returns it) and an
    idempotent close(), which also runs when setup() fails half-way."""

    def __enter__(self):
        try:
            return self.setup()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc):
        self.close()


class LossPath(Scoped):
    """`with LossPath(rig, 2) as lp:` -- lp.ns_argv / lp.ns_run run in the
    peer namespace, lp.addr is Linux's address there, lp.counters() the
    forwarded/dropped packets per direction so far."""

    def __init__(self, rig, pct):
        self.rig, self.pct = rig, pct
        self.ns = rig.ns + "p"
        suffix = rig.tap[2:]
        self.va, self.vb = "va" + suffix, "vb" + suffix    # <= 15 chars
        self.addr = ADDR
        self.created = False

    def ns_argv(self, argv):
        return ["ip", "netns", "exec", self.ns] + list(argv)

    def ns_run(self, argv, timeout=30, check=True):
        return self.rig.sh(self.ns_argv(argv), timeout=timeout, check=check)

    def setup(self):
        rig = self.rig
        rig.sh(["ip", "netns", "add", self.ns])
        self.created = True
        rig.sh(["ip", "-n", rig.ns, "link", "add", self.va, "type", "veth",
                "peer", "name", self.vb, "netns", self.ns])
        for ns, dev, addr in ((rig.ns, self.va, GW), (self.ns, self.vb, ADDR)):
            rig.sh(["ip", "netns", "exec", ns, "sysctl", "-q", "-w",
                    "net.ipv6.conf.%s.disable_ipv6=1" % dev])
            rig.sh(["ip", "-n", ns, "addr", "add", addr + "/24", "dev", dev])
        rig.sh(["ip", "-n", self.ns, "link", "set", self.vb, "gso_max_segs",
                "1"])
        rig.sh(["ip", "-n", self.ns, "link", "set", "lo", "up"])
        rig.sh(["ip", "-n", self.ns, "link", "set", self.vb, "up"])
        rig.sh(["ip", "-n", rig.ns, "link", "set", self.va, "up"])
        rig.sh(["ip", "-n", self.ns, "route", "add", GUEST_NET, "via", GW])
        rig.ns_run(["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"])
        self.set_loss(self.pct)
        return self

    def set_gso(self, on):
        """on: Linux's TCP builds GSO packets again (gso_max_segs 65535)
        and its veth segments them in software (TSO off, by the ethtool
        ioctl: no ethtool binary needed), so every segment still crosses
        the path alone and meets the drop alone, but Linux's TCP, qdisc
        and pacing handle one packet per ~44 segments.  off: the default
        (gso_max_segs 1).  For bench/lossdiag.py --path-gso: how much of
        the path's host cost is Linux sending one segment per packet."""
        # (SIOCETHTOOL with ETHTOOL_STSO; the buffer must outlive the call)
        code = ("import ctypes,fcntl,socket,struct;"
                "b=ctypes.create_string_buffer(struct.pack('II',0x1f,%d));"
                "fcntl.ioctl(socket.socket(),0x8946,struct.pack('16sP',b'%s',ctypes.addressof(b)))"
                % (0 if on else 1, self.vb))
        self.ns_run([sys.executable, "-c", code])
        self.rig.sh(["ip", "-n", self.ns, "link", "set", self.vb, "gso_max_segs",
                     "65535" if on else "1"])

    def set_loss(self, pct):
        """pct% dropped each way in the rig namespace's FORWARD hook; every
        forwarded packet is counted first, per direction."""
        self.pct = pct
        rig = self.rig
        rules = ["table inet %s {" % TABLE, " chain lossy {",
                 "  type filter hook forward priority 0;"]
        for name, dev in (("to_guest", self.va), ("from_guest", rig.tap)):
            rules.append('  iifname "%s" counter comment "%s"' % (dev, name))
            if pct:
                rules.append('  iifname "%s" numgen random mod 100 < %d '
                             'counter drop comment "%s_drop"' % (dev, pct, name))
        rules += [" }", "}"]
        nft_load(rig, TABLE, rules)

    def counters(self):
        """{"to_guest": n, "to_guest_drop": n, "from_guest": ..., ...}:
        packets forwarded (before the drop) and dropped, per direction."""
        return nft_counters(self.rig, TABLE)

    def close(self):
        if not self.created:
            return
        self.created = False
        self.rig.ns_run(["nft", "delete", "table", "inet", TABLE],
                        check=False)
        subprocess.run(["ip", "netns", "del", self.ns], capture_output=True,
                       timeout=30)
