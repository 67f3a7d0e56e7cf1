// The socket layer: socket objects, protocol requests by message, and the
// generic send and receive paths over the socket buffers.
//
// Problem: a user thread on any CPU calls read/sendto/connect on a socket
// whose protocol state (pcb) belongs to one netisr thread (docs/design.md 4).
// It must never touch that state itself, must be able to sleep until data
// or room arrives (and give up on MSG_DONTWAIT / O_NONBLOCK, or when
// killed), and must never panic on what it is passed.
//
// Idea: two meeting points, nothing else.
//   1. Requests (bind, connect, send, shutdown, options, addresses, and
//      attach/detach at socket()/close()) are LWKT messages: the caller
//      fills a struct netmsg_pru on its stack and lwkt_domsg()s it to the
//      port of netisr so_cpu; so_pru_dispatch runs there and calls the
//      protocol (net/protosw.h has the message contract).
//   2. Data is exchanged through the socket buffers (net/sockbuf.c) under
//      their lock: the netisr appends received data to so_rcv and wakes
//      the reader; a writer of a stream waits for room in so_snd and hands
//      the data over with PRU_SEND. Datagrams go straight to PRU_SEND
//      (so_snd only supplies the size limit, as in BSD).
// Socket-level state (so_state, so_options, so_error) is in atomic words:
// a change is made first, then the sockbuf concerned is woken under its
// lock, so a sleeper that tests the state under that lock cannot miss it.
//
// Invariants:
//   I1 so_pcb is only changed in the netisr of so_cpu (pru_* functions);
//      a datagram send may run on its flow's netisr and only reads the
//      pcb's addresses there, atomically (net/so_sendcpu.c I1, I3).
//   I2 After PRU_DETACH has been replied to, no protocol input reaches so
//      (the protocol unlinks the pcb under its table lock in the netisr).
//   I3 so_refs counts the file (until soclose) and the pcb (until the
//      protocol releases it); the last sorele frees the socket and
//      whatever its buffers still hold (mbuf counts return to baseline).
//
// Locking: see net/socket.h's legend. so_rcv and so_snd are never held
// at once; no sockbuf lock is held while a message is sent.
//
// Races:
//   - "state change vs sleeper": atomic state write, then lock + wakeup
//     (so_wake); the sleeper re-tests under the lock (sbwait loops).
//   - "error consumed twice": so_error is taken with an atomic exchange.
//   - "close vs input": soclose detaches first (I2), then flushes.
//   - "two senders on one stream": both may see room and overshoot
//     sb_hiwat by one chunk each; the protocol's window still bounds the
//     wire (documented, harmless).
//
// Life of a datagram sent: sys_sendto -> sosend -> so_mcopyin (user data
// into mbufs: m_getspace, 4 KiB page clusters for the bulk of a large
// write, net.mbuf.page_clusters, as FreeBSD's sosend) -> PRU_SEND message to the netisr of the datagram's flow
// (net/so_sendcpu.c; so_cpu with net.netisr.send_flow=0): rip_send ->
// ip_output.
// Received: see net/sockbuf.c, then soreceive -> soreceive_dgram.
//
// Testing: make hosttest (tests/host/test_sockbuf.c drives soreceive with
// a fake protocol); in the guest: ping, nettests. gdb: break
// so_pru_dispatch, soreceive.
//
// References: McKusick et al., FreeBSD design, ch. 12 (sockets);
// DragonFly BSD sys/kern/uipc_msg.c (socket requests as messages).
#include "net/socket.h"
#include "net/netisr.h"
#include "net/so_accept.h"
#include "kernel/poll.h"

#define SO_LEAD 64     // room in front of user data for the headers
#define SO_CHUNK 65536 // stream send: bytes per PRU_SEND at most

static int so_live;    // [a] sockets allocated now

