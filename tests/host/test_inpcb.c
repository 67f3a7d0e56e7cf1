// Host tests of the pcb tables (net/in_pcb.c) and reuseport groups
// (net/in_localgroup.c): the bind rules (EADDRINUSE, SO_REUSEADDR,
// SO_REUSEPORT all-or-nothing, foreign address), unique ephemeral ports,
// lookup preference, and the group's fairness and stability. UDP sockets
// are made with the real protocol, its requests called directly (as the
// netisr would).
#include <string.h>
#include "tests/host/net_fake.h"
#include "net/socket.h"
#include "net/in_pcb.h"
#include "net/netisr.h"
#include "kernel/poll.h"

static void setup(void)
{
	fx_setup();   // fx0 = 10.0.2.15/24: an address of ours
	CHECK(udp_init() == 0);
}

static int ubind(struct socket *so, uint32 addr, uint16 port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = hton16(port) };
	sin.sin_addr.s_addr = hton32(addr);
	return so->so_proto->pr_usrreqs->pru_bind(so, &sin);
}

static uint16 lport(struct socket *so)
{
	return ((struct inpcb *)so->so_pcb)->inp_lport;
}

static struct inpcbinfo *info(struct socket *so)
{
	return ((struct inpcb *)so->so_pcb)->inp_info;
}

static struct inpcb *lookup(struct socket *any, uint32 faddr, uint16 fport,
			    uint32 laddr, uint16 lp)
{
	struct inpcbinfo *ii = info(any);
	uint32 h = netisr_hash_ipv4(faddr, laddr, IPPROTO_UDP, fport, lp);
	net_lock_acquire(&ii->ipi_lock);
	struct inpcb *inp = in_pcblookup(ii, faddr, fport, laddr, lp, h);
	net_lock_release(&ii->ipi_lock);
	return inp;
}

static void test_bind_same_port_is_eaddrinuse(void)
{
	setup();
	struct socket *a = fx_udp_socket(0), *b = fx_udp_socket(0), *c = fx_udp_socket(0);
	CHECK(ubind(a, INADDR_ANY, 5000) == 0);
	CHECK(ubind(b, INADDR_ANY, 5000) == -EADDRINUSE);
	CHECK(ubind(b, FX_ADDR, 5000) == -EADDRINUSE);   // overlaps the wildcard
	CHECK(ubind(b, INADDR_ANY, 5001) == 0);
	CHECK(ubind(b, INADDR_ANY, 5002) == -EINVAL);    // bound already
	fx_udp_close(a);
	CHECK(ubind(c, INADDR_ANY, 5000) == 0);          // free again after close
	fx_udp_close(b);
	fx_udp_close(c);
}

static void test_bind_foreign_address_is_eaddrnotavail(void)
{
	setup();
	struct socket *a = fx_udp_socket(0);
	CHECK(ubind(a, IPV4(10, 0, 2, 99), 5000) == -EADDRNOTAVAIL);
	CHECK(ubind(a, IPV4(8, 8, 8, 8), 0) == -EADDRNOTAVAIL);
	CHECK(ubind(a, FX_ADDR, 5000) == 0);
	fx_udp_close(a);
}

static void test_reuseaddr_allows_exact_next_to_wildcard(void)
{
	setup();
	struct socket *a = fx_udp_socket(0), *b = fx_udp_socket(SO_OPT_REUSEADDR);
	struct socket *c = fx_udp_socket(SO_OPT_REUSEADDR);
	CHECK(ubind(a, INADDR_ANY, 5000) == 0);
	CHECK(ubind(b, FX_ADDR, 5000) == 0);             // R3: only exact conflicts
	CHECK(ubind(c, FX_ADDR, 5000) == -EADDRINUSE);   // exact, no REUSEPORT
	fx_udp_close(a);
	fx_udp_close(b);
	fx_udp_close(c);
}

static void test_reuseaddr_binds_next_to_a_connected_pcb(void)
{
	setup();
	struct socket *a = fx_udp_socket(0), *b = fx_udp_socket(SO_OPT_REUSEADDR);
	struct socket *c = fx_udp_socket(0);
	CHECK(ubind(a, FX_ADDR, 5100) == 0);
	CHECK(in_pcbconnect(a->so_pcb, IPV4(10, 0, 2, 2), 7) == 0);
	CHECK(ubind(c, FX_ADDR, 5100) == -EADDRINUSE);   // R2: no reuse asked
	CHECK(ubind(b, FX_ADDR, 5100) == 0);             // R3: a is connected
	fx_udp_close(a);
	fx_udp_close(b);
	fx_udp_close(c);
}

