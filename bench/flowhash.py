"""bench/flowhash.py: which netisr a loopback TCP connection lands on, so a
benchmark can give the runs it compares the same placement.

net/netisr.c netisr_hash_ipv4 written again in Python (host-order
numbers, the Murmur3 finaliser; keep the two in step): a connection's
netisr is hash % ncpu, a pure function of its 4-tuple.  tcpstream -B port
binds stream i to the local port port+i; bases() finds ports for which
every stream lands where the caller wants.
"""

M32 = 0xFFFFFFFF
LOOPBACK = 0x7F000001


def fmix32(h):
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & M32
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & M32
    h ^= h >> 16
    return h


def hash_ipv4(saddr, daddr, proto, sport, dport):
    if proto not in (6, 17):
        sport = dport = 0
    a = ((saddr ^ daddr) * 0x9E3779B1 + (saddr + daddr)) & M32
    p = (sport ^ dport) | (((sport + dport) & 0xFFFF) << 16)
    return fmix32(a ^ fmix32(p ^ proto))


def placement(base, streams, ncpu, dport=5201, addr=LOOPBACK):
    """The netisr of each of tcpstream -B base's streams (to addr:dport)."""
    return tuple(hash_ipv4(addr, addr, 6, base + i, dport) % ncpu
                 for i in range(streams))


def bases(want, ncpu, start=30000, dport=5201):
    """Endless base ports, each unused by the ones before (so no run meets
    an earlier connection in TIME_WAIT), whose streams land on the
    netisrs listed in want."""
    b = start
    while b < 65535 - 16:
        if placement(b, len(want), ncpu, dport) == tuple(want):
            yield b
            b += len(want)
        else:
            b += 1
    raise RuntimeError("no more ports with placement %s" % (want,))
