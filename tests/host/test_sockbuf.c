// Host tests of the socket buffers (net/sockbuf.c) and the generic receive
// path (net/socket.c soreceive), driven with fake protocols that have no
// pcb: data is appended as a protocol's input would, and read back as a
// system call would, through a uio over a plain buffer.
#include <string.h>
#include <pthread.h>
#include "tests/host/test.h"
#include "net/socket.h"
#include "kernel/poll.h"

static const struct protosw fake_dgram = {
	.pr_type = SOCK_DGRAM, .pr_flags = PR_ATOMIC | PR_ADDR,
	.pr_sendspace = 4096, .pr_recvspace = 4096, .pr_name = "fake dgram",
};
static const struct protosw fake_stream = {
	.pr_type = SOCK_STREAM, .pr_sendspace = 4096, .pr_recvspace = 4096,
	.pr_name = "fake stream",
};

static struct mbuf *mkdata(int len, char fill)
{
	struct mbuf *m = m_getspace(len, 0);
	CHECK(m != NULL);
	for (struct mbuf *n = m; n; n = n->m_next)
		memset(n->m_data, fill, n->m_len);
	return m;
}

static struct sockaddr_in mkaddr(uint32 a, uint16 port)
{
	struct sockaddr_in s = { .sin_family = AF_INET, .sin_port = port };
	s.sin_addr.s_addr = a;
	return s;
}

static int put_dgram(struct socket *so, int len, char fill, uint32 from)
{
	struct sockaddr_in a = mkaddr(from, 7);
	struct mbuf *m = mkdata(len, fill);
	net_lock_acquire(&so->so_rcv.sb_lock);
	int err = sbappendaddr(&so->so_rcv, &a, m);
	net_lock_release(&so->so_rcv.sb_lock);
	if (err < 0)
		m_freem(m);
	return err;
}

static long recv_into(struct socket *so, char *buf, size_t n, int flags, struct sockaddr_in *from)
{
	struct uio uio = { (uint64)(unsigned long)buf, n, false };
	return soreceive(so, &uio, from, flags, true);
}

static void test_records_keep_boundaries_and_senders(void)
{
	struct socket *so = so_alloc(&fake_dgram);
	char buf[100];
	struct sockaddr_in from;
	CHECK(put_dgram(so, 10, 'a', 1) == 0);
	CHECK(put_dgram(so, 0, 'b', 2) == 0);
	CHECK(put_dgram(so, 20, 'c', 3) == 0);
	CHECK(so->so_rcv.sb_cc == 30 && so->so_rcv.sb_nrecords == 3);
	CHECK(recv_into(so, buf, sizeof(buf), 0, &from) == 10);
	CHECK(from.sin_addr.s_addr == 1 && buf[0] == 'a' && buf[9] == 'a');
	CHECK(recv_into(so, buf, sizeof(buf), 0, &from) == 0);   // empty datagram
	CHECK(from.sin_addr.s_addr == 2);
	CHECK(recv_into(so, buf, sizeof(buf), 0, &from) == 20);
	CHECK(from.sin_addr.s_addr == 3 && buf[19] == 'c');
	CHECK(recv_into(so, buf, sizeof(buf), 0, NULL) == -EAGAIN);
	CHECK(so->so_rcv.sb_cc == 0 && so->so_rcv.sb_mbcnt == 0);
	sorele(so);
}

static void test_full_buffer_drops_and_counts(void)
{
	struct socket *so = so_alloc(&fake_dgram);
	sbreserve(&so->so_rcv, 1);   // clamped up to SB_MIN
	CHECK(so->so_rcv.sb_hiwat == SB_MIN);
	CHECK(put_dgram(so, 300, 'x', 1) == 0);
	CHECK(put_dgram(so, 300, 'y', 1) == -ENOBUFS);
	CHECK(so->so_rcv.sb_drops == 1 && so->so_rcv.sb_nrecords == 1);
	sbflush(&so->so_rcv);
	CHECK(put_dgram(so, 600, 'z', 1) == 0);   // an empty buffer takes one big datagram
	sorele(so);
}