static void test_reuseport_is_all_or_nothing(void)
{
	setup();
	struct socket *a = fx_udp_socket(SO_OPT_REUSEPORT), *b = fx_udp_socket(SO_OPT_REUSEPORT);
	struct socket *c = fx_udp_socket(0), *d = fx_udp_socket(SO_OPT_REUSEADDR);
	CHECK(ubind(a, INADDR_ANY, 6000) == 0);
	CHECK(ubind(b, INADDR_ANY, 6000) == 0);
	CHECK(ubind(c, INADDR_ANY, 6000) == -EADDRINUSE);   // late-comer without it
	CHECK(ubind(d, INADDR_ANY, 6000) == -EADDRINUSE);   // REUSEADDR is not enough
	struct socket *e = fx_udp_socket(0), *f = fx_udp_socket(SO_OPT_REUSEPORT);
	CHECK(ubind(e, INADDR_ANY, 6001) == 0);
	CHECK(ubind(f, INADDR_ANY, 6001) == -EADDRINUSE);   // holder without it
	struct inpcbinfo *ii = info(a);
	net_lock_acquire(&ii->ipi_lock);
	CHECK(in_localgroup_count(ii, INADDR_ANY, 6000) == 2);
	CHECK(in_localgroup_count(ii, INADDR_ANY, 6001) == 0);
	net_lock_release(&ii->ipi_lock);
	fx_udp_close(a);
	fx_udp_close(b);
	fx_udp_close(c);
	fx_udp_close(d);
	fx_udp_close(e);
	fx_udp_close(f);
}

#define NEPH 300
static void test_ephemeral_ports_are_unique_and_in_range(void)
{
	setup();
	static struct socket *s[NEPH];
	static uint8 seen[65536];
	for (int i = 0; i < NEPH; i++) {
		s[i] = fx_udp_socket(0);
		CHECK(ubind(s[i], INADDR_ANY, 0) == 0);
		uint16 p = lport(s[i]);
		CHECK(p >= INP_EPHEMERAL_FIRST);
		CHECK(!seen[p]);
		seen[p] = 1;
	}
	// A fixed bind of a port in the range is skipped by later allocations.
	struct socket *fixed = fx_udp_socket(0);
	uint16 next = INP_EPHEMERAL_FIRST + NEPH;
	CHECK(ubind(fixed, INADDR_ANY, next) == 0);
	struct socket *t = fx_udp_socket(0);
	CHECK(ubind(t, INADDR_ANY, 0) == 0 && lport(t) != next && !seen[lport(t)]);
	for (int i = 0; i < NEPH; i++)
		fx_udp_close(s[i]);
	fx_udp_close(fixed);
	fx_udp_close(t);
}

static void test_lookup_prefers_connected_then_exact_then_wildcard(void)
{
	setup();
	struct socket *w = fx_udp_socket(SO_OPT_REUSEADDR), *x = fx_udp_socket(SO_OPT_REUSEADDR);
	struct socket *c = fx_udp_socket(SO_OPT_REUSEADDR);
	CHECK(ubind(w, INADDR_ANY, 7000) == 0);
	CHECK(ubind(x, FX_ADDR, 7000) == 0);
	CHECK(ubind(c, INADDR_ANY, 7001) == 0);
	struct sockaddr_in peer = { .sin_family = AF_INET, .sin_port = hton16(53) };
	peer.sin_addr.s_addr = hton32(GW_ADDR);
	CHECK(c->so_proto->pr_usrreqs->pru_connect(c, &peer) == 0);
	CHECK(lookup(w, GW_ADDR, 1234, FX_ADDR, 7000)->inp_socket == x);   // exact
	CHECK(lookup(w, GW_ADDR, 1234, IPV4(10, 0, 2, 255), 7000)->inp_socket == w);
	CHECK(lookup(w, GW_ADDR, 53, FX_ADDR, 7001)->inp_socket == c);      // connected
	CHECK(lookup(w, GW_ADDR, 54, FX_ADDR, 7001) == NULL);   // wrong peer port
	CHECK(lookup(w, GW_ADDR, 1, FX_ADDR, 7002) == NULL);
	fx_udp_close(w);
	fx_udp_close(x);
	fx_udp_close(c);
}

#define NMEMB 4
#define NFLOWS 10000

static struct socket *group(int n, uint32 addr, uint16 port, struct socket **m)
{
	for (int i = 0; i < n; i++) {
		m[i] = fx_udp_socket(SO_OPT_REUSEPORT);
		CHECK(ubind(m[i], addr, port) == 0);
	}
	return m[0];
}

static int member(struct socket **m, int n, struct inpcb *inp)
{
	for (int i = 0; i < n; i++)
		if (inp != NULL && inp->inp_socket == m[i])
			return i;
	return -1;
}

