// Socket options: setsockopt/getsockopt at level SOL_SOCKET, handled
// here, and every other level passed to the protocol as a PRU_CTLOUTPUT
// request in its netisr (net/protosw.h).
//
// Invariants: a buffer size (SO_RCVBUF, SO_SNDBUF) and SO_RCVLOWAT stay
// within the bounds net/sockbuf.c enforces; option bits live in the
// atomic word so_options.
// Locking: so_options is atomic [a]; buffer sizes are changed under the
// sockbuf's lock (sbreserve); nothing here touches the pcb (it belongs to
// the netisr: PRU_CTLOUTPUT). Runs in the calling user thread; may sleep.
//
// Testing: nettests sockopt, udp tests; gdb: break sosetopt.
#include "net/socket.h"

static int sopt_getint(struct sockopt *sopt, int *v)
{
	if (sopt->sopt_valsize < sizeof(int))
		return -EINVAL;
	memcpy(v, sopt->sopt_val, sizeof(int));
	return 0;
}

static int sopt_putint(struct sockopt *sopt, int v)
{
	if (sopt->sopt_valsize < sizeof(int))
		return -EINVAL;
	memcpy(sopt->sopt_val, &v, sizeof(int));
	sopt->sopt_valsize = sizeof(int);
	return 0;
}

// The SO_OPT_* bit of a flag option, or 0.
static uint32 so_optbit(int name)
{
	switch (name) {
	case SO_REUSEADDR: return SO_OPT_REUSEADDR;
	case SO_REUSEPORT: return SO_OPT_REUSEPORT;
	case SO_BROADCAST: return SO_OPT_BROADCAST;
	case SO_KEEPALIVE: return SO_OPT_KEEPALIVE;
	}
	return 0;
}

static int so_ctloutput(struct socket *so, struct sockopt *sopt)
{
	struct netmsg_pru nm = { .nm_sopt = sopt };
	return so_pru_request(so, &nm, PRU_CTLOUTPUT);
}

int sosetopt(struct socket *so, struct sockopt *sopt)
{
	struct linger l;
	uint32 bit;
	int v, err;

	if (sopt->sopt_level != SOL_SOCKET)
		return so_ctloutput(so, sopt);
	if (sopt->sopt_name == SO_LINGER) {
		if (sopt->sopt_valsize < sizeof(l))
			return -EINVAL;
		memcpy(&l, sopt->sopt_val, sizeof(l));
		if (l.l_linger < 0)
			return -EINVAL;
		__atomic_store_n(&so->so_linger, l.l_linger, __ATOMIC_RELAXED);
		if (l.l_onoff)
			__atomic_or_fetch(&so->so_options, SO_OPT_LINGER, __ATOMIC_RELAXED);
		else
			__atomic_and_fetch(&so->so_options, ~SO_OPT_LINGER, __ATOMIC_RELAXED);
		return 0;
	}
	bit = so_optbit(sopt->sopt_name);
	if (bit == 0 && sopt->sopt_name != SO_SNDBUF && sopt->sopt_name != SO_RCVBUF &&
	    sopt->sopt_name != SO_RCVLOWAT)
		return -ENOPROTOOPT;   // includes SO_ERROR: read-only
	if ((err = sopt_getint(sopt, &v)) < 0)
		return err;
	switch (sopt->sopt_name) {
	case SO_SNDBUF:
	case SO_RCVBUF:
		if (v <= 0)
			return -EINVAL;
		// the user's size: TCP does not autotune it (sbgrow checks
		// sb_usersize under sb_lock; the option bit is the cheap test)
		sbreserve_user(sopt->sopt_name == SO_SNDBUF ? &so->so_snd : &so->so_rcv, v);
		__atomic_or_fetch(&so->so_options, sopt->sopt_name == SO_RCVBUF ? SO_OPT_RCVBUF :
				  SO_OPT_SNDBUF, __ATOMIC_RELAXED);
		return 0;
	case SO_RCVLOWAT:
		if (v < 0)
			return -EINVAL;
		sbsetlowat(&so->so_rcv, v);
		return 0;
	}
	if (v)
		__atomic_or_fetch(&so->so_options, bit, __ATOMIC_RELAXED);
	else
		__atomic_and_fetch(&so->so_options, ~bit, __ATOMIC_RELAXED);
	return 0;
}

static int sogetopt_sockbuf(struct sockbuf *sb, bool lowat, struct sockopt *sopt)
{
	net_lock_acquire(&sb->sb_lock);
	int v = lowat ? sb->sb_lowat : sb->sb_hiwat;
	net_lock_release(&sb->sb_lock);
	return sopt_putint(sopt, v);
}

int sogetopt(struct socket *so, struct sockopt *sopt)
{
	uint32 opts = __atomic_load_n(&so->so_options, __ATOMIC_RELAXED);
	struct linger l;

	if (sopt->sopt_level != SOL_SOCKET)
		return so_ctloutput(so, sopt);
	switch (sopt->sopt_name) {
	case SO_LINGER:
		if (sopt->sopt_valsize < sizeof(l))
			return -EINVAL;
		l.l_onoff = (opts & SO_OPT_LINGER) != 0;
		l.l_linger = __atomic_load_n(&so->so_linger, __ATOMIC_RELAXED);
		memcpy(sopt->sopt_val, &l, sizeof(l));
		sopt->sopt_valsize = sizeof(l);
		return 0;
	case SO_ERROR:
		if (sopt->sopt_valsize < sizeof(int))
			return -EINVAL;
		return sopt_putint(sopt, -so_takeerror(so));   // positive errno, cleared
	case SO_SNDBUF:
		return sogetopt_sockbuf(&so->so_snd, false, sopt);
	case SO_RCVBUF:
		return sogetopt_sockbuf(&so->so_rcv, false, sopt);
	case SO_RCVLOWAT:
		return sogetopt_sockbuf(&so->so_rcv, true, sopt);
	case SO_INCOMING_CPU: {
		// Linux's option: the CPU whose netisr last queued a datagram
		// here, else the netisr of the socket's pcb (a connected
		// socket's: that of its flow). An application (or netbench
		// udpflows) can see which CPU its flow runs on.
		int c = __atomic_load_n(&so->so_rcvcpu, __ATOMIC_RELAXED);
		return sopt_putint(sopt, c >= 0 ? c : __atomic_load_n(&so->so_cpu, __ATOMIC_RELAXED));
	}
	}
	uint32 bit = so_optbit(sopt->sopt_name);
	if (bit == 0)
		return -ENOPROTOOPT;
	return sopt_putint(sopt, (opts & bit) != 0);
}