static void test_storage_bound_limits_tiny_datagrams(void)
{
	struct socket *so = so_alloc(&fake_dgram);
	int n = 0;
	while (put_dgram(so, 1, 't', 1) == 0)
		n++;
	// Each 1-byte datagram costs two mbufs of storage: far fewer than
	// hiwat records fit.
	CHECK(n > 0 && (uint32)n <= so->so_rcv.sb_mbmax / (2 * MSIZE) + 1);
	CHECK(so->so_rcv.sb_cc == (uint32)n && so->so_rcv.sb_drops == 1);
	sorele(so);
}

static void test_peek_leaves_the_record(void)
{
	struct socket *so = so_alloc(&fake_dgram);
	char buf[8];
	CHECK(put_dgram(so, 5, 'p', 9) == 0);
	CHECK(recv_into(so, buf, sizeof(buf), MSG_PEEK, NULL) == 5);
	CHECK(recv_into(so, buf, sizeof(buf), MSG_PEEK, NULL) == 5);
	CHECK(recv_into(so, buf, sizeof(buf), 0, NULL) == 5 && buf[4] == 'p');
	CHECK(recv_into(so, buf, sizeof(buf), MSG_PEEK, NULL) == -EAGAIN);
	sorele(so);
}

static void test_long_datagram_is_truncated(void)
{
	struct socket *so = so_alloc(&fake_dgram);
	char buf[10];
	CHECK(put_dgram(so, 3000, 'L', 1) == 0);   // several clusters
	CHECK(recv_into(so, buf, sizeof(buf), 0, NULL) == 10);
	CHECK(recv_into(so, buf, sizeof(buf), 0, NULL) == -EAGAIN);   // rest discarded
	sorele(so);
}

static void put_stream(struct socket *so, const char *s)
{
	struct mbuf *m = m_getspace(strlen(s), 0);
	CHECK(m != NULL);
	CHECK(m_copyback(m, 0, strlen(s), s) == 0);
	net_lock_acquire(&so->so_rcv.sb_lock);
	sbappendstream(&so->so_rcv, m);
	net_lock_release(&so->so_rcv.sb_lock);
}

static void test_stream_lowat_peek_and_partial_drop(void)
{
	struct socket *so = so_alloc(&fake_stream);
	char buf[64];
	put_stream(so, "hello");
	sbsetlowat(&so->so_rcv, 8);
	CHECK(recv_into(so, buf, sizeof(buf), 0, NULL) == -EAGAIN);   // 5 < lowat
	put_stream(so, " world");
	CHECK(recv_into(so, buf, 3, MSG_PEEK, NULL) == 3 && memcmp(buf, "hel", 3) == 0);
	CHECK(recv_into(so, buf, 3, 0, NULL) == 3 && memcmp(buf, "hel", 3) == 0);
	CHECK(so->so_rcv.sb_cc == 8);
	CHECK(recv_into(so, buf, sizeof(buf), 0, NULL) == 8 && memcmp(buf, "lo world", 8) == 0);
	CHECK(so->so_rcv.sb_cc == 0 && so->so_rcv.sb_mb == NULL && so->so_rcv.sb_mbcnt == 0);
	sorele(so);
}

// I1: the storage a stream buffer counts is what its mbufs hold: a page
// cluster 4 KiB, a 2 KiB cluster 2 KiB (a 64 KB write is 16 pages and an
// mbuf, or 32 clusters and an mbuf with page clusters off), and sbdrop
// takes off exactly what it frees.
static void test_storage_counts_each_cluster_size(void)
{
	for (int pages = 1; pages >= 0; pages--) {
		mbuf_page_clusters = pages;
		uint32 per = MSIZE + (pages ? MPAGEBYTES : MCLBYTES);
		uint32 n = pages ? 16 : 32, first = per - MSIZE - 64;
		struct socket *so = so_alloc(&fake_stream);
		struct sockbuf *sb = &so->so_snd;
		net_lock_acquire(&sb->sb_lock);
		sbappendstream(sb, m_getspace(65536, 64));
		CHECK(sb->sb_cc == 65536 && sb->sb_mbcnt == n * per + MSIZE);
		CHECK(mbstat.mbs_pages_inuse == (pages ? 16 : 0));
		sbdrop(sb, first + 100);   // the first buffer, and into the second
		CHECK(sb->sb_cc == 65536 - first - 100);
		CHECK(sb->sb_mbcnt == (n - 1) * per + MSIZE);
		sbdrop(sb, sb->sb_cc);
		CHECK(sb->sb_cc == 0 && sb->sb_mbcnt == 0 && sb->sb_mb == NULL);
		net_lock_release(&sb->sb_lock);
		sorele(so);
		CHECK(mbstat.mbs_pages_inuse == 0 && mbstat.mbs_clusters_inuse == 0);
	}
	mbuf_page_clusters = 1;
}

