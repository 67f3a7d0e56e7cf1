// The Internet checksum (RFC 1071) over an mbuf chain.
//
// The one's-complement sum of 16-bit big-endian words, folded, inverted.
// Odd-length mbufs in the middle of a chain are handled by keeping track
// of the stream's parity: a piece that starts at an odd place has its sum
// byte-swapped (RFC 1071 2(B), "byte order independence").
//
// Problem: TCP checksums every byte it receives (QEMU's e1000 does not
// check receive checksums), and IP one header per packet each way; the
// sum was 13% of a received segment's instructions (make profile,
// tcpstream Linux -> guest), a 20-byte IP header cost ~230 instructions
// (a function call per byte to reach an 8-byte boundary), and the kernel
// was then built -Og, which indexes an array loop with a shift and an add
// per load.
// Idea: le_sum() sums a buffer as little-endian 16-bit words starting at
// its first byte: 2-byte and 4-byte loads up to an 8-byte boundary, then
// 8-byte words walked with a pointer, eight per turn, the carries out of
// the top counted apart (2^64 is 1 modulo 0xffff, so each carry adds 1 to
// the folded sum): a load, an add, a compare and an add per 8 bytes. A
// buffer at an odd address gives its first byte alone and the rest,
// which starts at an odd place of it, swapped. Whole 16-bit words are
// then in host (little-endian) order: the big-endian sum is that sum
// byte-swapped if the piece starts at an even place of the stream, and
// unswapped if at an odd one.
//
// Used by ip (header), icmp (whole message), udp (pseudo header +
// datagram), tcp. Invariants: the chain is only read, never changed;
// every load is aligned to its size and inside [p, p+len). Locking: none;
// the caller owns (or borrows) the chain.
//
// Testing: make hosttest (test_cksum.c: every length 0-299 at every
// alignment and random chains against a byte-by-byte RFC 1071 sum;
// test_ip.c checks headers it builds and known vectors).
// References: RFC 1071 1, 2; RFC 791 3.1 "Header Checksum".
#include "net/ip.h"

typedef uint16 __attribute__((may_alias)) ck16_t;
typedef uint32 __attribute__((may_alias)) ck32_t;
typedef uint64 __attribute__((may_alias)) ck64_t;

// Fold a 64-bit sum of 16-bit words to 16 bits (one's complement).
static inline __attribute__((always_inline)) uint32 cksum_fold64(uint64 s)
{
	s = (s & 0xffffffffu) + (s >> 32);   // < 2^33
	s = (s & 0xffff) + (s >> 16);        // < 2^18
	s = (s & 0xffff) + (s >> 16);        // < 2^16 + 4
	s = (s & 0xffff) + (s >> 16);
	return (uint32)s;
}

static inline __attribute__((always_inline)) uint32 cksum_swap16(uint32 v)
{
	return ((v & 0xff) << 8) | (v >> 8);
}

// The sum of n (a multiple of 8, >= 0) bytes of 8-aligned words at w,
// folded to 16 bits.
static uint32 le_sum_words(const ck64_t *w, int n)
{
	const ck64_t *end = w + n / 8, *end8 = w + (n / 64) * 8;
	uint64 acc = 0, carry = 0;
	while (w < end8) {
		uint64 x0 = w[0], x1 = w[1], x2 = w[2], x3 = w[3];
		uint64 x4 = w[4], x5 = w[5], x6 = w[6], x7 = w[7];
		acc += x0; carry += acc < x0;
		acc += x1; carry += acc < x1;
		acc += x2; carry += acc < x2;
		acc += x3; carry += acc < x3;
		acc += x4; carry += acc < x4;
		acc += x5; carry += acc < x5;
		acc += x6; carry += acc < x6;
		acc += x7; carry += acc < x7;
		w += 8;
	}
	while (w < end) {
		uint64 x = *w++;
		acc += x;
		carry += acc < x;
	}
	return cksum_fold64(cksum_fold64(acc) + carry);
}

// The sum of len bytes at p as little-endian 16-bit words (p[0] the low
// half of the first), folded to 16 bits; a last odd byte is a low half.
static uint32 le_sum(const uint8 *p, int len)
{
	uint64 s = 0;
	if (len <= 0)
		return 0;
	if ((uint64)p & 1) {
		// p[1] is the high half of a word of this piece: sum from
		// p + 1 as if it began a word, then swap.
		return cksum_fold64(p[0] + cksum_swap16(le_sum(p + 1, len - 1)));
	}
	if (((uint64)p & 2) && len >= 2) {
		s += *(const ck16_t *)p;
		p += 2;
		len -= 2;
	}
	if (((uint64)p & 4) && len >= 4) {
		s += *(const ck32_t *)p;
		p += 4;
		len -= 4;
	}
	if (len >= 8) {
		int n = len & ~7;
		s += le_sum_words((const ck64_t *)p, n);
		p += n;
		len -= n;
	}
	if (len >= 4) {
		s += *(const ck32_t *)p;
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		s += *(const ck16_t *)p;
		p += 2;
		len -= 2;
	}
	if (len > 0)
		s += *p;
	return cksum_fold64(s);
}

// Add the len bytes at p, a piece of the stream starting at an odd place
// if *odd, to the running big-endian sum.
static uint64 cksum_add(uint64 sum, const uint8 *p, int len, bool *odd)
{
	if (len <= 0)
		return sum;
	uint32 le = le_sum(p, len);
	sum += *odd ? le : cksum_swap16(le);
	if (len & 1)
		*odd = !*odd;
	return sum;
}

static uint16 cksum_fold(uint64 sum)
{
	uint16 v = ~cksum_fold64(sum) & 0xffff;
	// Stored in network order: high byte first in memory.
	return (uint16)cksum_swap16(v);
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
