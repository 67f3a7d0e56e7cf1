// Host tests of net/mbuf.c: allocation counters, prepend, adj, pullup,
// copydata/copyback, copym cluster sharing and refcounts, chains.
#include "tests/host/test.h"
#include "net/mbuf.h"

// A chain of n mbufs holding bytes 0, 1, 2, ... (len bytes each).
static struct mbuf *make_chain(int n, int len)
{
	struct mbuf *top = NULL, **mp = &top;
	int v = 0;
	for (int i = 0; i < n; i++) {
		struct mbuf *m = i == 0 ? m_gethdr() : m_get();
		CHECK(m != NULL);
		for (int j = 0; j < len; j++)
			m->m_data[j] = (char)v++;
		m->m_len = len;
		*mp = m;
		mp = &m->m_next;
	}
	top->m_pkthdr.ph_len = n * len;
	return top;
}

static void check_counts_zero(void)
{
	CHECK(mbstat.mbs_inuse == 0);
	CHECK(mbstat.mbs_clusters_inuse == 0);
	CHECK(mbstat.mbs_pages_inuse == 0);
}

static void mbuf_alloc_free_counts_return_to_zero(void)
{
	struct mbuf *ms[10];
	for (int i = 0; i < 10; i++) {
		ms[i] = i % 3 == 0 ? m_get() : i % 3 == 1 ? m_gethdr() : m_getcl(M_PKTHDR);
		CHECK(ms[i] != NULL);
	}
	CHECK(sysctl_get("net.mbuf.inuse") == 10);
	CHECK(sysctl_get("net.mbuf.clusters_inuse") == 3);
	for (int i = 0; i < 10; i++)
		m_free(ms[i]);
	check_counts_zero();
	CHECK(sysctl_get("net.mbuf.peak") == 10);
	CHECK(sysctl_get("net.mbuf.clusters_peak") == 3);
	CHECK(sysctl_get("net.mbuf.failed") == 0);
	struct mbuf *m = m_getcl(0);
	CHECK(m->m_data == m->m_ext.ext_buf && m_trailingspace(m) == MCLBYTES);
	CHECK((m->m_flags & M_PKTHDR) == 0);
	m_freem(m);
	check_counts_zero();
}

static void mbuf_prepend_in_place_then_new_head(void)
{
	struct mbuf *m = m_gethdr();
	m->m_data += 20;   // leave room for a header
	memcpy(m->m_data, "payload", 7);
	m->m_len = m->m_pkthdr.ph_len = 7;
	char *before = m->m_data;
	M_PREPEND(m, 14);
	CHECK(m != NULL && m->m_data == before - 14 && m->m_pkthdr.ph_len == 21);
	memset(m->m_data, 'E', 14);
	M_PREPEND(m, 20);   // only 6 bytes left: a new mbuf in front
	CHECK(m != NULL && m->m_next != NULL);
	CHECK(m->m_flags & M_PKTHDR);
	CHECK((m->m_next->m_flags & M_PKTHDR) == 0);
	CHECK(m->m_len == 20 && m->m_pkthdr.ph_len == 41 && m_length(m) == 41);
	char buf[41];
	CHECK(m_copydata(m, 20, 21, buf) == 0);
	CHECK(memcmp(buf, "EEEEEEEEEEEEEEpayload", 21) == 0);
	CHECK(m_leadingspace(m) == MLEN - 20);   // room kept for more headers
	m_freem(m);
	check_counts_zero();
}

static void mbuf_adj_trims_head_and_tail(void)
{
	struct mbuf *m = make_chain(3, 10);   // bytes 0..29
	m_adj(m, 12);                         // drop 0..11: spans two mbufs
	CHECK(m->m_len == 0 && m->m_next->m_len == 8);
	CHECK(m->m_pkthdr.ph_len == 18);
	m_adj(m, -13);                        // drop 17..29
	CHECK(m->m_pkthdr.ph_len == 5 && m_length(m) == 5);
	char buf[5];
	CHECK(m_copydata(m, 0, 5, buf) == 0);
	for (int i = 0; i < 5; i++)
		CHECK(buf[i] == 12 + i);
	m_adj(m, -100);   // more than there is: empty, no crash
	CHECK(m->m_pkthdr.ph_len == 0);
	m_freem(m);
	check_counts_zero();
}

