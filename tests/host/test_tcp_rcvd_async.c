// Host tests of the asynchronous PRU_RCVD (net/tcp_rcvd_async.c): the
// lost window update of the late reply, driven deterministically -- the
// "reader on another CPU" is the test, reading through the handler's seam
// (tcp_rcvd_async_between) between its two steps -- and the rule that a
// socket closed while its message is in flight is freed only after the
// message came back. Over the fake wire (tcp_wire.h); ASan catches a
// use after free.
#include "tests/host/tcp_wire.h"

extern void (*tcp_rcvd_async_between)(struct socket *so);

static uint8 ra_in[8192];
static int ra_hooked;       // reads made from the seam

// The reader on another CPU: reads everything left, once.
static void ra_read_rest(struct socket *so)
{
	if (ra_hooked++ > 0)
		return;
	CHECK(tw_recv(so, ra_in, sizeof(ra_in), 0) > 0);
}

static void ra_clean(int s0, uint64 m0)
{
	tcp_rcvd_async_between = NULL;
	wire_filter = NULL;
	wire_run(2 * 60000 + 1000);
	CHECK(tcpstat.tcps_pcbs == 0);
	CHECK(so_count() == s0);
	CHECK(mbstat.mbs_inuse == m0);
}

// A pair whose receiver has an 8 KB buffer holding 5 full segments (the
// sender has 892 bytes of window it will not use: sender SWS avoidance)
// and more data queued: the sender waits for a window update.
static void ra_full_pair(uint16 port, struct socket **c, struct socket **s)
{
	static uint8 big[20000];
	struct socket *l = tw_listen(port, 5);
	tw_setopt(l, SOL_SOCKET, SO_RCVBUF, 8192);
	*c = tw_connect(port, 0);
	wire_settle();
	CHECK(soaccept(l, true, s) == 0);
	soclose(l);
	CHECK(tw_send(*c, big, sizeof(big)) == (long)sizeof(big));
	wire_run(100);
	CHECK((*s)->so_rcv.sb_cc == 5 * 1460 && tw_tp(*c)->snd_wnd == 892);
}

// The race: read 500 bytes (too little for an update: the message goes,
// tcp_output sends nothing), and -- while the handler is between its two
// steps -- read the rest. Returns how many window updates went out.
static uint64 ra_race(struct socket *s, int late)
{
	uint64 upd = tcpstat.tcps_sndwinup;
	CHECK(host_sysctl_write("net.inet.tcp.async_rcvd_reply_late", late) == 0);
	ra_hooked = 0;
	tcp_rcvd_async_between = ra_read_rest;
	CHECK(tw_recv(s, ra_in, 500, 0) == 500);   // the message is sent here
	CHECK(!lwkt_msg_done(&s->so_rcvdmsg.nm_msg));
	wire_settle();                             // the netisr runs it (no time passes)
	CHECK(ra_hooked >= 1);
	tcp_rcvd_async_between = NULL;
	CHECK(host_sysctl_write("net.inet.tcp.async_rcvd_reply_late", 0) == 0);
	return tcpstat.tcps_sndwinup - upd;
}

// Reply after tcp_output: the second read finds the message in flight and
// does not send; tcp_output had looked before it: no update ever goes.
// The buffer is empty, the sender waits: the transfer stalls until the
// sender's persist timer probes the window.
static void tcp_rcvd_async_late_reply_loses_update(void)
{
	wire_setup();
	int s0 = so_count();
	uint64 m0 = mbstat.mbs_inuse;
	struct socket *c, *s;
	ra_full_pair(5300, &c, &s);
	uint64 persist0 = tcpstat.tcps_persisttimeo;
	CHECK(ra_race(s, 1) == 0);                       // the update is lost
	CHECK(s->so_rcv.sb_cc == 0);                     // all read ...
	CHECK(tw_tp(c)->snd_wnd == 892);                 // ... but the sender
	CHECK(c->so_snd.sb_cc > 0);                      // still waits: stalled
	CHECK(lwkt_msg_done(&s->so_rcvdmsg.nm_msg));     // and nothing is coming
	uint64 waited = 0;                               // only persist unsticks it
	while (s->so_rcv.sb_cc == 0 && waited < 60000)
		waited += wire_run(50);
	CHECK(tcpstat.tcps_persisttimeo > persist0);
	CHECK(s->so_rcv.sb_cc > 0);
	printf("late reply: stalled %llu ms (virtual) until the persist probe\n",
	       (unsigned long long)waited);
	soclose(c);
	soclose(s);
	ra_clean(s0, m0);
}

