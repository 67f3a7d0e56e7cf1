// TCP's half of the socket requests (net/protosw.h): attach, bind,
// listen, connect, send, shutdown, the window update after a read,
// close, options, addresses.
//
// Problem: a system call on any CPU must act on a connection owned by
// one netisr, and connect must hand the new connection to the netisr its
// 4-tuple hashes to before the first segment leaves, because every
// answer from the peer will arrive there.
//
// Idea: every function here runs in the owning netisr (so_pru_dispatch
// calls it on receipt of the caller's message), so it may touch the
// tcpcb. connect picks the local address and port (in_pcbconnect), then,
// if the 4-tuple belongs to another netisr, changes the owner (t_cpu,
// so_cpu) and sends the tcpcb's t_connmsg there; the SYN is sent by the
// new owner, which from then on is the only thread touching the tcpcb.
// A close (PRU_DETACH) does not free a connection that still has work:
// the tcpcb lives on (TF_NOFDREF) holding its socket reference until
// the FIN exchange and TIME_WAIT end it (tcp_close).
//
// Message type (docs/conventions.md rule 11): t_connmsg
//   sender: tcp_usr_connect in the old owner netisr; target: the netisr
//   of the connection's 4-tuple; reply port: none (the handler replies to
//   mark it DONE); freed by: nobody (embedded in the tcpcb; the old
//   owner's reply to the user went first, and a later request on the
//   socket is queued behind t_connmsg on the new port: FIFO).
//
// Invariants:
//   I1 After tcp_usr_connect changed t_cpu, the old netisr does not
//      touch the tcpcb again.
//   I2 A tcpcb with TF_NOFDREF is never given to the user again; it
//      ends by itself (FIN exchange, RST, timeouts).
//
// Locking: [o] for the tcpcb; so_snd.sb_lock to append user data;
// so_state is atomic.
//
// Races:
//   - "stray segment during the move": between in_pcbconnect and the
//     SYN, a segment for the new 4-tuple could arrive on the new netisr;
//     the tcpcb is in SYN_SENT with nothing sent, so input answers it
//     by RST without touching the tcpcb's fields (see tcp_input).
//   - "close right after a nonblocking connect": PRU_DETACH goes to the
//     new so_cpu, queued behind t_connmsg (FIFO), so the SYN goes first
//     and the detach then closes the tcpcb in SYN_SENT.
//
// Life of a connect: connect(2) -> soconnect -> PRU_CONNECT -> netisr A:
// tcp_usr_connect -> in_pcbconnect -> [t_connmsg -> netisr B:
// tcp_connmsg_handler] -> tcp_output (SYN) ... SYN,ACK -> netisr B:
// tcp_input_synsent -> tcp_established -> soisconnected -> wakes connect.
//
// Testing: make hosttest (tcp_three_way_handshake, tcp_connect_moves_cpu,
// tcp_listen_backlog, tcp_linger_zero_rst); nettests tcp*.
// gdb: break tcp_usr_connect, tcp_connmsg_handler.
//
// References: RFC 9293 3.10.1 (OPEN), 3.10.2 (SEND), 3.10.4 (CLOSE),
// 3.10.5 (ABORT); RFC 1122 4.2.2.13 (close with unread data: RST);
// DragonFly BSD netinet/tcp_usrreq.c (connect moves the pcb to its
// netisr before the SYN).
#include "net/tcp_var.h"
#include "net/tcp_syncache.h"
#include "net/in_pcb.h"
#include "net/socket.h"
#include "net/so_accept.h"
#include "net/ip.h"
#include "net/icmp.h"
#include "net/if.h"
#include "net/netisr.h"
#include "net/byteorder.h"

extern int tcp_reuseport_ext;       // [a] net/in_localgroup.c (listener groups)
static int tcp_next_cpu;            // [a] round-robin for new sockets

int tcp_init(void)
{
	in_pcbinfo_init(&tcbinfo, "tcp", &tcp_reuseport_ext);
	tcp_subr_init();
	tcp_syncache_init();
	// Order matters (net/netisr.c I4: rollups run in registration order):
	// the held runs of coalesced segments reach TCP before the batch's
	// ACKs and reader wakeups go out.
	int err = netisr_register_rollup(tcp_lro_rollup);
	if (err == 0)
		err = netisr_register_rollup(tcp_rollup);
	if (err < 0 || (err = icmp_ctl_register(IPPROTO_TCP, tcp_ctlinput)) < 0)
		return err;
	return ip_proto_register(IPPROTO_TCP, tcp_input);
}