static void mbuf_pullup_makes_header_contiguous(void)
{
	struct mbuf *m = make_chain(5, 10);   // 50 bytes, 10 per mbuf
	m = m_pullup(m, 34);
	CHECK(m != NULL && m->m_len >= 34);
	CHECK(m->m_pkthdr.ph_len == 50 && m_length(m) == 50);
	for (int i = 0; i < 34; i++)
		CHECK(mtod(m, char *)[i] == i);
	char buf[50];
	CHECK(m_copydata(m, 0, 50, buf) == 0);
	for (int i = 0; i < 50; i++)
		CHECK(buf[i] == i);
	m_freem(m);
	// Too short: freed, NULL, no leak.
	m = make_chain(2, 10);
	CHECK(m_pullup(m, 40) == NULL);
	check_counts_zero();
}

static void mbuf_pullup_never_writes_a_cluster(void)
{
	struct mbuf *m = m_getcl(M_PKTHDR);
	memset(m->m_data, 'a', 10);
	m->m_len = 10;
	struct mbuf *n = make_chain(1, 30);
	n->m_flags &= ~M_PKTHDR;
	m->m_next = n;
	m->m_pkthdr.ph_len = 40;
	struct mbuf *copy = m_copym(m, 0, M_COPYALL);   // shares the cluster
	CHECK(m_refcount(m) == 2);
	m = m_pullup(m, 20);
	CHECK(m != NULL && m->m_len == 20 && (m->m_flags & M_EXT) == 0);
	CHECK(m->m_pkthdr.ph_len == 40 && m_length(m) == 40);
	CHECK(mtod(copy, char *)[0] == 'a' && copy->m_len == 10);
	m_freem(m);
	m_freem(copy);
	check_counts_zero();
}

static void mbuf_copydata_out_of_range_is_error(void)
{
	struct mbuf *m = make_chain(2, 10);
	char buf[30];
	CHECK(m_copydata(m, 15, 5, buf) == 0 && buf[0] == 15 && buf[4] == 19);
	CHECK(m_copydata(m, 15, 6, buf) == -EINVAL);
	CHECK(m_copydata(m, -1, 2, buf) == -EINVAL);
	CHECK(m_copydata(m, 20, 0, buf) == 0);
	m_freem(m);
	check_counts_zero();
}

// m_peek: a pointer into the first mbuf when it holds the bytes at the
// asked alignment, a copy in buf when they are split or misaligned, NULL
// past the end; the bytes are right in every case.
static void mbuf_peek_in_place_or_copied(void)
{
	struct mbuf *m = make_chain(2, 10);   // bytes 0..19, 10 per mbuf
	char buf[30];
	const char *p = m_peek(m, 2, 6, 1, buf);
	CHECK(p == m->m_data + 2 && p[0] == 2 && p[5] == 7);
	p = m_peek(m, 8, 5, 1, buf);             // split over both mbufs
	CHECK(p == buf && p[0] == 8 && p[4] == 12);
	int mis = ((uint64)m->m_data & 1) ? 2 : 1;   // an odd address
	p = m_peek(m, mis, 4, 2, buf);
	CHECK(p == buf && p[0] == mis && p[3] == mis + 3);
	CHECK(m_peek(m, 15, 6, 1, buf) == NULL);
	CHECK(m_peek(m, -1, 2, 1, buf) == NULL);
	m_freem(m);
	check_counts_zero();
}

static void mbuf_copyback_overwrites_and_extends(void)
{
	struct mbuf *m = make_chain(2, 10);
	CHECK(m_copyback(m, 8, 4, "WXYZ") == 0);
	char big[400];
	memset(big, 'q', sizeof(big));
	CHECK(m_copyback(m, 30, sizeof(big), big) == 0);   // gap 20..29 zeroed
	CHECK(m->m_pkthdr.ph_len == 430 && m_length(m) == 430);
	char buf[430];
	CHECK(m_copydata(m, 0, 430, buf) == 0);
	CHECK(memcmp(buf + 8, "WXYZ", 4) == 0 && buf[12] == 12);
	for (int i = 20; i < 30; i++)
		CHECK(buf[i] == 0);
	CHECK(buf[30] == 'q' && buf[429] == 'q');
	m_freem(m);
	check_counts_zero();
}

