"""relay.py: a seeded impairment relay between QEMU's dgram netdev and a tap.

Problem: TCP must be tested against a real peer (Linux, in a network
namespace) over a bad network: lost, late, reordered, duplicated and
corrupted frames.  The build machines' Linux has no `tc netem`, and a test
that fails once in a hundred runs must fail the same way when it is run
again: the impairment has to be decided by a seed, not by the clock.

Idea: QEMU's e1000 is attached to a UDP socket netdev
(`-netdev dgram,id=net0,local.type=inet,local.host=127.0.0.1,
local.port=A,remote.type=inet,remote.host=127.0.0.1,remote.port=B`):
every Ethernet frame the guest sends arrives here as one UDP datagram on
port B, and every datagram we send to port A is a frame the guest
receives.  The other side is the rig's tap device (tests/netrig.py), opened
through /dev/net/tun (TUNSETIFF, IFF_TAP | IFF_NO_PI): a read() is a frame
Linux sent, a write() a frame Linux receives.  Both run inside the test's
network namespace, so the two UDP ports live on a loopback of their own.

Between the two, each direction ("out": guest -> Linux, "in": Linux ->
guest) has its own parameters and its own random generator, seeded with
"<seed>/<direction>".  For every frame the generator is drawn the same
number of times whatever the frame holds, so the n-th frame of a direction
gets the same decision in every run with that seed (what differs between
runs is only which frame is the n-th, when the guest's timing differs).
A decision (Decider.decide):
  loss      drop the frame;
  dup       send it twice (the copy right behind the original);
  corrupt   XOR one byte after the IPv4 header with a non-zero mask:
            a byte of the TCP/UDP payload when there is one, else of the
            TCP/UDP header but never its checksum field; the IP header is
            left intact, so the frame reaches the transport layer, whose
            checksum must catch it (a one-byte change always changes the
            ones' complement sum).  Non-IPv4 frames (ARP) and fragments
            other than the first are passed unchanged and counted as
            corrupt_skipped;
  delay     every frame waits delay_ms + U(0, jitter_ms);
  reorder   the frame waits reorder_ms more, so frames sent after it
            overtake it.
Frames leave in order of their release time (a heap; equal times keep
their arrival order).

Configuration: a JSON file {"seed": n, "out": {...}, "in": {...}} with
the keys loss, dup, corrupt, reorder (probabilities 0..1), delay_ms,
jitter_ms, reorder_ms.  SIGHUP re-reads it and re-seeds both generators
(so each phase of a test starts from the seed); SIGUSR1 writes the
counters to the stats file; SIGTERM writes them and exits.  The stats
file also counts loads and dumps, so the rig knows when a signal has been
acted on.

Invariants: no frame is changed except by a corrupt decision; a frame is
sent at most twice; every counter is per direction.

Usage (inside the namespace; tests/netrig.py starts it):
    python3 relay.py --tap TAP --listen 127.0.0.1:B --peer 127.0.0.1:A \
        --config cfg.json --stats stats.json
It prints "relay: ready" once the tap and the socket are open.

Testing: tests/test_relay.py (the decisions for a seed, each impairment
seen on the wire between Linux and a scripted peer, and a guest pinging
through the relay).
"""

import fcntl
import heapq
import json
import os
import random
import select
import signal
import socket
import struct
import sys
import time

DIRECTIONS = ("out", "in")          # out: guest -> Linux; in: Linux -> guest
KEYS = {"loss": 0.0, "dup": 0.0, "corrupt": 0.0, "reorder": 0.0,
        "delay_ms": 0.0, "jitter_ms": 0.0, "reorder_ms": 20.0}

TUNSETIFF = 0x400454ca
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000


def params(d):
    """A direction's parameters: the defaults overridden by d."""
    p = dict(KEYS)
    for k, v in (d or {}).items():
        if k not in KEYS:
            raise ValueError("relay: unknown parameter %r" % k)
        p[k] = float(v)
    return p