int tcp_attach_cpu(struct socket *so)
{
	(void)so;
	return netisr_hashcpu(__atomic_fetch_add(&tcp_next_cpu, 1, __ATOMIC_RELAXED));
}

static int tcp_usr_attach(struct socket *so, int proto)
{
	struct inpcb *inp;
	(void)proto;
	int err = in_pcballoc(so, &tcbinfo, &inp);
	if (err < 0)
		return err;
	if (tcp_newtcpcb(so, inp, so->so_cpu) == NULL) {
		in_pcbdetach(inp);
		return -ENOBUFS;
	}
	so->so_pcb = inp;
	soref(so);   // the pcb's reference (socket.c I3), dropped by tcp_close
	// A writer waits for a quarter of the buffer, not one byte: fewer
	// wakeups, fewer and larger PRU_SENDs.
	sbsetlowat(&so->so_snd, so->so_snd.sb_hiwat / 4);
	return 0;
}

struct tcpcb *tcp_usrclosed(struct tcpcb *tp)
{
	switch (tp->t_state) {
	case TCPS_CLOSED:
	case TCPS_LISTEN:
	case TCPS_SYN_SENT:
		// RFC 9293 3.10.4: LISTEN/SYN-SENT: "delete the TCB".
		return tcp_close(tp);
	case TCPS_SYN_RECEIVED:   // "form a FIN segment ... enter FIN-WAIT-1"
	case TCPS_ESTABLISHED:    // "Queue this until all preceding SENDs ... then FIN"
		tcp_setstate(tp, TCPS_FIN_WAIT_1);
		break;
	case TCPS_CLOSE_WAIT:     // "Queue this request until all preceding SENDs ..."
		tcp_setstate(tp, TCPS_LAST_ACK);
		break;
	default:                  // closing already
		break;
	}
	tp->t_flags |= TF_NEEDFIN;
	__atomic_or_fetch(&tp->t_socket->so_state, SS_ISDISCONNECTING, __ATOMIC_ACQ_REL);
	return tp;
}

static bool tcp_unread_data(struct socket *so)
{
	net_lock_acquire(&so->so_rcv.sb_lock);
	bool unread = so->so_rcv.sb_cc > 0;
	net_lock_release(&so->so_rcv.sb_lock);
	return unread;
}

static int tcp_usr_detach(struct socket *so)
{
	struct tcpcb *tp = sototcpcb(so);
	if (tp == NULL)
		return 0;   // the connection ended already
	tp->t_flags |= TF_NOFDREF;   // I2
	uint32 opts = __atomic_load_n(&so->so_options, __ATOMIC_RELAXED);
	if (tp->t_state == TCPS_LISTEN) {
		// Leave the reuseport group first: later SYNs pick a sibling;
		// the queue is then reset (net/in_localgroup.c says why).
		in_pcbleavegroup(tp->t_inp);
		solisten_close(so);
		tcp_close(tp);
	} else if (tp->t_state < TCPS_SYN_RECEIVED) {
		tcp_close(tp);
	} else if ((opts & SO_OPT_LINGER) && __atomic_load_n(&so->so_linger, __ATOMIC_RELAXED) == 0) {
		tcp_drop(tp, 0);   // SO_LINGER 0: abort with a RST
	} else if (tcp_unread_data(so)) {
		// RFC 1122 4.2.2.13: "If such a host issues a CLOSE call while
		// received data is still pending in TCP ... its TCP SHOULD send
		// a RST to show that data was lost."
		tcp_drop(tp, 0);
	} else if ((tp = tcp_usrclosed(tp)) != NULL) {
		tcp_output(tp);
		if (tp->t_state == TCPS_FIN_WAIT_2)
			tcp_timer_set(tp, TCPT_2MSL, tcp_fin_wait_2_ms);
	}
	return 0;
}

static int tcp_usr_bind(struct socket *so, const struct sockaddr_in *sin)
{
	struct tcpcb *tp = sototcpcb(so);
	if (tp == NULL)
		return -EINVAL;
	uint32 a = ntoh32(sin->sin_addr.s_addr);
	if (a == INADDR_BROADCAST || if_isbroadcast(a))
		return -EADDRNOTAVAIL;
	return in_pcbbind(tp->t_inp, a, ntoh16(sin->sin_port), false);
}

