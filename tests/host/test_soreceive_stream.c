// Host tests of soreceive_stream (net/soreceive_stream.c): a copy that
// fails half way (EFAULT at a chosen user address) puts the uncopied data
// back at the front of so_rcv, in order, ahead of data the netisr
// appended during the copy; a flush while data is out frees the rest
// instead; and the read semantics (MSG_PEEK, MSG_WAITALL, SO_RCVLOWAT,
// EOF, reset, EAGAIN) are those of the generic path, compared call by
// call with the switch on and off. Over the fake wire (tcp_wire.h).
#include "tests/host/tcp_wire.h"

extern void (*soreceive_stream_between)(struct socket *so);

static uint8 sr_out[40000], sr_in[40000];
static struct socket *sr_cli;
static long sr_more;   // bytes the "netisr" appends during the copy

static void sr_clean(int s0, uint64 m0)
{
	soreceive_stream_between = NULL;
	host_uio_fault_addr = 0;
	wire_run(2 * 60000 + 1000);
	CHECK(tcpstat.tcps_pcbs == 0);
	CHECK(so_count() == s0);
	CHECK(mbstat.mbs_inuse == m0);
}

// With the data out and no lock held: the peer's next bytes arrive and
// are appended to so_rcv behind the run being copied.
static void sr_append_more(struct socket *so)
{
	(void)so;
	if (sr_more > 0) {
		CHECK(tw_send(sr_cli, sr_out + 20000, sr_more) == sr_more);
		wire_settle();
		sr_more = 0;
	}
}

static void sr_pair(uint16 port, struct socket **c, struct socket **s, long n)
{
	tw_pair(port, c, s);
	tw_pattern(sr_out, sizeof(sr_out), 0);
	CHECK(tw_send(*c, sr_out, n) == n);
	wire_run(500);
	CHECK((*s)->so_rcv.sb_cc == (uint32)n);
}

// EFAULT in the middle of the user's buffer: the bytes before it are
// returned, the rest goes back in front -- before the 3000 bytes that
// arrived during the copy -- and the next reads return all of it in order.
static void soreceive_stream_efault_puts_back_in_order(void)
{
	wire_setup();
	int s0 = so_count();
	uint64 m0 = mbstat.mbs_inuse;
	struct socket *c, *s;
	CHECK(host_sysctl_write("net.inet.tcp.soreceive_stream", 1) == 0);
	sr_pair(5400, &c, &s, 20000);
	sr_cli = c;
	sr_more = 3000;
	soreceive_stream_between = sr_append_more;
	host_uio_fault_addr = (uint64)(unsigned long)(sr_in + 6000);
	long n = tw_recv(s, sr_in, 20000, 0);
	CHECK(n > 0 && n <= 6000);                       // the part before the fault
	CHECK(memcmp(sr_in, sr_out, n) == 0);
	CHECK(s->so_rcv.sb_cc == (uint32)(23000 - n));   // rest back + the new 3000
	CHECK(!s->so_rcv.sb_rcvout);
	// A fault on the very first byte: -EFAULT, nothing taken.
	host_uio_fault_addr = (uint64)(unsigned long)sr_in;
	CHECK(tw_recv(s, sr_in, 100, 0) == -EFAULT);
	CHECK(s->so_rcv.sb_cc == (uint32)(23000 - n));
	host_uio_fault_addr = 0;
	soreceive_stream_between = NULL;
	long got = n;
	while (got < 23000) {
		long k = tw_recv(s, sr_in + got, 23000 - got, 0);
		CHECK(k > 0);
		got += k;
	}
	CHECK(memcmp(sr_in, sr_out, 23000) == 0);         // in order, nothing lost
	soclose(c);
	soclose(s);
	sr_clean(s0, m0);
}

static void sr_shut_rd(struct socket *so)
{
	CHECK(soshutdown(so, SHUT_RD) == 0);   // flushes so_rcv
}

// shutdown(SHUT_RD) (a flush) while data is out and the copy then
// fails: the rest is freed, not put back (the flush would have freed it),
// the read returns what was copied, the next read says EOF, and every
// mbuf comes back.
static void soreceive_stream_flush_while_out(void)
{
	wire_setup();
	int s0 = so_count();
	uint64 m0 = mbstat.mbs_inuse;
	struct socket *c, *s;
	CHECK(host_sysctl_write("net.inet.tcp.soreceive_stream", 1) == 0);
	sr_pair(5401, &c, &s, 20000);
	soreceive_stream_between = sr_shut_rd;
	host_uio_fault_addr = (uint64)(unsigned long)(sr_in + 6000);
	long n = tw_recv(s, sr_in, 20000, 0);
	CHECK(n > 0 && n <= 6000 && memcmp(sr_in, sr_out, n) == 0);
	CHECK(s->so_rcv.sb_cc == 0 && s->so_rcv.sb_mb == NULL);
	host_uio_fault_addr = 0;
	soreceive_stream_between = NULL;
	CHECK(tw_recv(s, sr_in, 100, 0) == 0);
	soclose(c);
	soclose(s);
	sr_clean(s0, m0);
}

