// The Internet checksum (RFC 1071) over an mbuf chain.
//
// The one's-complement sum of 16-bit big-endian words, folded, inverted.
// Odd-length mbufs in the middle of a chain are handled by carrying the
// odd byte over to the next mbuf (the "swapped" case of RFC 1071 2(B) is
// avoided by summing bytes at their position). Simple rather than fast:
// the byte loop is easy to step through in gdb.
//
// Used by ip (header), icmp (whole message), udp (pseudo header +
// datagram), later tcp. Invariants: the chain is only read, never
// changed. Locking: none; the caller owns (or borrows) the chain.
//
// Testing: make hosttest (test_ip.c checks headers it builds and known
// vectors). References: RFC 1071 1, 2; RFC 791 3.1 "Header Checksum".
#include "net/ip.h"

// Add len bytes at p to the running sum; *odd says whether the next byte
// is the low half of a 16-bit word.
static uint32 cksum_add(uint32 sum, const uint8 *p, int len, bool *odd)
{
	for (int i = 0; i < len; i++) {
		sum += *odd ? p[i] : (uint32)p[i] << 8;
		*odd = !*odd;
	}
	return sum;
}

static uint16 cksum_fold(uint32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	uint16 v = ~sum & 0xffff;
	// Stored in network order: high byte first in memory.
	uint8 b[2] = { v >> 8, v & 0xff };
	uint16 out;
	memcpy(&out, b, 2);
	return out;
}

uint16 in_cksum(struct mbuf *m, int off, int len)
{
	uint32 sum = 0;
	bool odd = false;
	for (; m && len > 0; m = m->m_next) {
		if (off >= m->m_len) {
			off -= m->m_len;
			continue;
		}
		int n = m->m_len - off < len ? m->m_len - off : len;
		sum = cksum_add(sum, (const uint8 *)m->m_data + off, n, &odd);
		// Fold now and then so 32 bits never overflow (64 KiB max anyway).
		sum = (sum & 0xffff) + (sum >> 16);
		len -= n;
		off = 0;
	}
	return cksum_fold(sum);
}

uint16 in_cksum_buf(const void *buf, int len)
{
	bool odd = false;
	return cksum_fold(cksum_add(0, buf, len, &odd));
}