static int tcp_usr_listen(struct socket *so, int backlog)
{
	struct tcpcb *tp = sototcpcb(so);
	int err;
	if (tp == NULL || (tp->t_state != TCPS_CLOSED && tp->t_state != TCPS_LISTEN))
		return -EINVAL;
	if (tp->t_inp->inp_lport == 0 &&
	    (err = in_pcbbind(tp->t_inp, INADDR_ANY, 0, false)) < 0)
		return err;
	tcp_setstate(tp, TCPS_LISTEN);   // RFC 9293 3.10.1: passive OPEN
	solisten_proto(so, backlog);
	// SO_REUSEPORT listeners of one address:port share its SYNs
	// (net/in_localgroup.c). Join only now that we accept: a SYN that
	// picked us earlier would find nobody listening and get a RST. If
	// the join fails (a full group, no memory) we stay a listener that
	// only the naive lookup finds, and listen(2) says why.
	return in_pcblistengroup(tp->t_inp);
}

// Send the SYN (RFC 9293 3.10.1: "Send a SYN segment of the form
// <SEQ=ISS><CTL=SYN>, set SND.UNA to ISS, SND.NXT to ISS+1, enter
// SYN-SENT"). The owning netisr.
static void tcp_connect_start(struct tcpcb *tp)
{
	TCPSTAT_INC(tcps_connattempt);
	tcp_output(tp);
}

// Handler of t_connmsg (see the message type): the new owner sends the SYN.
static void tcp_connmsg_handler(struct lwkt_msg *msg)
{
	struct tcpcb *tp = container_of(msg, struct tcpcb, t_connmsg);
	lwkt_replymsg(msg, 0);
	tcp_connect_start(tp);
}

static int tcp_usr_connect(struct socket *so, const struct sockaddr_in *sin)
{
	struct tcpcb *tp = sototcpcb(so);
	if (tp == NULL)
		return -EINVAL;
	if (tp->t_state == TCPS_SYN_SENT)
		return -EALREADY;
	if (tp->t_state != TCPS_CLOSED)
		return TCPS_HAVEESTABLISHED(tp->t_state) ? -EISCONN : -EINVAL;
	uint32 faddr = ntoh32(sin->sin_addr.s_addr);
	if (faddr == INADDR_ANY)
		faddr = INADDR_LOOPBACK;   // BSD: "this host"
	if (if_isbroadcast(faddr))
		return -ENETUNREACH;   // RFC 1122 4.2.3.10: no broadcast connections
	struct inpcb *inp = tp->t_inp;
	int err = in_pcbconnect(inp, faddr, ntoh16(sin->sin_port));
	if (err < 0)
		return err;
	tp->t_ourmss = tcp_mss_for(faddr);
	tcp_options_request(tp);   // RFC 7323: window scale and timestamps in our SYN
	tp->iss = tcp_new_isn(inp->inp_laddr, inp->inp_lport, faddr, inp->inp_fport);
	tp->snd_una = tp->snd_nxt = tp->snd_max = tp->snd_recover = tp->iss;
	tcp_setstate(tp, TCPS_SYN_SENT);
	soisconnecting(so);
	int cpu = tcp_tuplecpu(inp->inp_laddr, inp->inp_lport, faddr, inp->inp_fport);
	if (cpu == tp->t_cpu) {
		tcp_connect_start(tp);
		return 0;
	}
	// Move the connection to the netisr of its 4-tuple (I1).
	tp->t_cpu = cpu;
	__atomic_store_n(&so->so_cpu, cpu, __ATOMIC_RELEASE);
	lwkt_initmsg(&tp->t_connmsg, NULL, tcp_connmsg_handler, 0);
	lwkt_sendmsg(netisr_cpuport(cpu), &tp->t_connmsg);
	return 0;
}

// PRU_SEND: append the user's data (consumed) and send what may go.
static int tcp_usr_send(struct socket *so, struct mbuf *m, const struct sockaddr_in *to)
{
	struct tcpcb *tp = sototcpcb(so);
	(void)to;   // TCP ignores a destination on a connected socket (BSD)
	if (tp == NULL || !TCPS_CANSEND(tp->t_state) || (tp->t_flags & TF_NEEDFIN)) {
		m_freem(m);
		int err = tp == NULL ? so_takeerror(so) : 0;
		return err < 0 ? err : -EPIPE;
	}
	net_lock_acquire(&so->so_snd.sb_lock);
	sbappendstream(&so->so_snd, m);
	net_lock_release(&so->so_snd.sb_lock);
	tcp_sndbuf_autotune(tp);   // the buffer, not the window, limits? (tcp_sndbuf.c)
	return tcp_output(tp);
}