// One script of reads; every return value and byte goes into log[].
static int sr_script(int on, long *log)
{
	int k = 0;
	struct socket *c, *s;
	CHECK(host_sysctl_write("net.inet.tcp.soreceive_stream", on) == 0);
	sr_pair((uint16)(5410 + on), &c, &s, 5000);
	log[k++] = tw_recv(s, sr_in, 100, MSG_PEEK);             // peek 100
	log[k++] = s->so_rcv.sb_cc;                              // nothing taken
	log[k++] = tw_recv(s, sr_in, 1000, 0);                   // 1000
	log[k++] = sr_in[0] | sr_in[999] << 8;
	tw_setopt(s, SOL_SOCKET, SO_RCVLOWAT, 6000);
	log[k++] = tw_recv(s, sr_in, 10000, MSG_DONTWAIT);       // 4000 < lowat: EAGAIN
	tw_setopt(s, SOL_SOCKET, SO_RCVLOWAT, 1);
	log[k++] = tw_recv(s, sr_in, 10000, MSG_WAITALL | MSG_DONTWAIT);   // EAGAIN
	log[k++] = tw_recv(s, sr_in, 3000, MSG_WAITALL);         // 3000 at once
	log[k++] = sr_in[0] | sr_in[2999] << 8;
	CHECK(tw_send(c, sr_out + 5000, 500) == 500);
	soshutdown(c, SHUT_WR);                                  // FIN after 500
	wire_settle();
	log[k++] = tw_recv(s, sr_in, 10000, MSG_WAITALL);        // 1000 + 500, then EOF stops it
	log[k++] = tw_recv(s, sr_in, 10000, 0);                  // EOF: 0
	log[k++] = tw_recv(s, sr_in, 10000, MSG_DONTWAIT);       // still 0
	soclose(s);                                              // reset: unread? none
	wire_settle();
	soclose(c);
	// A reset (the peer closes with SO_LINGER 0) with data queued.
	sr_pair((uint16)(5420 + on), &c, &s, 700);
	log[k++] = tw_recv(s, sr_in, 200, 0);                    // 200
	__atomic_or_fetch(&c->so_options, SO_OPT_LINGER, __ATOMIC_RELAXED);
	c->so_linger = 0;
	soclose(c);                                              // RST
	wire_settle();
	log[k++] = tw_recv(s, sr_in, 10000, 0);
	log[k++] = tw_recv(s, sr_in, 10000, 0);
	log[k++] = tw_recv(s, sr_in, 10000, 0);
	soclose(s);
	return k;
}

static void soreceive_stream_same_semantics_as_generic(void)
{
	long on[32], off[32];
	wire_setup();
	int s0 = so_count();
	uint64 m0 = mbstat.mbs_inuse;
	int n1 = sr_script(1, on);
	int n0 = sr_script(0, off);
	CHECK(n1 == n0);
	for (int i = 0; i < n0; i++) {
		if (on[i] != off[i])
			printf("step %d: stream %ld, generic %ld\n", i, on[i], off[i]);
		CHECK(on[i] == off[i]);
	}
	// And the values are the ones the semantics say.
	CHECK(off[0] == 100 && off[1] == 5000 && off[2] == 1000);
	CHECK(off[4] == -EAGAIN && off[5] == -EAGAIN && off[6] == 3000);
	CHECK(off[8] == 1500 && off[9] == 0 && off[10] == 0);
	CHECK(off[11] == 200);
	CHECK(off[12] == -ECONNRESET || off[13] == -ECONNRESET || off[12] == 500);
	printf("after a reset with 500 bytes unread: %ld, %ld, %ld\n", off[12], off[13], off[14]);
	CHECK(host_sysctl_write("net.inet.tcp.soreceive_stream", 1) == 0);
	sr_clean(s0, m0);
}

const struct host_test soreceive_stream_tests[] = {
	{ soreceive_stream_efault_puts_back_in_order, "soreceive_stream_efault_puts_back_in_order" },
	{ soreceive_stream_flush_while_out, "soreceive_stream_flush_while_out" },
	{ soreceive_stream_same_semantics_as_generic, "soreceive_stream_same_semantics_as_generic" },
	{ NULL, NULL },
};