// The protocol table. UDP ({SOCK_DGRAM, IPPROTO_UDP, PR_ATOMIC|PR_ADDR})
// and TCP ({SOCK_STREAM, IPPROTO_TCP, PR_CONNREQUIRED|PR_WANTRCVD|
// PR_LISTEN}) are added here by their issues; the first entry of a type
// other than SOCK_RAW is that type's default (protocol 0).
static const struct protosw protosw[] = {
	{
		.pr_type = SOCK_RAW,
		.pr_protocol = IPPROTO_ICMP,
		.pr_flags = PR_ATOMIC | PR_ADDR,
		.pr_sendspace = 9216,
		.pr_recvspace = 16384,
		.pr_attach_cpu = rip_attach_cpu,
		.pr_send_cpu = rip_send_cpu,
		.pr_usrreqs = &rip_usrreqs,
		.pr_init = rip_init,
		.pr_name = "raw icmp",
	},
	{
		.pr_type = SOCK_DGRAM,
		.pr_protocol = IPPROTO_UDP,
		.pr_flags = PR_ATOMIC | PR_ADDR,
		.pr_sendspace = 9216,    // BSD udp_sendspace: largest datagram
		.pr_recvspace = 42080,   // BSD udp_recvspace: 40 x 1052
		.pr_attach_cpu = udp_attach_cpu,
		.pr_send_cpu = udp_send_cpu,
		.pr_usrreqs = &udp_usrreqs,
		.pr_init = udp_init,
		.pr_name = "udp",
	},
	{
		.pr_type = SOCK_STREAM,
		.pr_protocol = IPPROTO_TCP,
		.pr_flags = PR_CONNREQUIRED | PR_WANTRCVD | PR_LISTEN,
		.pr_sendspace = 65536,   // what one window can carry (no scaling yet)
		.pr_recvspace = 65535,   // the largest unscaled window
		.pr_attach_cpu = tcp_attach_cpu,
		.pr_usrreqs = &tcp_usrreqs,
		.pr_init = tcp_init,
		.pr_name = "tcp",
	},
};
#define NPROTOSW ((int)(sizeof(protosw) / sizeof(protosw[0])))

const struct protosw *pffindproto(int type, int protocol)
{
	for (int i = 0; i < NPROTOSW; i++) {
		const struct protosw *pr = &protosw[i];
		if (pr->pr_type != type)
			continue;
		if (pr->pr_protocol == protocol || (protocol == 0 && type != SOCK_RAW))
			return pr;
	}
	return NULL;
}

int socket_init(void)
{
	int err = 0;
	for (int i = 0; i < NPROTOSW; i++)
		if (protosw[i].pr_init && (err = protosw[i].pr_init()) < 0)
			break;
	return err;
}

// ---- life cycle -------------------------------------------------------------

struct socket *so_alloc(const struct protosw *pr)
{
	struct socket *so = net_malloc(sizeof(*so));
	if (so == NULL)
		return NULL;
	memset(so, 0, sizeof(*so));
	so->so_type = pr->pr_type;
	so->so_protocol = pr->pr_protocol;
	so->so_proto = pr;
	so->so_refs = 1;
	so->so_rcvcpu = -1;
	sbinit(&so->so_rcv, pr->pr_flags & PR_ATOMIC, pr->pr_recvspace, "so_rcv");
	sbinit(&so->so_snd, pr->pr_flags & PR_ATOMIC, pr->pr_sendspace, "so_snd");
	so_rcvd_init(so);
	net_lock_init(&so->so_qlock, "so_qlock");
	__atomic_add_fetch(&so_live, 1, __ATOMIC_RELAXED);
	return so;
}

int so_count(void)
{
	return __atomic_load_n(&so_live, __ATOMIC_RELAXED);
}

void soref(struct socket *so)
{
	__atomic_add_fetch(&so->so_refs, 1, __ATOMIC_ACQ_REL);
}

