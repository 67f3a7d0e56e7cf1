"""bench/taploss.py: a real pct% loss each way on the rig's tap itself,
with Linux's TCP end on the tap as in the clean rows (`make bench`'s 2%
loss rows: bench/tcpbench.py, bench/lossbench.py; bench/lossdiag.py).

Problem: a loss must be a segment that one TCP sent and the other never
received.  The rig's Linux (tests/netrig.py) owns the tap, so nftables
there can drop what the guest sends (the prerouting hook: Linux's TCP
never sees it), but not what Linux sends: a drop at Linux's output or
egress hook, or in a tc action on the tap, happens before the packet is
queued, and comes back to Linux's TCP as a local transmit error, which
it answers by sending again later, without loss recovery (such a rule
once measured "2% loss" Linux -> guest with no loss at all).  And those
hooks see Linux's GSO packets of up to 44 segments, so a drop there
would be a burst.  bench/losspath.py got around both by moving Linux's
end behind a second namespace that forwards and drops; but there
Linux sends one segment per packet and QEMU's main loop takes them from
the tap one by one, so the clean path itself carried 290-340 Mbit/s
against ~1,000 on the tap (docs/tcp.md): the loss rows then measured
the path more than the loss.

Idea: drop where Linux has already let go of the frame.  The tap's
transmit routine (the kernel's tun_net_xmit) runs after the qdisc and
after GSO segmentation, frame by frame, and runs the socket filter of
the tap's file, the one QEMU reads frames from; what the filter
rejects is freed there and counted in the tap's tx_dropped, and
Linux's TCP has been told long before that the frame went out.  So:
  Linux -> guest  a classic BPF filter on QEMU's tap file (the
                  TUNATTACHFILTER ioctl): IPv4 TCP frames are dropped
                  when the kernel's per-packet random number (BPF's
                  `ld rand`) falls under pct% of 2^32; everything else
                  passes whole.  QEMU opens the tap itself, as always;
                  this file borrows its descriptor with pidfd_getfd(2)
                  (the same open file, so the ioctl reaches the tap
                  QEMU reads) and closes the borrowed copy again.
  guest -> Linux  nftables in the rig's namespace, prerouting hook on
                  the tap: IPv4 TCP from the tap, `numgen random`.
Both are per frame, both before the receiving TCP, neither seen by the
sender: a real loss both ways, on the same fast path as the clean rows.

Invariants: only IPv4 TCP frames are ever dropped (ARP and ICMP pass:
the path's control traffic is not part of the experiment); set_loss(0)
detaches the filter and deletes the table, so the tap is exactly the
clean rows' tap again; close() does the same (the namespace's deletion
would too).  The interface matches losspath.LossPath: ns_argv, ns_run,
addr, set_loss, counters, close, `with`.
Counters: to_guest / to_guest_drop are the tap's tx_packets + tx_dropped
and tx_dropped (tx_dropped also counts frames the tap drops when QEMU
does not read its queue fast enough: 0 in a clean run, so the loss a run
really had is that count's growth); from_guest / from_guest_drop are the
nft counters of TCP frames from the guest, before and at the drop.
"""

import ctypes
import fcntl
import os
import struct

from losspath import Scoped, nft_counters, nft_load

TABLE = "nktaploss"

# <linux/if_tun.h>: _IOR('T', 210, unsigned int), _IOW('T', 213/214,
# struct sock_fprog) with sizeof(struct sock_fprog) = 16 on x86_64
TUNGETIFF = 0x800454d2
TUNATTACHFILTER = 0x401054d5
TUNDETACHFILTER = 0x401054d6
SYS_PIDFD_OPEN = 434
SYS_PIDFD_GETFD = 438
SKF_AD_RANDOM = 0xfffff000 + 56      # SKF_AD_OFF + SKF_AD_RANDOM


def bpf_drop_tcp(pct):
    """The classic BPF program: drop IPv4 TCP frames with probability
    pct/100, pass everything else whole.  A list of (code, jt, jf, k)."""
    thresh = min(0xffffffff, int(round(pct / 100.0 * 2 ** 32)))
    return [
        (0x28, 0, 0, 12),               # ldh [12]          ethertype
        (0x15, 0, 5, 0x0800),           # jeq IPv4, else pass
        (0x30, 0, 0, 23),               # ldb [23]          IP protocol
        (0x15, 0, 3, 6),                # jeq TCP, else pass
        (0x20, 0, 0, SKF_AD_RANDOM),    # ld rand
        (0x35, 1, 0, thresh),           # jge thresh: pass
        (0x06, 0, 0, 0),                # ret 0: drop
        (0x06, 0, 0, 0xffffffff),       # ret all: pass
    ]


class _Libc:
    def __init__(self):
        self.c = ctypes.CDLL(None, use_errno=True)
        self.c.syscall.restype = ctypes.c_long

    def syscall(self, nr, *args):
        r = self.c.syscall(ctypes.c_long(nr), *[ctypes.c_long(a) for a in args])
        if r < 0:
            e = ctypes.get_errno()
            raise OSError(e, "syscall %d: %s" % (nr, os.strerror(e)))
        return r