static void mbuf_copym_shares_clusters_with_refcount(void)
{
	struct mbuf *m = m_getcl(M_PKTHDR);
	for (int i = 0; i < 1500; i++)
		m->m_data[i] = (char)(i * 7);
	m->m_len = m->m_pkthdr.ph_len = 1500;
	struct mbuf *c = m_copym(m, 100, 1000);
	CHECK(c != NULL && (c->m_flags & M_PKTHDR) && c->m_pkthdr.ph_len == 1000);
	CHECK(c->m_data == m->m_data + 100);          // shared, not copied
	CHECK(m_refcount(m) == 2 && m_refcount(c) == 2);
	CHECK(!m_writable(m) && m_leadingspace(c) == 0 && m_trailingspace(m) == 0);
	CHECK(mbstat.mbs_clusters_inuse == 1 && mbstat.mbs_inuse == 2);
	struct mbuf *c2 = m_copym(c, 0, M_COPYALL);
	CHECK(m_refcount(m) == 3);
	m_freem(m);   // the home goes first: kept as a zombie
	CHECK(m_refcount(c) == 2 && mbstat.mbs_clusters_inuse == 1);
	CHECK(mtod(c, char *)[0] == (char)700);
	m_freem(c2);
	CHECK(m_refcount(c) == 1 && m_writable(c));
	m_freem(c);
	check_counts_zero();
}

// The buffers of a chain from m_getspace: sizes[i] is the storage of
// buffer i (MHLEN: internal, else the cluster's size), -1 at the end.
static void check_space(struct mbuf *m, const int *sizes)
{
	int i = 0;
	for (; m != NULL; m = m->m_next, i++) {
		CHECK(sizes[i] > 0);
		int size = (m->m_flags & M_EXT) ? m->m_ext.ext_size : MHLEN;
		CHECK(size == sizes[i]);
		CHECK(m_storage(m) == MSIZE + (size == MHLEN ? 0 : size));
	}
	CHECK(sizes[i] == -1);
}

static void mbuf_getspace_pages_for_large_writes(void)
{
	CHECK(sysctl_get("net.mbuf.page_clusters") == 1);   // the default
	// A 64 KB socket write (64 bytes of header room in front): 16 pages
	// and the last 64 bytes in an mbuf, every byte where it belongs.
	struct mbuf *m = m_getspace(65536, 64);
	int want[18];
	for (int i = 0; i < 16; i++)
		want[i] = MPAGEBYTES;
	want[16] = MHLEN, want[17] = -1;
	check_space(m, want);
	CHECK(m->m_pkthdr.ph_len == 65536 && m_length(m) == 65536);
	CHECK(m->m_len == MPAGEBYTES - 64 && m_leadingspace(m) == 64);
	CHECK(mbstat.mbs_pages_inuse == 16 && mbstat.mbs_clusters_inuse == 0);
	CHECK(sysctl_get("net.mbuf.pages_inuse") == 16);
	for (int i = 0; i < 65536; i++)
		CHECK(m_copyback(m, i, 1, &(char){ (char)(i % 251) }) == 0);
	// A TSO packet's worth shares the pages (3 of them for 6000 bytes
	// from offset 4000: the end of the first, the second, the start of
	// the third).
	struct mbuf *c = m_copym(m, 4000, 6000);
	CHECK(c != NULL && m_length(c) == 6000);
	CHECK(c->m_next && c->m_next->m_next && !c->m_next->m_next->m_next);
	CHECK(mbstat.mbs_pages_inuse == 16 && m_refcount(m->m_next) == 2);
	char buf[6000];
	CHECK(m_copydata(c, 0, 6000, buf) == 0);
	for (int i = 0; i < 6000; i++)
		CHECK(buf[i] == (char)((4000 + i) % 251));
	m_freem(m);
	CHECK(mbstat.mbs_pages_inuse == 3);   // the copy's pages live on
	m_freem(c);
	check_counts_zero();
	CHECK(sysctl_get("net.mbuf.pages_peak") >= 16);

	// Past the last 2 KiB a cluster, past MHLEN an mbuf: 5000 bytes are a
	// page and a cluster; 2048 a cluster; 100 an mbuf.
	m = m_getspace(5000, 0);
	check_space(m, (const int[]){ MPAGEBYTES, MCLBYTES, -1 });
	m_freem(m);
	m = m_getspace(2048, 0);
	check_space(m, (const int[]){ MCLBYTES, -1 });
	m_freem(m);
	m = m_getspace(100, 0);
	check_space(m, (const int[]){ MHLEN, -1 });
	m_freem(m);

	// Switched off: 2 KiB clusters only, as before.
	mbuf_page_clusters = 0;
	m = m_getspace(65536, 64);
	int want_cl[34];
	for (int i = 0; i < 32; i++)
		want_cl[i] = MCLBYTES;
	want_cl[32] = MHLEN, want_cl[33] = -1;
	check_space(m, want_cl);
	CHECK(mbstat.mbs_clusters_inuse == 32 && mbstat.mbs_pages_inuse == 0);
	m_freem(m);
	mbuf_page_clusters = 1;
	check_counts_zero();

	// No memory for a page: the chain is given back whole, and counted.
	uint64 failed = mbstat.mbs_failed;
	host_malloc_fail = true;
	CHECK(m_getspace(65536, 0) == NULL);
	host_malloc_fail = false;
	CHECK(mbstat.mbs_failed == failed + 1);
	check_counts_zero();
}