void sorele(struct socket *so)
{
	int left = __atomic_sub_fetch(&so->so_refs, 1, __ATOMIC_ACQ_REL);
	KASSERT(left >= 0);
	if (left > 0)
		return;
	sbflush(&so->so_rcv);   // I3
	sbflush(&so->so_snd);
	net_free(so);
	__atomic_sub_fetch(&so_live, 1, __ATOMIC_RELAXED);
}

// ---- requests as messages ---------------------------------------------------

static int so_pru_request_on(struct socket *so, struct netmsg_pru *nm, enum pru_req req,
			     int cpu);

// Handler of struct netmsg_pru: runs in the netisr that owns so (I1).
// A missing pru_* function answers -EOPNOTSUPP (PRU_SEND frees the data).
static void so_pru_dispatch(struct lwkt_msg *msg)
{
	struct netmsg_pru *nm = (struct netmsg_pru *)msg;
	struct socket *so = nm->nm_so;
	const struct pr_usrreqs *u = so->so_proto->pr_usrreqs;
	int err = -EOPNOTSUPP;

	switch (nm->nm_req) {
	case PRU_ATTACH:
		if (u->pru_attach)
			err = u->pru_attach(so, (int)nm->nm_arg);
		break;
	case PRU_DETACH:
		err = u->pru_detach ? u->pru_detach(so) : 0;
		break;
	case PRU_BIND:
		if (u->pru_bind)
			err = u->pru_bind(so, nm->nm_sin);
		break;
	case PRU_CONNECT:
		if (u->pru_connect)
			err = u->pru_connect(so, nm->nm_sin);
		break;
	case PRU_LISTEN:
		if (u->pru_listen)
			err = u->pru_listen(so, (int)nm->nm_arg);
		break;
	case PRU_ACCEPT:
		if (u->pru_accept)
			err = u->pru_accept(so, nm->nm_sin);
		break;
	case PRU_SEND:
		if (u->pru_send)
			err = u->pru_send(so, nm->nm_m, nm->nm_sin);   // consumes nm_m
		else
			m_freem(nm->nm_m);
		break;
	case PRU_SHUTDOWN:
		err = u->pru_shutdown ? u->pru_shutdown(so) : 0;
		break;
	case PRU_RCVD:
		err = u->pru_rcvd ? u->pru_rcvd(so) : 0;
		break;
	case PRU_CONTROL:
		if (u->pru_control)
			err = u->pru_control(so, (unsigned long)nm->nm_arg, nm->nm_data);
		break;
	case PRU_SOCKADDR:
		if (u->pru_sockaddr)
			err = u->pru_sockaddr(so, nm->nm_sin);
		break;
	case PRU_PEERADDR:
		if (u->pru_peeraddr)
			err = u->pru_peeraddr(so, nm->nm_sin);
		break;
	case PRU_CTLOUTPUT:
		err = u->pru_ctloutput ? u->pru_ctloutput(so, nm->nm_sopt) : -ENOPROTOOPT;
		break;
	case PRU_ABORT:
		err = u->pru_abort ? u->pru_abort(so) : 0;
		break;
	case PRU_NREQ:
		break;
	}
	lwkt_replymsg(msg, err);
}

// Send request req (arguments already in *nm) to so's netisr and wait for
// the answer. Thread context; sleeps.
// Send request req to the netisr that owns so and wait for its answer
// (also used by net/sockopt.c). Caller's thread; sleeps.
int so_pru_request(struct socket *so, struct netmsg_pru *nm, enum pru_req req)
{
	return so_pru_request_on(so, nm, req, __atomic_load_n(&so->so_cpu, __ATOMIC_ACQUIRE));
}

// The same, to the netisr of CPU cpu (a send: net/so_sendcpu.c).
static int so_pru_request_on(struct socket *so, struct netmsg_pru *nm, enum pru_req req,
			     int cpu)
{
	nm->nm_req = req;
	nm->nm_so = so;
	lwkt_initmsg(&nm->nm_msg, NULL, so_pru_dispatch, 0);
	return lwkt_domsg(netisr_cpuport(cpu), &nm->nm_msg);
}

