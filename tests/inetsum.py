"""inetsum.py: the Internet checksum (RFC 1071) and MAC-address parsing,
shared by the test and bench scripts that build frames by hand (netrig,
hostile, test_relay, bench/run.py)."""

import struct


def cksum(b):
    """The 16-bit one's complement of the one's complement sum of b,
    padded with a zero byte to an even length."""
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def mac_bytes(m):
    """'52:54:00:12:34:56' -> its six bytes."""
    return bytes(int(x, 16) for x in m.split(":"))