class Decision:
    __slots__ = ("drop", "copies", "corrupt", "delay", "reordered")

    def __repr__(self):
        return "Decision(drop=%s copies=%d corrupt=%s delay=%.4f reord=%s)" % (
            self.drop, self.copies, self.corrupt, self.delay, self.reordered)

    def key(self):
        return (self.drop, self.copies, self.corrupt, round(self.delay, 9),
                self.reordered)


class Decider:
    """The decisions of one direction, from the seed only."""

    def __init__(self, seed, direction, p):
        self.rng = random.Random("%s/%s" % (seed, direction))
        self.p = p

    def decide(self):
        r, p = self.rng, self.p
        # Always the same draws in the same order (determinism per index).
        u_loss, u_dup, u_cor, u_reo, u_jit = (r.random() for _ in range(5))
        pos, mask = r.getrandbits(32), 1 + r.getrandbits(8) % 255
        d = Decision()
        d.drop = u_loss < p["loss"]
        d.copies = 2 if u_dup < p["dup"] else 1
        d.corrupt = (pos, mask) if u_cor < p["corrupt"] else None
        d.reordered = u_reo < p["reorder"]
        ms = p["delay_ms"] + u_jit * p["jitter_ms"]
        if d.reordered:
            ms += p["reorder_ms"]
        d.delay = ms / 1000.0
        return d


def corrupt_frame(frame, pos, mask):
    """frame with one transport byte XORed with mask, or None if the frame
    has no transport bytes to corrupt (not IPv4, a later fragment, or too
    short).  Payload bytes are preferred; the L4 checksum field is never
    touched (a UDP checksum turned to 0 would mean 'none')."""
    if len(frame) < 14 + 20 or frame[12:14] != b"\x08\x00":
        return None
    ip = 14
    ihl = (frame[ip] & 0x0f) * 4
    total = struct.unpack("!H", frame[ip + 2:ip + 4])[0]
    frag = struct.unpack("!H", frame[ip + 6:ip + 8])[0] & 0x1fff
    proto = frame[ip + 9]
    l4 = ip + ihl
    end = min(len(frame), ip + total)
    if ihl < 20 or frag != 0 or end <= l4:
        return None
    if proto == 6 and end - l4 >= 20:
        hlen, ck = (frame[l4 + 12] >> 4) * 4, l4 + 16
    elif proto == 17 and end - l4 >= 8:
        hlen, ck = 8, l4 + 6
    else:
        return None
    if end > l4 + hlen:                      # payload
        at = l4 + hlen + pos % (end - l4 - hlen)
    else:                                    # header, checksum excluded
        choices = [i for i in range(l4, min(end, l4 + hlen))
                   if i not in (ck, ck + 1)]
        at = choices[pos % len(choices)]
    b = bytearray(frame)
    b[at] ^= mask
    return bytes(b)


def new_stats():
    st = {d: {"frames": 0, "sent": 0, "dropped": 0, "duplicated": 0,
              "corrupted": 0, "corrupt_skipped": 0, "reordered": 0,
              "delayed": 0, "bytes": 0} for d in DIRECTIONS}
    st["loads"] = st["dumps"] = 0       # acknowledgements for the rig
    return st


def apply(decision, frame, st):
    """Count decision in st (one direction's counters) and return the list
    of (extra delay, frame) to send."""
    st["frames"] += 1
    st["bytes"] += len(frame)
    if decision.drop:
        st["dropped"] += 1
        return []
    if decision.corrupt is not None:
        c = corrupt_frame(frame, *decision.corrupt)
        if c is None:
            st["corrupt_skipped"] += 1
        else:
            st["corrupted"] += 1
            frame = c
    if decision.reordered:
        st["reordered"] += 1
    if decision.delay > 0:
        st["delayed"] += 1
    if decision.copies > 1:
        st["duplicated"] += 1
    return [(decision.delay, frame)] * decision.copies


