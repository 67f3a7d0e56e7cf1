// The Internet checksum (RFC 1071) over an mbuf chain.
//
// The one's-complement sum of 16-bit big-endian words, folded, inverted.
// Odd-length mbufs in the middle of a chain are handled by carrying the
// odd byte over to the next mbuf (the "swapped" case of RFC 1071 2(B) is
// avoided by summing bytes at their position). The bulk of each mbuf is
// summed a word at a time (cksum_add says how): TCP checksums every
// byte it sends and receives, and the byte loop cost 3/4 of a bulk
// transfer's instructions (make profile, tcpstream over lo0). Now 64-bit
// words, with the carries out of the top counted apart: one load, one
// add and one compare-and-add per 8 bytes (18% -> see docs/profiling.md).
//
// Used by ip (header), icmp (whole message), udp (pseudo header +
// datagram), later tcp. Invariants: the chain is only read, never
// changed. Locking: none; the caller owns (or borrows) the chain.
//
// Testing: make hosttest (test_ip.c checks headers it builds and known
// vectors). References: RFC 1071 1, 2; RFC 791 3.1 "Header Checksum".
#include "net/ip.h"

// The byte-at-a-time rule: add byte b at its place in a big-endian
// 16-bit word; *odd says whether it is the low half.
static uint64 cksum_byte(uint64 sum, uint8 b, bool *odd)
{
	sum += *odd ? b : (uint64)b << 8;
	*odd = !*odd;
	return sum;
}

// Fold a 64-bit sum of 16-bit words to 16 bits (one's complement).
static uint32 cksum_fold64(uint64 s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint32)s;
}

static uint32 cksum_swap16(uint32 v)
{
	return ((v & 0xff) << 8) | (v >> 8);
}

// Add len bytes at p to the running sum; *odd says whether the next byte
// is the low half of a 16-bit word. The bulk is summed as aligned 32-bit
// words in the machine's (little-endian) order: by RFC 1071 2(B) ("byte
// order independence") that sum, byte-swapped, is the big-endian sum --
// and if the bulk starts at an odd place in the stream, the unswapped
// sum is. Bytes before the first 4-aligned address and after the last
// are added one at a time.
static uint64 cksum_add(uint64 sum, const uint8 *p, int len, bool *odd)
{
	while (len > 0 && ((unsigned long)p & 7) != 0) {
		sum = cksum_byte(sum, *p++, odd);
		len--;
	}
	// 64-bit words, the carries out of the top counted apart: 2^64 is
	// 1 modulo 0xffff, so each carry adds 1 to the folded sum.
	uint64 acc = 0, carry = 0;
	const uint64 *w = (const uint64 *)p;
	int n = len / 8, i = 0;
	for (; i + 4 <= n; i += 4) {
		uint64 a = acc + w[i];
		carry += a < acc;
		uint64 b = a + w[i + 1];
		carry += b < a;
		uint64 c = b + w[i + 2];
		carry += c < b;
		acc = c + w[i + 3];
		carry += acc < c;
	}
	for (; i < n; i++) {
		uint64 a = acc + w[i];
		carry += a < acc;
		acc = a;
	}
	uint32 le = cksum_fold64(cksum_fold64(acc) + carry);
	sum += *odd ? le : cksum_swap16(le);   // a multiple of 8 bytes: parity kept
	p += 8 * n;
	len -= 8 * n;
	while (len-- > 0)
		sum = cksum_byte(sum, *p++, odd);
	return sum;
}

static uint16 cksum_fold(uint64 sum)
{
	uint16 v = ~cksum_fold64(sum) & 0xffff;
	// Stored in network order: high byte first in memory.
	uint8 b[2] = { v >> 8, v & 0xff };
	uint16 out;
	memcpy(&out, b, 2);
	return out;
}

uint16 in_cksum(struct mbuf *m, int off, int len)
{
	uint64 sum = 0;
	bool odd = false;
	for (; m && len > 0; m = m->m_next) {
		if (off >= m->m_len) {
			off -= m->m_len;
			continue;
		}
		int n = m->m_len - off < len ? m->m_len - off : len;
		sum = cksum_add(sum, (const uint8 *)m->m_data + off, n, &odd);
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

void in_cksum_finish(struct mbuf *m, int off)
{
	uint16 sum = in_cksum(m, off, m->m_pkthdr.ph_len - off);
	uint16 *field = (uint16 *)(mtod(m, char *) + off + 16);
	if (m->m_len >= off + 18)
		*field = sum;
	else
		m_copyback(m, off + 16, 2, &sum);
	m->m_pkthdr.ph_flags &= ~PH_CSUM_TCP;
}