// A request whose only argument is an address (in or out).
static int so_pru_addr(struct socket *so, enum pru_req req, struct sockaddr_in *sin)
{
	struct netmsg_pru nm = { .nm_sin = sin };
	return so_pru_request(so, &nm, req);
}

int socreate(int type, int protocol, struct socket **sop)
{
	const struct protosw *pr = pffindproto(type, protocol);
	if (pr == NULL)
		return -EPROTONOSUPPORT;
	struct socket *so = so_alloc(pr);
	if (so == NULL)
		return -ENOMEM;
	so->so_cpu = pr->pr_attach_cpu(so);   // the pcb's netisr (protosw.h)
	struct netmsg_pru nm = { .nm_arg = pr->pr_protocol };
	int err = so_pru_request(so, &nm, PRU_ATTACH);
	if (err < 0) {
		sorele(so);
		return err;
	}
	*sop = so;
	return 0;
}

void soclose(struct socket *so)
{
	bool stream = so->so_proto->pr_flags & PR_CONNREQUIRED;
	if (stream)
		solinger_wait(so);
	__atomic_or_fetch(&so->so_state, SS_CANTSENDMORE | SS_CANTRCVMORE | SS_NOFDREF,
			  __ATOMIC_ACQ_REL);
	struct netmsg_pru nm = { 0 };
	so_pru_request(so, &nm, PRU_DETACH);   // I2: no input from here on
	sbflush(&so->so_rcv);
	// A stream's queued data is still to be sent by the protocol, which
	// holds its own reference; the last sorele frees what is left (I3).
	if (!stream)
		sbflush(&so->so_snd);
	// Whoever polled this socket looks again (targeted, as any change of
	// the socket): not every poller in the system -- inetd rescanning
	// its listeners after each connection a server closes was ~7% of a
	// connection's instructions (docs/reuseport.md).
	sbpollnotify(&so->so_rcv);
	sbpollnotify(&so->so_snd);
	sorele(so);   // the file's reference
}

int sobind(struct socket *so, const struct sockaddr_in *sin)
{
	return so_pru_addr(so, PRU_BIND, (struct sockaddr_in *)sin);
}

int solisten(struct socket *so, int backlog)
{
	if (!(so->so_proto->pr_flags & PR_LISTEN))
		return -EOPNOTSUPP;
	struct netmsg_pru nm = { .nm_arg = backlog };
	return so_pru_request(so, &nm, PRU_LISTEN);
}

int sogetsockname(struct socket *so, struct sockaddr_in *sin)
{
	return so_pru_addr(so, PRU_SOCKADDR, sin);
}

int sogetpeername(struct socket *so, struct sockaddr_in *sin)
{
	return so_pru_addr(so, PRU_PEERADDR, sin);
}

int socontrol(struct socket *so, unsigned long cmd, void *data)
{
	struct netmsg_pru nm = { .nm_arg = (long)cmd, .nm_data = data };
	return so_pru_request(so, &nm, PRU_CONTROL);
}

// ---- state changes (protocols, shutdown, close) -----------------------------

// Wake the sleepers of sb after a state change (see Races).
static void so_wake(struct sockbuf *sb)
{
	net_lock_acquire(&sb->sb_lock);
	sbwakeup(sb);
	net_lock_release(&sb->sb_lock);
}

static void so_setstate(struct socket *so, uint32 set, uint32 clear)
{
	if (set)
		__atomic_or_fetch(&so->so_state, set, __ATOMIC_ACQ_REL);
	if (clear)
		__atomic_and_fetch(&so->so_state, ~clear, __ATOMIC_ACQ_REL);
	so_wake(&so->so_rcv);
	so_wake(&so->so_snd);
}

static uint32 so_getstate(struct socket *so)
{
	return __atomic_load_n(&so->so_state, __ATOMIC_ACQUIRE);
}

