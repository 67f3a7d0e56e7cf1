// Host tests of send-buffer autotuning (net/tcp_sndbuf.c) over the fake
// wire with RFC 7323 on, 5 ms each way, a receiver with a 1 MB buffer
// that drains it: a writer that keeps its buffer full gets a larger one
// (doubling, never past net.inet.tcp.sendbuf_max); a socket with
// SO_SNDBUF, or any with net.inet.tcp.sendbuf_auto 0, keeps its own.
#include "tests/host/tcp_wire.h"

// One connection on port; the server reads 1 MB-buffered; the client
// writes flat out for `rounds` x 5 ms. Returns the client's final
// so_snd.sb_hiwat; the data must arrive in order (pattern checked).
static uint32 stream(uint16 port, int sndbuf, int rounds)
{
	static uint8 out[32 * 1024], in[32 * 1024];
	struct socket *l = tw_listen(port, 5), *s;
	tw_setopt(l, SOL_SOCKET, SO_RCVBUF, 1 << 20);
	struct socket *c = tw_socket();
	if (sndbuf)
		tw_setopt(c, SOL_SOCKET, SO_SNDBUF, sndbuf);
	tw_connect_so(c, port);
	wire_settle();
	CHECK(soaccept(l, true, &s) == 0);
	soclose(l);
	wire_delay_ms = 5;
	size_t sent = 0, got = 0;
	for (int i = 0; i < rounds; i++) {
		long n;
		do {
			tw_pattern(out, sizeof(out), sent);
			if ((n = tw_send(c, out, sizeof(out))) > 0)
				sent += (size_t)n;
		} while (n == (long)sizeof(out));
		wire_run(5);
		while ((n = tw_recv(s, in, sizeof(in), 0)) > 0) {
			tw_pattern(out, (size_t)n, got);
			CHECK(memcmp(in, out, (size_t)n) == 0);
			got += (size_t)n;
		}
	}
	CHECK(got > 0 && got <= sent);
	uint32 hiwat = c->so_snd.sb_hiwat;
	if (!sndbuf)
		CHECK(c->so_snd.sb_lowat == hiwat / 4);   // the writer's quarter
	wire_delay_ms = 0;
	soclose(c);
	soclose(s);
	wire_run(100);
	return hiwat;
}

// The window (1 MB, cwnd growing in slow start) outgrows 64 KB: the
// buffer doubles, to at most sendbuf_max (a power-of-two multiple of
// the 64 KB default), with the writer's low water mark at a quarter.
static void tcp_sndbuf_grows_to_the_window(void)
{
	BEGIN();
	tw_rfc7323(true);
	CHECK(tcp_sendbuf_auto == 1);
	CHECK(host_sysctl_write("net.inet.tcp.sendbuf_max", 256 * 1024) == 0);
	uint32 hiwat = stream(5340, 0, 200);
	CHECK(hiwat == 256 * 1024);
	CHECK(tcpstat.tcps_sndbufgrow == 2);   // 64 -> 128 -> 256 KB
	clean(s0, m0);
}

// SO_SNDBUF fixes the size (I1), and so does the switch at 0.
static void tcp_sndbuf_fixed_by_so_sndbuf_or_switch(void)
{
	BEGIN();
	tw_rfc7323(true);
	CHECK(stream(5341, 65536, 200) == 65536);
	CHECK(host_sysctl_write("net.inet.tcp.sendbuf_auto", 0) == 0);
	CHECK(stream(5342, 0, 200) == 65536);
	CHECK(tcpstat.tcps_sndbufgrow == 0);
	clean(s0, m0);
}

// The knobs' ranges: auto 0..1, max 64 KB .. SB_MAX; EINVAL outside.
static void tcp_sndbuf_sysctl_range(void)
{
	CHECK(host_sysctl_write("net.inet.tcp.sendbuf_auto", 2) != 0);
	CHECK(host_sysctl_write("net.inet.tcp.sendbuf_max", 65535) != 0);
	CHECK(host_sysctl_write("net.inet.tcp.sendbuf_max", SB_MAX + 1) != 0);
	CHECK(tcp_sendbuf_auto == 1 && tcp_sendbuf_max == 1024 * 1024);
	CHECK(host_sysctl_write("net.inet.tcp.sendbuf_max", SB_MAX) == 0);
	CHECK(tcp_sendbuf_max == SB_MAX);
}

const struct host_test tcp_sndbuf_tests[] = {
	{ tcp_sndbuf_grows_to_the_window, "tcp_sndbuf_grows_to_the_window" },
	{ tcp_sndbuf_fixed_by_so_sndbuf_or_switch, "tcp_sndbuf_fixed_by_so_sndbuf_or_switch" },
	{ tcp_sndbuf_sysctl_range, "tcp_sndbuf_sysctl_range" },
	{ NULL, NULL },
};