static void test_localgroup_spreads_within_bounds(void)
{
	setup();
	struct socket *m[NMEMB];
	int got[NMEMB] = { 0 };
	group(NMEMB, INADDR_ANY, 8000, m);
	uint32 seed = 12345;
	for (int i = 0; i < NFLOWS; i++) {
		seed = seed * 1103515245u + 12345u;
		uint16 sport = 1024 + (seed >> 16) % 60000;
		int k = member(m, NMEMB, lookup(m[0], GW_ADDR, sport, FX_ADDR, 8000));
		CHECK(k >= 0);
		got[k]++;
	}
	for (int i = 0; i < NMEMB; i++) {
		printf("member %d: %d of %d\n", i, got[i], NFLOWS);
		// The bound is [fair/2, 2*fair]; a good hash does better.
		CHECK(got[i] > NFLOWS / NMEMB * 8 / 10 && got[i] < NFLOWS / NMEMB * 12 / 10);
	}
	for (int i = 0; i < NMEMB; i++)
		fx_udp_close(m[i]);
}

static void test_localgroup_same_tuple_same_member(void)
{
	setup();
	struct socket *m[NMEMB];
	int first[200];
	group(NMEMB, INADDR_ANY, 8001, m);
	for (int round = 0; round < 5; round++)
		for (int p = 0; p < 200; p++) {
			int k = member(m, NMEMB, lookup(m[0], GW_ADDR, 40000 + p, FX_ADDR, 8001));
			CHECK(k >= 0);
			if (round == 0)
				first[p] = k;
			CHECK(first[p] == k);
		}
	for (int i = 0; i < NMEMB; i++)
		fx_udp_close(m[i]);
}

static void test_localgroup_exact_beats_wildcard(void)
{
	setup();
	struct socket *w[2], *x[2];
	group(2, INADDR_ANY, 8002, w);
	group(2, FX_ADDR, 8002, x);
	for (int p = 0; p < 100; p++) {
		CHECK(member(x, 2, lookup(w[0], GW_ADDR, 30000 + p, FX_ADDR, 8002)) >= 0);
		CHECK(member(w, 2, lookup(w[0], GW_ADDR, 30000 + p, IPV4(10, 0, 2, 255), 8002)) >= 0);
	}
	for (int i = 0; i < 2; i++) {
		fx_udp_close(w[i]);
		fx_udp_close(x[i]);
	}
}

static void test_localgroup_member_close_keeps_the_rest(void)
{
	setup();
	struct socket *m[NMEMB];
	group(NMEMB, INADDR_ANY, 8003, m);
	fx_udp_close(m[1]);
	m[1] = NULL;
	int got[NMEMB] = { 0 };
	for (int p = 0; p < 3000; p++) {
		struct inpcb *inp = lookup(m[0], GW_ADDR, 20000 + p, FX_ADDR, 8003);
		int k = member(m, NMEMB, inp);
		CHECK(k >= 0 && k != 1);
		got[k]++;
	}
	CHECK(got[0] > 500 && got[2] > 500 && got[3] > 500);
	fx_udp_close(m[0]);
	fx_udp_close(m[2]);
	fx_udp_close(m[3]);
	CHECK(lookup(m[0] = fx_udp_socket(0), GW_ADDR, 1, FX_ADDR, 8003) == NULL);
	fx_udp_close(m[0]);
}

// What hash-threshold guarantees when a member leaves (RFC 2992; the
// header of net/in_localgroup.c): the others keep their order, so a flow
// of a remaining member either stays on it or moves to the member next
// to it, and at least 2/3 of those flows stay (n = 4; 8/9 when a middle
// member leaves). Modulo-N keeps about 1/3, and so does moving the last
// member into the leaver's slot: both fail here. Every member in turn.
static void test_localgroup_leave_moves_few_flows(void)
{
	enum { NF = 4000 };
	static int before[NF];
	setup();
	for (int gone = 0; gone < NMEMB; gone++) {
		struct socket *m[NMEMB];
		uint16 port = (uint16)(8010 + gone);
		int stay = 0, kept = 0, far = 0;
		group(NMEMB, INADDR_ANY, port, m);
		for (int f = 0; f < NF; f++) {
			before[f] = member(m, NMEMB, lookup(m[0], GW_ADDR, (uint16)(1024 + f * 13),
							    FX_ADDR, port));
			CHECK(before[f] >= 0);
		}
		fx_udp_close(m[gone]);
		m[gone] = NULL;
		for (int f = 0; f < NF; f++) {
			int now = member(m, NMEMB, lookup(m[gone ? 0 : 1], GW_ADDR,
							  (uint16)(1024 + f * 13), FX_ADDR, port));
			CHECK(now >= 0 && now != gone);
			if (before[f] == gone)
				continue;   // the leaver's flows must go somewhere
			stay++;
			kept += now == before[f];
			// A neighbour in the remaining order (skipping the leaver).
			int d = now > before[f] ? now - before[f] : before[f] - now;
			int skip = (now < gone) != (before[f] < gone);
			far += d - skip > 1;
		}
		printf("member %d left: %d of %d other flows kept their member, %d moved far\n",
		       gone, kept, stay, far);
		CHECK(far == 0);
		CHECK(kept * 10 >= stay * 6);   // theory: >= 2/3
		for (int i = 0; i < NMEMB; i++)
			if (m[i] != NULL)
				fx_udp_close(m[i]);
	}
}