void soisconnecting(struct socket *so)
{
	so_setstate(so, SS_ISCONNECTING, 0);
}

void soisconnected(struct socket *so)
{
	so_setstate(so, SS_ISCONNECTED, SS_ISCONNECTING | SS_ISDISCONNECTING);
	soqcomplete(so);   // a listener's child: ready for accept
}

void soisdisconnected(struct socket *so)
{
	so_setstate(so, SS_CANTSENDMORE | SS_CANTRCVMORE,
		    SS_ISCONNECTED | SS_ISCONNECTING | SS_ISDISCONNECTING);
}

void socantsendmore(struct socket *so)
{
	so_setstate(so, SS_CANTSENDMORE, 0);
}

void socantrcvmore(struct socket *so)
{
	so_setstate(so, SS_CANTRCVMORE, 0);
}

void soseterror(struct socket *so, int err)
{
	__atomic_store_n(&so->so_error, err, __ATOMIC_RELEASE);
	so_setstate(so, 0, 0);
}

// Read and clear the pending error (0 if none). Any thread.
int so_takeerror(struct socket *so)
{
	return __atomic_exchange_n(&so->so_error, 0, __ATOMIC_ACQ_REL);
}

int soshutdown(struct socket *so, int how)
{
	if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR)
		return -EINVAL;
	if (!(so_getstate(so) & (SS_ISCONNECTED | SS_ISCONNECTING | SS_ISDISCONNECTING)))
		return -ENOTCONN;
	if (how != SHUT_WR) {
		socantrcvmore(so);
		sbflush(&so->so_rcv);
	}
	if (how != SHUT_RD) {
		socantsendmore(so);
		struct netmsg_pru nm = { 0 };
		return so_pru_request(so, &nm, PRU_SHUTDOWN);
	}
	return 0;
}

// ---- send -------------------------------------------------------------------

// Copy len bytes from uio into a new packet with SO_LEAD bytes of header
// room: m_getspace's buffers, so a 64 KB chunk is 16 page clusters and an
// mbuf (net/mbuf.c "Page clusters"). 0 and *mp, or -ENOBUFS / -EFAULT.
// Thread; does not sleep.
static int so_mcopyin(struct uio *uio, size_t len, struct mbuf **mp)
{
	struct mbuf *m = m_getspace((int)len, SO_LEAD);
	if (m == NULL)
		return -ENOBUFS;
	for (struct mbuf *n = m; n != NULL; n = n->m_next) {
		if (net_uiomove_in(n->m_data, n->m_len, uio) < 0) {
			m_freem(m);
			return -EFAULT;
		}
	}
	*mp = m;
	return 0;
}

static int so_pru_send(struct socket *so, struct mbuf *m, const struct sockaddr_in *to)
{
	struct netmsg_pru nm = { .nm_m = m, .nm_sin = (struct sockaddr_in *)to };
	// A datagram runs on its flow's netisr (net/so_sendcpu.c), a stream
	// chunk on so_cpu (the connection's, which is its flow's).
	return so_pru_request_on(so, &nm, PRU_SEND, so_send_cpu(so, to));
}

// One datagram: all or nothing, at most so_snd's high water mark.
static long sosend_dgram(struct socket *so, struct uio *uio, const struct sockaddr_in *to)
{
	size_t len = uio->uio_resid;
	struct mbuf *m;
	net_lock_acquire(&so->so_snd.sb_lock);
	uint32 hiwat = so->so_snd.sb_hiwat;
	net_lock_release(&so->so_snd.sb_lock);
	if (len > hiwat)
		return -EMSGSIZE;
	int err = so_mcopyin(uio, len, &m);
	if (err == 0)
		err = so_pru_send(so, m, to);
	return err < 0 ? err : (long)len;
}