static int tcp_usr_shutdown(struct socket *so)
{
	struct tcpcb *tp = sototcpcb(so);
	if (tp == NULL)
		return 0;
	if ((tp = tcp_usrclosed(tp)) != NULL)
		tcp_output(tp);
	return 0;
}

// PRU_RCVD: the reader made room; tcp_output sends a window update if
// the window grew enough (RFC 9293 3.8.6.2.2).
static int tcp_usr_rcvd(struct socket *so)
{
	struct tcpcb *tp = sototcpcb(so);
	if (tp != NULL && TCPS_HAVEESTABLISHED(tp->t_state))
		tcp_output(tp);
	return 0;
}

static void tcp_fillsin(struct sockaddr_in *sin, uint32 a, uint16 port)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = hton32(a);
	sin->sin_port = hton16(port);
}

static int tcp_usr_sockaddr(struct socket *so, struct sockaddr_in *sin)
{
	struct tcpcb *tp = sototcpcb(so);
	if (tp == NULL) {
		tcp_fillsin(sin, 0, 0);
		return 0;
	}
	tcp_fillsin(sin, tp->t_inp->inp_laddr, tp->t_inp->inp_lport);
	return 0;
}

static int tcp_usr_peeraddr(struct socket *so, struct sockaddr_in *sin)
{
	struct tcpcb *tp = sototcpcb(so);
	if (tp == NULL || tp->t_inp->inp_faddr == INADDR_ANY)
		return -ENOTCONN;
	tcp_fillsin(sin, tp->t_inp->inp_faddr, tp->t_inp->inp_fport);
	return 0;
}

// IPPROTO_TCP options: TCP_NODELAY (get/set), TCP_MAXSEG (get).
static int tcp_usr_ctloutput(struct socket *so, struct sockopt *sopt)
{
	struct tcpcb *tp = sototcpcb(so);
	int v;
	if (sopt->sopt_level != IPPROTO_TCP)
		return -ENOPROTOOPT;
	if (tp == NULL)
		return -ECONNRESET;
	if (sopt->sopt_valsize < sizeof(int))
		return -EINVAL;
	switch (sopt->sopt_name) {
	case TCP_NODELAY:
		if (sopt->sopt_get) {
			v = (tp->t_flags & TF_NODELAY) != 0;
			break;
		}
		memcpy(&v, sopt->sopt_val, sizeof(int));
		if (v) {
			tp->t_flags |= TF_NODELAY;
			__atomic_or_fetch(&so->so_options, SO_OPT_TCP_NODELAY, __ATOMIC_RELAXED);
		} else {
			tp->t_flags &= ~TF_NODELAY;
			__atomic_and_fetch(&so->so_options, ~SO_OPT_TCP_NODELAY, __ATOMIC_RELAXED);
		}
		if (v && TCPS_HAVEESTABLISHED(tp->t_state))
			tcp_output(tp);   // what Nagle held back may go now
		return 0;
	case TCP_MAXSEG:
		if (!sopt->sopt_get)
			return -EINVAL;   // not settable here
		v = (int)tp->t_maxseg;
		break;
	default:
		return -ENOPROTOOPT;
	}
	memcpy(sopt->sopt_val, &v, sizeof(int));
	sopt->sopt_valsize = sizeof(int);
	return 0;
}

// PRU_ABORT: a listener closed with this child unaccepted (so_accept.c).
static int tcp_usr_abort(struct socket *so)
{
	struct tcpcb *tp = sototcpcb(so);
	if (tp != NULL) {
		tp->t_flags |= TF_NOFDREF;
		tcp_drop(tp, -ECONNABORTED);
	}
	return 0;
}

const struct pr_usrreqs tcp_usrreqs = {
	.pru_attach = tcp_usr_attach,
	.pru_detach = tcp_usr_detach,
	.pru_bind = tcp_usr_bind,
	.pru_listen = tcp_usr_listen,
	.pru_connect = tcp_usr_connect,
	.pru_send = tcp_usr_send,
	.pru_shutdown = tcp_usr_shutdown,
	.pru_rcvd = tcp_usr_rcvd,
	.pru_sockaddr = tcp_usr_sockaddr,
	.pru_peeraddr = tcp_usr_peeraddr,
	.pru_ctloutput = tcp_usr_ctloutput,
	.pru_abort = tcp_usr_abort,
};