def borrow_tap_fd(tap):
    """A copy of the descriptor some process (QEMU) holds on tap `tap`:
    each /dev/net/tun descriptor in /proc is borrowed with pidfd_getfd and
    asked its interface's name.  The caller closes it."""
    libc = _Libc()
    errors = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            fds = os.listdir("/proc/%s/fd" % pid)
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink("/proc/%s/fd/%s" % (pid, fd)) != "/dev/net/tun":
                    continue
            except OSError:
                continue
            try:
                pidfd = libc.syscall(SYS_PIDFD_OPEN, int(pid), 0)
            except OSError as e:
                errors.append("pid %s: %s" % (pid, e))
                continue
            try:
                mine = libc.syscall(SYS_PIDFD_GETFD, pidfd, int(fd), 0)
            except OSError as e:        # e.g. EPERM without ptrace rights
                errors.append("pid %s fd %s: %s" % (pid, fd, e))
                continue
            finally:
                os.close(pidfd)
            try:
                ifr = fcntl.ioctl(mine, TUNGETIFF, b"\0" * 40)
            except OSError:
                os.close(mine)
                continue
            if ifr[:16].rstrip(b"\0").decode() == tap:
                return mine
            os.close(mine)
    raise RuntimeError("taploss: no process holds tap %s open%s" % (
        tap, " (could not borrow: %s)" % "; ".join(errors) if errors else ""))


def set_tap_filter(tap, prog):
    """Attach the classic BPF program prog (a list of (code, jt, jf, k))
    to the tap's file, or detach any filter with prog None."""
    fd = borrow_tap_fd(tap)
    try:
        if prog is None:
            try:
                fcntl.ioctl(fd, TUNDETACHFILTER, b"\0" * 16)
            except OSError:
                pass                    # none attached
            return
        code = b"".join(struct.pack("=HBBI", *ins) for ins in prog)
        buf = ctypes.create_string_buffer(code, len(code))
        fprog = struct.pack("=H6xQ", len(prog), ctypes.addressof(buf))
        fcntl.ioctl(fd, TUNATTACHFILTER, fprog)
    finally:
        os.close(fd)


class TapLoss(Scoped):
    """`with TapLoss(rig, 2) as lp:` -- pct% of the TCP frames dropped
    each way on rig's tap, while a guest on it runs (QEMU must hold the
    tap open).  lp.ns_argv / lp.ns_run run in the rig's namespace, lp.addr
    is Linux's address there, lp.counters() the frames and drops per
    direction so far (cumulative)."""

    def __init__(self, rig, pct):
        self.rig, self.pct = rig, pct
        self.ns = rig.ns
        self.addr = "10.0.2.2"
        self.active = False

    def ns_argv(self, argv):
        return self.rig.ns_argv(argv)

    def ns_run(self, argv, timeout=30, check=True):
        return self.rig.ns_run(argv, timeout=timeout, check=check)

    def setup(self):
        self.active = True
        self.set_loss(self.pct)
        return self

    def set_loss(self, pct):
        """pct% of IPv4 TCP frames dropped each way from now on (0: the
        clean tap; the nft table stays, with its counters, but drops
        nothing)."""
        if not 0 <= pct <= 100:
            raise ValueError("taploss: loss %r%% is not in 0..100" % pct)
        self.pct = pct
        rig = self.rig
        set_tap_filter(rig.tap, bpf_drop_tcp(pct) if pct else None)
        rules = ["table inet %s {" % TABLE, " chain lossy {",
                 "  type filter hook prerouting priority -300;",
                 '  iifname "%s" meta nfproto ipv4 meta l4proto tcp '
                 'counter comment "from_guest"' % rig.tap]
        if pct:
            rules.append('  iifname "%s" meta nfproto ipv4 meta l4proto tcp %s'
                         'counter drop comment "from_guest_drop"'
                         % (rig.tap, "" if pct >= 100 else
                            "numgen random mod 10000 < %d " % round(pct * 100)))
        rules += [" }", "}"]
        nft_load(rig, TABLE, rules)

    def counters(self):
        """{"to_guest": n, "to_guest_drop": n, "from_guest": n,
        "from_guest_drop": n}: cumulative (see the file's header)."""
        c = {}
        st = self.rig.ns_run(["cat"] + ["/sys/class/net/%s/statistics/%s"
                                        % (self.rig.tap, k)
                                        for k in ("tx_packets", "tx_dropped")],
                             check=False).stdout.split()
        if len(st) == 2:
            c["to_guest"] = int(st[0]) + int(st[1])
            c["to_guest_drop"] = int(st[1])
        c.update(nft_counters(self.rig, TABLE))
        c.setdefault("from_guest_drop", 0)
        return c

    def close(self):
        if not self.active:
            return
        self.active = False
        try:
            set_tap_filter(self.rig.tap, None)
        except RuntimeError:
            pass                        # QEMU already gone: nothing to detach
        self.rig.ns_run(["nft", "delete", "table", "inet", TABLE], check=False)