// Wait until so_snd has room for the next chunk; returns the room, or
// -EPIPE/-EAGAIN/-EINTR/so_error. take: consume so_error (false when
// this write already moved bytes: it returns their count, and the error
// stays for the next call -- taken here it would be lost, and the next
// write would say only EPIPE). Caller holds so_snd.sb_lock.
static long sosend_wait(struct socket *so, size_t resid, bool nonblock, bool take)
{
	struct sockbuf *sb = &so->so_snd;
	for (;;) {
		int err = take ? so_takeerror(so) :   // first: as in sosend
			  __atomic_load_n(&so->so_error, __ATOMIC_ACQUIRE);
		if (err < 0)
			return err;
		if (so_getstate(so) & SS_CANTSENDMORE)
			return -EPIPE;
		uint32 space = sbspace(sb);
		if (space > 0 && (space >= resid || space >= sb->sb_lowat))
			return space;
		if (nonblock)
			return -EAGAIN;
		if ((err = sbwait(sb)) < 0)
			return err;
	}
}

// A stream: as much as fits, chunk by chunk; blocks for room unless
// nonblock. The protocol (PRU_SEND, in its netisr) appends to so_snd.
static long sosend_stream(struct socket *so, struct uio *uio, bool nonblock)
{
	long sent = 0, err = 0;
	while (uio->uio_resid > 0) {
		net_lock_acquire(&so->so_snd.sb_lock);
		long space = sosend_wait(so, uio->uio_resid, nonblock, sent == 0);
		net_lock_release(&so->so_snd.sb_lock);
		if (space < 0) {
			err = space;
			break;
		}
		size_t n = MIN(MIN((size_t)space, uio->uio_resid), (size_t)SO_CHUNK);
		struct mbuf *m;
		if ((err = so_mcopyin(uio, n, &m)) < 0)
			break;
		if ((err = so_pru_send(so, m, NULL)) < 0)
			break;
		sent += n;
	}
	return sent > 0 ? sent : err;
}

long sosend(struct socket *so, struct uio *uio, const struct sockaddr_in *to,
	    int flags, bool nonblock)
{
	const struct protosw *pr = so->so_proto;
	// A pending error first, then EPIPE (Linux's order: the first write
	// after a reset says ECONNRESET and clears it, the next says EPIPE;
	// BSD says EPIPE at once and leaves the error in SO_ERROR). There
	// are no signals here, so no SIGPIPE either.
	int err = so_takeerror(so);
	if (err < 0)
		return err;
	if (so_getstate(so) & SS_CANTSENDMORE)
		return -EPIPE;
	if ((pr->pr_flags & PR_CONNREQUIRED) && !(so_getstate(so) & SS_ISCONNECTED))
		return -ENOTCONN;
	if (pr->pr_flags & PR_ATOMIC)
		return sosend_dgram(so, uio, to);
	return sosend_stream(so, uio, nonblock || (flags & MSG_DONTWAIT));
}

// ---- receive ----------------------------------------------------------------

// Nothing (enough) to read: 1 at end of file, 0 after a wakeup (test
// again), or -Exxx: so_error (taken only if take_error), -EAGAIN,
// -EINTR. Caller holds so_rcv.sb_lock.
static int so_rcvwait(struct socket *so, bool nonblock, bool take_error)
{
	if (__atomic_load_n(&so->so_error, __ATOMIC_ACQUIRE) != 0)
		return take_error ? so_takeerror(so) : 1;
	if (so_getstate(so) & SS_CANTRCVMORE)
		return 1;
	if (nonblock)
		return -EAGAIN;
	return sbwait(&so->so_rcv);
}