static void test_cantrcvmore_reads_end_of_file(void)
{
	struct socket *so = so_alloc(&fake_stream);
	char buf[8];
	put_stream(so, "ab");
	socantrcvmore(so);
	sbsetlowat(&so->so_rcv, 8);
	CHECK(recv_into(so, buf, sizeof(buf), 0, NULL) == 2);   // what is left, below lowat
	CHECK(recv_into(so, buf, sizeof(buf), 0, NULL) == 0);   // then EOF
	sorele(so);
}

static void test_so_error_is_read_once(void)
{
	struct socket *so = so_alloc(&fake_dgram);
	char buf[8];
	soseterror(so, -ECONNREFUSED);
	CHECK(recv_into(so, buf, sizeof(buf), 0, NULL) == -ECONNREFUSED);
	CHECK(recv_into(so, buf, sizeof(buf), 0, NULL) == -EAGAIN);
	char v[SOPT_MAXLEN];
	struct sockopt so_err = { SOL_SOCKET, SO_ERROR, true, v, sizeof(v) };
	soseterror(so, -EHOSTUNREACH);
	CHECK(sogetopt(so, &so_err) == 0 && *(int *)v == EHOSTUNREACH);
	so_err.sopt_valsize = sizeof(v);
	CHECK(sogetopt(so, &so_err) == 0 && *(int *)v == 0);
	sorele(so);
}

static void test_water_marks_are_bounded(void)
{
	struct socket *so = so_alloc(&fake_dgram);
	sbreserve(&so->so_rcv, 1u << 30);
	CHECK(so->so_rcv.sb_hiwat == SB_MAX);
	sbsetlowat(&so->so_rcv, 1u << 30);
	CHECK(so->so_rcv.sb_lowat == SB_MAX);
	sbreserve(&so->so_rcv, 600);
	CHECK(so->so_rcv.sb_hiwat == 600 && so->so_rcv.sb_lowat == 600);
	int v = -5;
	struct sockopt s = { SOL_SOCKET, SO_RCVBUF, false, &v, sizeof(v) };
	CHECK(sosetopt(so, &s) == -EINVAL);
	s.sopt_valsize = 2;
	CHECK(sosetopt(so, &s) == -EINVAL);
	s.sopt_name = 12345;
	CHECK(sosetopt(so, &s) == -ENOPROTOOPT);
	sorele(so);
}

// Race "SO_SNDBUF vs autotuning" (net/tcp_sndbuf.c) as a fixed order:
// autotuning reads the size, setsockopt sets the user's, then the grow
// it decided on must not overwrite it; nor may any later grow.
static void test_grow_never_undoes_the_users_size(void)
{
	struct socket *so = so_alloc(&fake_dgram);
	uint32 from = so->so_snd.sb_hiwat;
	CHECK(sbgrow(&so->so_snd, from, 2 * from));   // nobody in between
	CHECK(so->so_snd.sb_hiwat == 2 * from);
	CHECK(!sbgrow(&so->so_snd, from, 4 * from));  // decided from a stale size
	CHECK(so->so_snd.sb_hiwat == 2 * from);
	from = so->so_snd.sb_hiwat;                    // the grow looks...
	int v = 10000;
	struct sockopt s = { SOL_SOCKET, SO_SNDBUF, false, &v, sizeof(v) };
	CHECK(sosetopt(so, &s) == 0);                  // ...the user sets...
	CHECK(!sbgrow(&so->so_snd, from, 2 * from));   // ...the grow is refused
	CHECK(so->so_snd.sb_hiwat == 10000);
	CHECK(!sbgrow(&so->so_snd, 10000, 20000));     // and stays refused
	CHECK(so->so_snd.sb_hiwat == 10000);
	s.sopt_name = SO_RCVBUF;                       // the same for so_rcv
	CHECK(sosetopt(so, &s) == 0);
	CHECK(!sbgrow(&so->so_rcv, 10000, 20000) && so->so_rcv.sb_hiwat == 10000);
	sorele(so);
}