static void mbuf_copym_copies_internal_data(void)
{
	struct mbuf *m = make_chain(3, 10);
	struct mbuf *c = m_copym(m, 5, 20);
	CHECK(c != NULL && m_length(c) == 20 && c->m_pkthdr.ph_len == 20);
	mtod(m->m_next, char *)[0] = 99;   // original changes, copy does not
	char buf[20];
	CHECK(m_copydata(c, 0, 20, buf) == 0);
	for (int i = 0; i < 20; i++)
		CHECK(buf[i] == 5 + i);
	CHECK(m_copym(m, 25, 10) == NULL);   // past the end
	m_freem(m);
	m_freem(c);
	check_counts_zero();
}

static void mbuf_cat_appends_and_compacts(void)
{
	struct mbuf *a = make_chain(1, 10);
	struct mbuf *b = make_chain(2, 10);
	b->m_flags &= ~M_PKTHDR;
	m_cat(a, b);   // both of b's small mbufs fit in a's room
	CHECK(a->m_next == NULL && a->m_len == 30 && m_length(a) == 30);
	struct mbuf *cl = m_getcl(0);
	cl->m_len = 100;
	m_cat(a, cl);   // a cluster is linked, not copied
	CHECK(a->m_next == cl && m_length(a) == 130);
	m_freem(a);
	check_counts_zero();
}

struct shared_free_arg {
	struct mbuf *ms[64];
	int n;
};

static void *free_some(void *p)
{
	struct shared_free_arg *a = p;
	for (int i = 0; i < a->n; i++)
		m_freem(a->ms[i]);
	return NULL;
}

// Race "last two frees": copies of one cluster freed on several threads.
static void mbuf_concurrent_free_of_shared_cluster(void)
{
	for (int round = 0; round < 200; round++) {
		struct mbuf *m = m_getcl(M_PKTHDR);
		m->m_len = m->m_pkthdr.ph_len = 64;
		struct shared_free_arg args[4];
		for (int t = 0; t < 4; t++) {
			args[t].n = 16;
			for (int i = 0; i < 16; i++)
				args[t].ms[i] = m_copym(m, 0, M_COPYALL);
		}
		CHECK(m_refcount(m) == 65);
		pthread_t th[4];
		for (int t = 0; t < 4; t++)
			pthread_create(&th[t], NULL, free_some, &args[t]);
		m_freem(m);
		for (int t = 0; t < 4; t++)
			pthread_join(th[t], NULL);
		check_counts_zero();
	}
}

const struct host_test mbuf_tests[] = {
	{ mbuf_alloc_free_counts_return_to_zero, "mbuf_alloc_free_counts_return_to_zero" },
	{ mbuf_prepend_in_place_then_new_head, "mbuf_prepend_in_place_then_new_head" },
	{ mbuf_adj_trims_head_and_tail, "mbuf_adj_trims_head_and_tail" },
	{ mbuf_pullup_makes_header_contiguous, "mbuf_pullup_makes_header_contiguous" },
	{ mbuf_pullup_never_writes_a_cluster, "mbuf_pullup_never_writes_a_cluster" },
	{ mbuf_copydata_out_of_range_is_error, "mbuf_copydata_out_of_range_is_error" },
	{ mbuf_peek_in_place_or_copied, "mbuf_peek_in_place_or_copied" },
	{ mbuf_copyback_overwrites_and_extends, "mbuf_copyback_overwrites_and_extends" },
	{ mbuf_copym_shares_clusters_with_refcount, "mbuf_copym_shares_clusters_with_refcount" },
	{ mbuf_copym_copies_internal_data, "mbuf_copym_copies_internal_data" },
	{ mbuf_getspace_pages_for_large_writes, "mbuf_getspace_pages_for_large_writes" },
	{ mbuf_cat_appends_and_compacts, "mbuf_cat_appends_and_compacts" },
	{ mbuf_concurrent_free_of_shared_cluster, "mbuf_concurrent_free_of_shared_cluster" },
	{ NULL, NULL },
};