// The wait decision of both stream paths (the generic one below and
// soreceive_stream). Enough is queued when so_rcv holds the request
// (capped by SO_RCVLOWAT, or by the buffer with MSG_WAITALL), or anything
// once end of file or an error stops the stream. Else, if this read took
// data from a half-full buffer, first tell the sender about that room
// (MSG_WAITALL: or it waits for window while we wait for data), then look
// again; else so_rcvwait. Caller holds so_rcv.sb_lock (held on return).
int so_rcvready(struct socket *so, struct sorcv *rs, long resid, bool nonblock)
{
	struct sockbuf *sb = &so->so_rcv;
	uint32 need = MIN(resid, rs->waitall ? sb->sb_hiwat : sb->sb_lowat);
	bool stop = (so_getstate(so) & SS_CANTRCVMORE) ||
		    __atomic_load_n(&so->so_error, __ATOMIC_ACQUIRE) != 0;
	if (sb->sb_cc >= need || (sb->sb_cc > 0 && stop))
		return SORCV_COPY;
	if (rs->rcvd && rs->got > rs->told && rs->full) {
		net_lock_release(&sb->sb_lock);
		so_rcvd(so);
		rs->told = rs->got;
		rs->full = false;
		sbrcv_lock(sb, SBRCV_READER);
		return 0;
	}
	return so_rcvwait(so, nonblock, rs->got == 0);
}

// End of a stream read (no lock held): the window update owed for what
// was read from a half-full buffer and not yet announced. so_rcvd
// (net/tcp_rcvd_async.c) tells the protocol that the reader freed room:
// the ONE place PRU_RCVD is sent from, asynchronously (DragonFly commit
// 96c6eb29) or, with net.inet.tcp.async_rcvd=0, as a synchronous request.
// Only after reading from a buffer at least half full: otherwise the last
// window we advertised was more than half the buffer, and the ACKs of
// arriving data carry the rest.
void so_rcvdone(struct socket *so, struct sorcv *rs)
{
	if (rs->rcvd && rs->got > 0)
		so_rcvd_count(rs->full);
	if (rs->rcvd && rs->got > rs->told && rs->full)
		so_rcvd(so);
}

static long soreceive_dgram(struct socket *so, struct uio *uio, struct sockaddr_in *from,
			    int flags, bool nonblock)
{
	struct sockbuf *sb = &so->so_rcv;
	struct mbuf *rec = NULL;
	long n;
	net_lock_acquire(&sb->sb_lock);
	// UDP fast demux: records wait in sb_pcq until a reader (sb_lock
	// holder, the PCQ's one consumer) moves them here (net/sockbuf.c I4).
	while (sbpcqdrain(sb), sb->sb_mb == NULL) {
		int r = so_rcvwait(so, nonblock, true);
		if (r != 0) {
			n = r < 0 ? r : 0;
			goto out_unlock;
		}
	}
	if (from != NULL)
		memcpy(from, mtod(sb->sb_mb, struct sockaddr_in *), sizeof(*from));
	// The rest of a datagram longer than the buffer is discarded.
	n = sbcopyout(sb->sb_mb->m_next, 0, uio->uio_resid, uio);
	if (n >= 0 && !(flags & MSG_PEEK))
		rec = sbunlinkrecord(sb);   // a failed copy leaves the record
out_unlock:
	net_lock_release(&sb->sb_lock);
	if (rec != NULL)
		m_freem(rec);
	return n;
}