static void test_free_returns_every_mbuf(void)
{
	uint64 base = mbstat.mbs_inuse;
	int socks = so_count();
	struct socket *so = so_alloc(&fake_dgram);
	CHECK(so_count() == socks + 1);
	for (int i = 0; i < 5; i++)
		CHECK(put_dgram(so, 100 * i, 'f', i) == 0);
	CHECK(mbstat.mbs_inuse > base);
	sorele(so);
	CHECK(mbstat.mbs_inuse == base && so_count() == socks);
}

static void *late_writer(void *arg)
{
	msleep(50);
	put_dgram(arg, 4, 'w', 5);
	return NULL;
}

static void test_blocking_receive_is_woken_by_append(void)
{
	struct socket *so = so_alloc(&fake_dgram);
	pthread_t t;
	char buf[8];
	uint64 notes = host_poll_notifies;
	CHECK(pthread_create(&t, NULL, late_writer, so) == 0);
	struct uio uio = { (uint64)(unsigned long)buf, sizeof(buf), false };
	CHECK(soreceive(so, &uio, NULL, 0, false) == 4);   // sleeps until the append
	CHECK(buf[0] == 'w');
	// Nobody polled this socket: its traffic must not wake pollers.
	CHECK(host_poll_notifies == notes);
	pthread_join(t, NULL);
	sorele(so);
}

// sbpollnotify: a socket notifies poll(2) once sopoll has looked at it,
// and not before (so a ping-pong on unpolled sockets does not wake inetd).
static void test_poll_notify_only_after_poll(void)
{
	struct socket *so = so_alloc(&fake_dgram);
	uint64 notes = host_poll_notifies;
	CHECK(put_dgram(so, 4, 'a', 1) == 0);
	CHECK(host_poll_notifies == notes);
	CHECK(sopoll(so, POLLIN) & POLLIN);
	CHECK(put_dgram(so, 4, 'b', 2) == 0);
	CHECK(host_poll_notifies > notes);
	sorele(so);
}

static void *poll_it(void *arg)
{
	sopoll(arg, POLLIN);
	return NULL;
}

// sbpollrecord: a change wakes only the one thread that polled the
// socket (not inetd, polling its own sockets elsewhere); once a second
// thread has polled it, every poller (BSD select's collision); with
// kern.ipc.poll_targeted=0, every poller always.
static void test_poll_notify_wakes_only_its_poller(void)
{
	struct socket *so = so_alloc(&fake_dgram);
	pthread_t t;
	sopoll(so, POLLIN);
	uint64 one = host_poll_notifies_one, all = host_poll_notifies - one;
	CHECK(put_dgram(so, 4, 'a', 1) == 0);
	CHECK(host_poll_notifies_one == one + 1 && host_poll_notified == net_curthread());
	CHECK(host_poll_notifies - host_poll_notifies_one == all);
	CHECK(host_sysctl_write("kern.ipc.poll_targeted", 0) == 0);
	CHECK(put_dgram(so, 4, 'b', 2) == 0);
	CHECK(host_poll_notifies_one == one + 1);   // everyone, this time
	CHECK(host_poll_notifies - host_poll_notifies_one == all + 1);
	CHECK(host_sysctl_write("kern.ipc.poll_targeted", 1) == 0);
	CHECK(pthread_create(&t, NULL, poll_it, so) == 0);   // a second poller
	pthread_join(t, NULL);
	CHECK(so->so_rcv.sb_poller == SB_POLLMANY);
	CHECK(put_dgram(so, 4, 'c', 3) == 0);
	CHECK(host_poll_notifies_one == one + 1);
	CHECK(host_poll_notifies - host_poll_notifies_one == all + 2);
	sorele(so);
}