class Relay:
    def __init__(self, tap, listen, peer, config, stats):
        self.config_path, self.stats_path = config, stats
        self.peer = peer
        self.tap = os.open("/dev/net/tun", os.O_RDWR)
        ifr = struct.pack("16sH", tap.encode(), IFF_TAP | IFF_NO_PI)
        fcntl.ioctl(self.tap, TUNSETIFF, ifr)
        os.set_blocking(self.tap, False)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:        # SO_RCVBUFFORCE: beyond rmem_max (the rig runs as root)
            self.sock.setsockopt(socket.SOL_SOCKET, 33, 4 << 20)
        except OSError:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.bind(listen)
        self.sock.setblocking(False)
        self.heap = []
        self.n = 0
        self.stats = new_stats()
        self.reload = True
        self.dump = False
        self.stop = False

    def load(self):
        with open(self.config_path) as f:
            cfg = json.load(f)
        seed = cfg.get("seed", 0)
        self.deciders = {d: Decider(seed, d, params(cfg.get(d)))
                         for d in DIRECTIONS}

    def write_stats(self):
        tmp = self.stats_path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.stats, f)
        os.replace(tmp, self.stats_path)

    def queue(self, direction, frame, now):
        for extra, fr in apply(self.deciders[direction].decide(), frame,
                               self.stats[direction]):
            self.n += 1
            heapq.heappush(self.heap, (now + extra, self.n, direction, fr))

    def send_due(self, now):
        while self.heap and self.heap[0][0] <= now:
            _, _, direction, fr = heapq.heappop(self.heap)
            try:
                if direction == "out":
                    os.write(self.tap, fr)
                else:
                    self.sock.sendto(fr, self.peer)
                self.stats[direction]["sent"] += 1
            except OSError:
                pass          # a full queue is loss, as on a wire

    def run(self):
        print("relay: ready", flush=True)
        while not self.stop:
            if self.reload:
                self.reload = False
                self.load()
                self.stats["loads"] += 1
                self.write_stats()
            if self.dump:
                self.dump = False
                self.stats["dumps"] += 1
                self.write_stats()
            now = time.monotonic()
            self.send_due(now)
            timeout = 0.5
            if self.heap:
                timeout = max(0.0, min(timeout, self.heap[0][0] - now))
            try:
                r, _, _ = select.select([self.tap, self.sock], [], [],
                                        timeout)
            except InterruptedError:
                continue
            # A frame's delay runs from when it was read, not from when
            # select returned: on a loaded host, reading and deciding up
            # to 128 frames takes long enough that a frame which arrived
            # meanwhile left too early (a 30 ms delay measured 19 ms).
            if self.sock in r:
                for _ in range(64):
                    try:
                        fr, _ = self.sock.recvfrom(65536)
                    except (BlockingIOError, InterruptedError):
                        break
                    self.queue("out", fr, time.monotonic())
            if self.tap in r:
                for _ in range(64):
                    try:
                        fr = os.read(self.tap, 65536)
                    except (BlockingIOError, InterruptedError):
                        break
                    self.queue("in", fr, time.monotonic())
        self.write_stats()


def hostport(s):
    h, p = s.rsplit(":", 1)
    return (h, int(p))


def main(argv):
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("--tap", required=True)
    ap.add_argument("--listen", required=True, type=hostport)
    ap.add_argument("--peer", required=True, type=hostport)
    ap.add_argument("--config", required=True)
    ap.add_argument("--stats", required=True)
    a = ap.parse_args(argv)
    relay = Relay(a.tap, a.listen, a.peer, a.config, a.stats)

    def on_hup(*_):
        relay.reload = True

    def on_usr1(*_):
        relay.dump = True

    def on_term(*_):
        relay.stop = True

    signal.signal(signal.SIGHUP, on_hup)
    signal.signal(signal.SIGUSR1, on_usr1)
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    relay.run()


if __name__ == "__main__":
    main(sys.argv[1:])