// The generic stream receive path: copies out under so_rcv's lock. Its
// replacement for TCP, soreceive_stream (net/soreceive_stream.c, after
// Oppermann's proposal, freebsd-current, 2 March 2007), copies out of the
// lock; net.inet.tcp.soreceive_stream chooses. Caller's thread; sleeps
// unless nonblock.
static long soreceive_generic_stream(struct socket *so, struct uio *uio, int flags,
				     bool nonblock)
{
	struct sockbuf *sb = &so->so_rcv;
	bool peek = flags & MSG_PEEK;
	bool waitall = (flags & MSG_WAITALL) && !peek;
	struct sorcv rs = {.waitall = waitall,
			   .rcvd = !peek && (so->so_proto->pr_flags & PR_WANTRCVD)};
	long err = 0;

	sbrcv_lock(sb, SBRCV_READER);
	while (uio->uio_resid > 0) {
		int r = so_rcvready(so, &rs, uio->uio_resid, nonblock);
		if (r == 0)
			continue;
		if (r != SORCV_COPY) {
			if (r < 0)
				err = r;
			break;
		}
		if (sb->sb_rcvout) {   // a reader of the other path has data out
			if ((err = sbwait_rcvout(sb)) < 0)
				break;
			continue;
		}
		// A read that starts at half full or more must tell the
		// protocol (net/tcp_rcvd_async.c so_rcvd_owed).
		if (so_rcvd_owed(sb))
			rs.full = true;
		long n = sbcopyout(sb->sb_mb, 0, uio->uio_resid, uio);
		if (n < 0) {
			err = n;   // the data stays where it was
			break;
		}
		if (!peek)
			sbdrop(sb, n);
		rs.got += n;
		if (!waitall)
			break;
	}
	net_lock_release(&sb->sb_lock);
	so_rcvdone(so, &rs);
	return rs.got > 0 ? rs.got : err;
}

long soreceive(struct socket *so, struct uio *uio, struct sockaddr_in *from,
	       int flags, bool nonblock)
{
	nonblock = nonblock || (flags & MSG_DONTWAIT);
	if (so->so_rcv.sb_atomic)
		return soreceive_dgram(so, uio, from, flags, nonblock);
	// A stream that never connected (or listens) has nothing to read:
	// ENOTCONN, as BSD and Linux say, instead of sleeping for ever.
	if ((so->so_proto->pr_flags & PR_CONNREQUIRED) &&
	    !(so_getstate(so) & (SS_ISCONNECTED | SS_ISCONNECTING | SS_ISDISCONNECTING |
				 SS_CANTRCVMORE)) &&
	    __atomic_load_n(&so->so_error, __ATOMIC_ACQUIRE) == 0)
		return -ENOTCONN;
	if (from != NULL)
		sogetpeername(so, from);
	if (soreceive_stream_on(so, flags))
		return soreceive_stream(so, uio, flags, nonblock);
	return soreceive_generic_stream(so, uio, flags, nonblock);
}

// ---- poll -------------------------------------------------------------------

int sopoll(struct socket *so, int events)
{
	int rev = 0;
	// Ask for notifications before looking (sbpollnotify's race).
	sbpollrecord(&so->so_rcv);
	sbpollrecord(&so->so_snd);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	uint32 st = so_getstate(so);
	bool err = __atomic_load_n(&so->so_error, __ATOMIC_ACQUIRE) != 0;
	bool rd, wr;

	if (st & SS_ACCEPTCONN) {   // a listener: readable when accept won't block
		rd = soqready(so) || err;
		wr = false;
		goto out;
	}
	net_lock_acquire(&so->so_rcv.sb_lock);
	rd = (so->so_rcv.sb_atomic ? sbhasrecord(&so->so_rcv)
				   : so->so_rcv.sb_cc >= so->so_rcv.sb_lowat) ||
	     (st & SS_CANTRCVMORE) || err;
	net_lock_release(&so->so_rcv.sb_lock);

	if (!(events & POLLOUT) || so->so_snd.sb_atomic) {
		wr = true;   // not asked (unused below), or datagrams: never queued
	} else {
		net_lock_acquire(&so->so_snd.sb_lock);
		wr = sbspace(&so->so_snd) >= so->so_snd.sb_lowat &&
		     (!(so->so_proto->pr_flags & PR_CONNREQUIRED) || (st & SS_ISCONNECTED));
		net_lock_release(&so->so_snd.sb_lock);
		wr = wr || (st & SS_CANTSENDMORE) || err;
	}
out:
	if ((events & POLLIN) && rd)
		rev |= POLLIN;
	if ((events & POLLOUT) && wr)
		rev |= POLLOUT;
	if (err)
		rev |= POLLERR;
	if ((st & SS_CANTRCVMORE) && (st & SS_CANTSENDMORE))
		rev |= POLLHUP;
	return rev;
}