static int64 sysctl_val(const char *name)
{
	int64 v = -1;
	CHECK(net_sysctl_read(name, &v) == 0);
	return v;
}

struct holder {
	struct sockbuf *sb;
	int held;   // [a] 1 once the lock is ours
};

static void *hold_rcvlock(void *arg)
{
	struct holder *h = arg;
	net_lock_acquire(&h->sb->sb_lock);
	__atomic_store_n(&h->held, 1, __ATOMIC_RELEASE);
	msleep(200);
	host_clock_advance(5);   // the "netisr" waits 5 virtual ms
	net_lock_release(&h->sb->sb_lock);
	return NULL;
}

// sbrcv_lock counts a wait only when the other side holds so_rcv's lock,
// on the side that waited, with the time it waited (virtual clock here).
static void test_rcvlock_counts_only_contention(void)
{
	struct socket *so = so_alloc(&fake_stream);
	struct sockbuf *sb = &so->so_rcv;
	int64 w0 = sysctl_val("net.inet.tcp.rcvlock_waits_netisr");
	int64 r0 = sysctl_val("net.inet.tcp.rcvlock_waits_reader");
	int64 us0 = sysctl_val("net.inet.tcp.rcvlock_wait_us_netisr");
	sbrcv_lock(sb, SBRCV_NETISR);   // free: not a wait
	net_lock_release(&sb->sb_lock);
	CHECK(sysctl_val("net.inet.tcp.rcvlock_waits_netisr") == w0);

	struct holder h = { sb, 0 };
	pthread_t t;
	CHECK(pthread_create(&t, NULL, hold_rcvlock, &h) == 0);
	while (!__atomic_load_n(&h.held, __ATOMIC_ACQUIRE))
		msleep(1);
	sbrcv_lock(sb, SBRCV_NETISR);   // held by the "reader": a wait
	net_lock_release(&sb->sb_lock);
	pthread_join(t, NULL);
	CHECK(sysctl_val("net.inet.tcp.rcvlock_waits_netisr") == w0 + 1);
	CHECK(sysctl_val("net.inet.tcp.rcvlock_waits_reader") == r0);
	int64 us = sysctl_val("net.inet.tcp.rcvlock_wait_us_netisr") - us0;
	CHECK(us == 0 || us == 5000);   // 0 only if we looked after the advance
	sorele(so);
}

const struct host_test sockbuf_tests[] = {
	{ test_poll_notify_only_after_poll, "sockbuf_poll_notify_only_after_poll" },
	{ test_records_keep_boundaries_and_senders, "sockbuf_records_keep_boundaries_and_senders" },
	{ test_full_buffer_drops_and_counts, "sockbuf_full_buffer_drops_and_counts" },
	{ test_storage_bound_limits_tiny_datagrams, "sockbuf_storage_bound_limits_tiny_datagrams" },
	{ test_peek_leaves_the_record, "sockbuf_peek_leaves_the_record" },
	{ test_long_datagram_is_truncated, "sockbuf_long_datagram_is_truncated" },
	{ test_stream_lowat_peek_and_partial_drop, "sockbuf_stream_lowat_peek_and_partial_drop" },
	{ test_cantrcvmore_reads_end_of_file, "sockbuf_cantrcvmore_reads_end_of_file" },
	{ test_so_error_is_read_once, "sockbuf_so_error_is_read_once" },
	{ test_water_marks_are_bounded, "sockbuf_water_marks_are_bounded" },
	{ test_grow_never_undoes_the_users_size, "sockbuf_grow_never_undoes_the_users_size" },
	{ test_free_returns_every_mbuf, "sockbuf_free_returns_every_mbuf" },
	{ test_storage_counts_each_cluster_size, "sockbuf_storage_counts_each_cluster_size" },
	{ test_blocking_receive_is_woken_by_append, "sockbuf_blocking_receive_is_woken_by_append" },
	{ test_poll_notify_wakes_only_its_poller, "sockbuf_poll_notify_wakes_only_its_poller" },
	{ test_rcvlock_counts_only_contention, "sockbuf_rcvlock_counts_only_contention" },
	{ NULL, NULL },
};