static void test_reuseport_ext_off_picks_last_bound(void)
{
	setup();
	struct socket *m[3];
	CHECK(host_sysctl_write("net.inet.udp.reuseport_ext", 0) == 0);
	group(3, INADDR_ANY, 8004, m);
	for (int p = 0; p < 100; p++)
		CHECK(lookup(m[0], GW_ADDR, 10000 + p, FX_ADDR, 8004)->inp_socket == m[2]);
	CHECK(host_sysctl_write("net.inet.udp.reuseport_ext", 1) == 0);
	for (int i = 0; i < 3; i++)
		fx_udp_close(m[i]);
}

static void test_hash_threshold_pick_is_in_range(void)
{
	CHECK(in_localgroup_pick(0, 4) == 0);
	CHECK(in_localgroup_pick(0xffffffffu, 4) == 3);
	CHECK(in_localgroup_pick(0x80000000u, 4) == 2);
	CHECK(in_localgroup_pick(0xffffffffu, 256) == 255);
	CHECK(in_localgroup_pick(12345, 1) == 0);
}

// soclose: a socket nobody polled wakes no poller when it closes (inetd,
// polling its listeners, is not woken by every connection a server
// closes); one that was polled wakes its own poller only.
static void test_close_wakes_only_its_pollers(void)
{
	setup();
	CHECK(netisr_init_ports() == 0);   // soclose asks the netisr to detach
	for (int c = 0; c < net_ncpu(); c++)
		lwkt_port_setowner(netisr_cpuport(c));
	struct socket *a = fx_udp_socket(0);
	uint64 notes = host_poll_notifies;
	soclose(a);
	CHECK(host_poll_notifies == notes);
	struct socket *b = fx_udp_socket(0);
	sopoll(b, POLLIN);
	uint64 one = host_poll_notifies_one, all = host_poll_notifies - one;
	soclose(b);
	CHECK(host_poll_notifies_one > one && host_poll_notified == net_curthread());
	CHECK(host_poll_notifies - host_poll_notifies_one == all);
}

const struct host_test inpcb_tests[] = {
	{ test_bind_same_port_is_eaddrinuse, "bind_same_port_is_eaddrinuse" },
	{ test_bind_foreign_address_is_eaddrnotavail, "bind_foreign_address_is_eaddrnotavail" },
	{ test_reuseaddr_allows_exact_next_to_wildcard, "reuseaddr_allows_exact_next_to_wildcard" },
	{ test_reuseaddr_binds_next_to_a_connected_pcb, "reuseaddr_binds_next_to_a_connected_pcb" },
	{ test_reuseport_is_all_or_nothing, "reuseport_is_all_or_nothing" },
	{ test_ephemeral_ports_are_unique_and_in_range, "ephemeral_ports_are_unique_and_in_range" },
	{ test_lookup_prefers_connected_then_exact_then_wildcard, "lookup_prefers_connected_then_exact_then_wildcard" },
	{ test_localgroup_spreads_within_bounds, "localgroup_spreads_within_bounds" },
	{ test_localgroup_same_tuple_same_member, "localgroup_same_tuple_same_member" },
	{ test_localgroup_exact_beats_wildcard, "localgroup_exact_beats_wildcard" },
	{ test_localgroup_member_close_keeps_the_rest, "localgroup_member_close_keeps_the_rest" },
	{ test_localgroup_leave_moves_few_flows, "localgroup_leave_moves_few_flows" },
	{ test_reuseport_ext_off_picks_last_bound, "reuseport_ext_off_picks_last_bound" },
	{ test_hash_threshold_pick_is_in_range, "hash_threshold_pick_is_in_range" },
	{ test_close_wakes_only_its_pollers, "close_wakes_only_its_pollers" },
	{ NULL, NULL },
};
