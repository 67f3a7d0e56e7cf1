// Host tests of the Internet checksum (net/in_cksum.c): the word-at-a-
// time sum equals a plain byte-by-byte RFC 1071 sum for every length,
// alignment and split of the data over an mbuf chain.
#include "tests/host/test.h"
#include "net/ip.h"
#include "net/mbuf.h"
#include "net/tcp_var.h"

// RFC 1071, written independently: big-endian 16-bit words, odd byte
// padded with zero, folded, inverted; returned in memory (network) order.
static uint16 ref_cksum(const uint8 *p, int len)
{
	uint32 sum = 0;
	for (int i = 0; i + 1 < len; i += 2)
		sum += (uint32)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	uint16 v = (uint16)~sum, out;
	uint8 b[2] = { (uint8)(v >> 8), (uint8)v };
	memcpy(&out, b, 2);
	return out;
}

static uint32 seed = 7;
static uint8 rnd8(void)
{
	seed = seed * 1103515245u + 12345u;
	return (uint8)(seed >> 16);
}

static void cksum_buf_matches_bytewise(void)
{
	static uint8 buf[4096 + 8];
	for (int i = 0; i < (int)sizeof(buf); i++)
		buf[i] = rnd8();
	for (int align = 0; align < 8; align++)
		for (int len = 0; len < 300; len++)
			CHECK(in_cksum_buf(buf + align, len) == ref_cksum(buf + align, len));
	// Long ones (the 64-byte turns of the word loop and their tail) at
	// every alignment.
	for (int i = 0; i < 400; i++) {
		int align = rnd8() % 8, len = (rnd8() << 4 | rnd8() % 16) % (4096 - 8);
		CHECK(in_cksum_buf(buf + align, len) == ref_cksum(buf + align, len));
	}
	memset(buf, 0xff, sizeof(buf));   // carries everywhere
	for (int align = 0; align < 8; align++)
		for (int len = 4000; len < 4088; len += 13)
			CHECK(in_cksum_buf(buf + align, len) == ref_cksum(buf + align, len));
	CHECK(in_cksum_buf(buf + 1, 4095) == ref_cksum(buf + 1, 4095));
}

// The same bytes split over a chain at odd and even places, with an
// offset: the same checksum.
static void cksum_chain_matches_bytewise(void)
{
	CHECK(mbuf_init() == 0);
	static uint8 data[3000];
	for (int i = 0; i < (int)sizeof(data); i++)
		data[i] = rnd8();
	for (int trial = 0; trial < 200; trial++) {
		struct mbuf *head = NULL, **tail = &head;
		int done = 0;
		while (done < (int)sizeof(data)) {
			int n = 1 + rnd8() % (MLEN - 8);
			if (n > (int)sizeof(data) - done)
				n = sizeof(data) - done;
			struct mbuf *m = m_get();
			CHECK(m != NULL);
			m->m_data += rnd8() % 8;   // any alignment
			memcpy(m->m_data, data + done, n);
			m->m_len = n;
			*tail = m;
			tail = &m->m_next;
			done += n;
		}
		int off = rnd8() % 50, len = sizeof(data) - off - rnd8() % 50;
		CHECK(in_cksum(head, off, len) == ref_cksum(data + off, len));
		m_freem(head);
	}
}

// Checksum offload done in software (PH_CSUM_TCP): th_sum seeded with
// tcp_phdr_sum, then in_cksum_finish over a chain of any split, gives
// the checksum tcp_cksum computes in one go, and the segment verifies.
static void cksum_offload_finish_matches_full(void)
{
	CHECK(mbuf_init() == 0);
	static uint8 seg[2000];
	for (int trial = 0; trial < 100; trial++) {
		int len = TCP_HDR_LEN + rnd8() * 7 % 1461;
		for (int i = 0; i < len; i++)
			seg[i] = rnd8();
		seg[16] = seg[17] = 0;   // th_sum
		uint32 src = 0x0a00020f + rnd8(), dst = 0x0a000202 + (rnd8() << 16);
		struct mbuf *head = m_getspace(len, 16);
		CHECK(head != NULL);
		int off = 0;
		for (struct mbuf *m = head; m; m = m->m_next) {
			memcpy(m->m_data, seg + off, m->m_len);
			off += m->m_len;
		}
		uint16 full = tcp_cksum(head, 0, len, src, dst);
		uint16 seed = tcp_phdr_sum(src, dst, len);
		memcpy(mtod(head, uint8 *) + 16, &seed, 2);
		head->m_pkthdr.ph_flags |= PH_CSUM_TCP;
		in_cksum_finish(head, 0);
		uint16 got;
		CHECK(m_copydata(head, 16, 2, &got) == 0);
		CHECK(got == full);
		CHECK(!(head->m_pkthdr.ph_flags & PH_CSUM_TCP));
		CHECK(tcp_cksum(head, 0, len, src, dst) == 0);
		m_freem(head);
	}
}

// tcp_cksum against RFC 1071 over the pseudo-header (RFC 9293 3.1:
// source, destination, zero, protocol 6, TCP length) and the segment
// written out as bytes: any length, addresses of every kind.
static void tcp_cksum_matches_pseudo_header_bytewise(void)
{
	CHECK(mbuf_init() == 0);
	static uint8 buf[12 + 2000];
	for (int trial = 0; trial < 200; trial++) {
		int len = TCP_HDR_LEN + rnd8() * 7 % 1461;
		uint32 src = (uint32)rnd8() << 24 | (uint32)rnd8() << 16 | rnd8() << 8 | rnd8();
		uint32 dst = trial == 0 ? 0xffffffffu : (uint32)rnd8() << 24 | rnd8();
		uint8 *p = buf;
		uint32 a[2] = { src, dst };
		for (int k = 0; k < 2; k++)
			for (int i = 0; i < 4; i++)
				*p++ = (uint8)(a[k] >> (24 - 8 * i));
		*p++ = 0, *p++ = IPPROTO_TCP, *p++ = (uint8)(len >> 8), *p++ = (uint8)len;
		for (int i = 0; i < len; i++)
			p[i] = rnd8();
		struct mbuf *head = m_getspace(len, 16);
		CHECK(head != NULL);
		int off = 0;
		for (struct mbuf *m = head; m; m = m->m_next) {
			memcpy(m->m_data, p + off, m->m_len);
			off += m->m_len;
		}
		CHECK(tcp_cksum(head, 0, len, src, dst) == ref_cksum(buf, 12 + len));
		m_freem(head);
	}
}

const struct host_test cksum_tests[] = {
	{ tcp_cksum_matches_pseudo_header_bytewise, "tcp_cksum_matches_pseudo_header_bytewise" },
	{ cksum_offload_finish_matches_full, "cksum_offload_finish_matches_full" },
	{ cksum_buf_matches_bytewise, "cksum_buf_matches_bytewise" },
	{ cksum_chain_matches_bytewise, "cksum_chain_matches_bytewise" },
	{ NULL, NULL },
};