// Reply before tcp_output (the rule): the second read finds the message
// DONE and sends it again, and tcp_output sees the room: the update goes
// at once and data flows without the persist timer.
static void tcp_rcvd_async_early_reply_keeps_update(void)
{
	wire_setup();
	int s0 = so_count();
	uint64 m0 = mbstat.mbs_inuse;
	struct socket *c, *s;
	ra_full_pair(5301, &c, &s);
	uint64 persist0 = tcpstat.tcps_persisttimeo;
	CHECK(ra_race(s, 0) == 1);                       // one update, at once
	CHECK(tw_tp(c)->snd_wnd > 892 || s->so_rcv.sb_cc > 0);
	CHECK(s->so_rcv.sb_cc > 0);                      // new data already in
	CHECK(tcpstat.tcps_persisttimeo == persist0);
	soclose(c);
	soclose(s);
	ra_clean(s0, m0);
}

// Synchronous PRU_RCVD (net.inet.tcp.async_rcvd=0): the same reads give
// the update with no message in flight, as before the mechanism.
static void tcp_rcvd_sync_switch(void)
{
	wire_setup();
	int s0 = so_count();
	uint64 m0 = mbstat.mbs_inuse;
	struct socket *c, *s;
	ra_full_pair(5302, &c, &s);
	CHECK(host_sysctl_write("net.inet.tcp.async_rcvd", 0) == 0);
	uint64 upd = tcpstat.tcps_sndwinup;
	CHECK(tw_recv(s, ra_in, 500, 0) == 500);
	CHECK(lwkt_msg_done(&s->so_rcvdmsg.nm_msg));     // nothing in flight
	CHECK(tw_recv(s, ra_in, sizeof(ra_in), 0) > 0);
	wire_settle();
	CHECK(tcpstat.tcps_sndwinup == upd + 1 && s->so_rcv.sb_cc > 0);
	CHECK(host_sysctl_write("net.inet.tcp.async_rcvd", 1) == 0);
	soclose(c);
	soclose(s);
	ra_clean(s0, m0);
}

// close(2) while the message is in flight: the socket outlives the close
// (the message's reference) and is freed by the handler's sorele, after
// its reply. ASan would report the handler's touch of a freed socket.
static void tcp_rcvd_async_close_in_flight(void)
{
	wire_setup();
	int s0 = so_count();
	uint64 m0 = mbstat.mbs_inuse;
	struct socket *c, *s;
	ra_full_pair(5303, &c, &s);
	CHECK(tw_recv(s, ra_in, 500, 0) == 500);   // message queued, not run
	CHECK(!lwkt_msg_done(&s->so_rcvdmsg.nm_msg));
	int live = so_count();
	soclose(s);                                // detach runs now (inline)
	CHECK(so_count() == live);                 // still there: in flight
	CHECK(s->so_refs == 1);                    // the message's reference only
	wire_netisrs();                            // handler: reply, sorele
	CHECK(so_count() == live - 1);             // freed now
	wire_settle();
	CHECK(tw_state(c) == TCPS_CLOSED);         // unread data: the close reset it
	soclose(c);
	ra_clean(s0, m0);
}

const struct host_test tcp_rcvd_async_tests[] = {
	{ tcp_rcvd_async_late_reply_loses_update, "tcp_rcvd_async_late_reply_loses_update" },
	{ tcp_rcvd_async_early_reply_keeps_update, "tcp_rcvd_async_early_reply_keeps_update" },
	{ tcp_rcvd_sync_switch, "tcp_rcvd_sync_switch" },
	{ tcp_rcvd_async_close_in_flight, "tcp_rcvd_async_close_in_flight" },
	{ NULL, NULL },
};
