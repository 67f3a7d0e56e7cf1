// Connection-oriented sockets: listening and the accept queue; connect's
// wait; close's linger. (The generic socket calls are in net/socket.c.)
//
// Problem: a listening TCP socket belongs to the netisr it was created
// on, but each SYN for it arrives on the netisr its new connection's
// 4-tuple hashes to -- any of them -- and that netisr will own the new
// connection. Meanwhile a process sleeps in accept(2) on yet another CPU,
// and the listener may be closed at any moment. The backlog must bound
// how many connections wait; none may leak or be freed twice.
//
// Idea: the accept queue is the one structure shared between netisrs,
// guarded by one spinlock, so_qlock of the listener. A SYN's netisr calls
// sonewconn: under so_qlock it checks SS_ACCEPTCONN and the backlog and
// links a new child socket on so_incq (incomplete: handshake running).
// When the handshake completes, the same netisr moves it to so_comp
// (soqcomplete). accept takes from so_comp under so_qlock, sleeping on
// it. Nothing else of the listener is touched from other netisrs.
//
// Invariants:
//   I1 A child is on at most one queue, and so_head != NULL iff it is
//      queued; so_qlen/so_incqlen count the queues.
//   I2 While queued, the child holds one socket reference for the queue;
//      accept hands it to the new file, soqremove or the PRU_ABORT
//      handler drops it. Its pcb holds another (the protocol's).
//   I3 so_qlen + so_incqlen <= so_qlimit (the backlog): a SYN beyond it
//      is dropped (the peer retransmits it, by then there may be room).
//   I4 SS_ACCEPTCONN is set and cleared under so_qlock; after
//      solisten_close cleared it, sonewconn adds nothing.
//
// Locking: so_qlock, a spinlock; see net/so_accept.h for the order.
//
// Races:
//   - "SYN vs listener close": both under so_qlock (I4); a child created
//     just before the close is on a queue and gets aborted.
//   - "child completes while the listener closes": soqcomplete finds
//     so_head NULL (orphaned under so_qlock); the PRU_ABORT already on its
//     way to the child's netisr drops it.
//   - "accept sleeps while a child completes": accept tests so_comp and
//     sleeps under so_qlock; soqcomplete links and wakes under it.
//   - "accept vs listener close": accept wakes, sees SS_ACCEPTCONN gone,
//     returns -ECONNABORTED.
//
// connect(2) (soconnect) sends PRU_CONNECT and, unless nonblocking,
// sleeps on so_snd until SS_ISCONNECTED or an error (soconnect_wait);
// close(2) with SO_LINGER > 0 shuts the sending side and sleeps until
// SS_SNDDONE or the time is up (solinger_wait). Both re-test under
// so_snd.sb_lock after each wakeup (race "state change vs sleeper" of
// net/socket.c).
//
// Life of a connection: netisr X: tcp_input -> tcp_input_listener ->
// SYN: tcp_syncache_syn (no socket yet) ... third ACK: tcp_syncache_ack
// -> sonewconn (so_incq) -> tcp_established -> soisconnected
// -> soqcomplete (so_comp, wakeup) ... user: accept -> soaccept -> file.
//
// Testing: make hosttest (tcp_listen_backlog, tcp_accept_after_close);
// nettests tcp*. gdb: break sonewconn, soaccept.
//
// References: McKusick et al., FreeBSD design, 12.5 (connection queues,
// so_incomp/so_comp); Stevens, UNP vol. 1, 4.5 (the backlog).
#include "net/so_accept.h"
#include "kernel/socket.h"
#include "net/netisr.h"

void solisten_proto(struct socket *so, int backlog)
{
	if (backlog < 1)
		backlog = 1;
	if (backlog > SOMAXCONN)
		backlog = SOMAXCONN;
	net_lock_acquire(&so->so_qlock);
	so->so_qlimit = backlog;
	__atomic_or_fetch(&so->so_state, SS_ACCEPTCONN, __ATOMIC_ACQ_REL);   // I4
	net_lock_release(&so->so_qlock);
}

// A fresh socket like head (options, buffer sizes), owned by cpu.
static struct socket *so_clone(struct socket *head, int cpu)
{
	struct socket *so = so_alloc(head->so_proto);
	if (so == NULL)
		return NULL;
	so->so_options = __atomic_load_n(&head->so_options, __ATOMIC_RELAXED);
	so->so_linger = __atomic_load_n(&head->so_linger, __ATOMIC_RELAXED);
	so->so_cpu = cpu;
	net_lock_acquire(&head->so_rcv.sb_lock);
	uint32 rcv = head->so_rcv.sb_hiwat, rlow = head->so_rcv.sb_lowat;
	bool rcvuser = head->so_rcv.sb_usersize;
	net_lock_release(&head->so_rcv.sb_lock);
	net_lock_acquire(&head->so_snd.sb_lock);
	uint32 snd = head->so_snd.sb_hiwat;
	bool snduser = head->so_snd.sb_usersize;
	net_lock_release(&head->so_snd.sb_lock);
	(rcvuser ? sbreserve_user : sbreserve)(&so->so_rcv, rcv);   // the user's size stays his
	sbsetlowat(&so->so_rcv, rlow);
	(snduser ? sbreserve_user : sbreserve)(&so->so_snd, snd);
	return so;
}

struct socket *sonewconn(struct socket *head, int cpu)
{
	struct socket *so = so_clone(head, cpu);
	if (so == NULL)
		return NULL;
	net_lock_acquire(&head->so_qlock);
	if (!(__atomic_load_n(&head->so_state, __ATOMIC_ACQUIRE) & SS_ACCEPTCONN) ||
	    head->so_qlen + head->so_incqlen >= head->so_qlimit) {   // I3, I4
		net_lock_release(&head->so_qlock);
		sorele(so);
		return NULL;
	}
	so->so_head = head;
	so->so_qnext = head->so_incq;
	so->so_oncomp = false;
	head->so_incq = so;
	head->so_incqlen++;
	soref(head);   // the child's so_head pointer keeps head alive
	net_lock_release(&head->so_qlock);
	return so;
}

// Unlink so from head's incomplete list. Caller holds head->so_qlock.
static void soq_unlink_inc(struct socket *head, struct socket *so)
{
	for (struct socket **pp = &head->so_incq; *pp; pp = &(*pp)->so_qnext) {
		if (*pp == so) {
			*pp = so->so_qnext;
			head->so_incqlen--;
			so->so_qnext = NULL;
			return;
		}
	}
	panic("so_accept: child not on its listener's queue");   // I1 broken
}

// so's listener, read under no lock: only the child's own netisr and the
// listener's close (which orphans under so_qlock) write so_head, so the
// caller re-checks under the listener's lock. The listener itself is kept
// alive by the reference sonewconn took.
static struct socket *soq_head(struct socket *so)
{
	return __atomic_load_n(&so->so_head, __ATOMIC_ACQUIRE);
}

void soqcomplete(struct socket *so)
{
	struct socket *head = soq_head(so);
	if (head == NULL)
		return;
	net_lock_acquire(&head->so_qlock);
	if (so->so_head == head && !so->so_oncomp) {
		soq_unlink_inc(head, so);
		so->so_oncomp = true;
		if (head->so_comptail)
			head->so_comptail->so_qnext = so;
		else
			head->so_comp = so;
		head->so_comptail = so;
		head->so_qlen++;
		net_wakeup(&head->so_comp);
		sbpollnotify(&head->so_rcv);   // sopoll marks a listener there
	}
	net_lock_release(&head->so_qlock);
}

void soqremove(struct socket *so)
{
	struct socket *head = soq_head(so);
	bool drop = false;
	if (head == NULL)
		return;
	net_lock_acquire(&head->so_qlock);
	if (so->so_head == head && !so->so_oncomp) {
		soq_unlink_inc(head, so);
		__atomic_store_n(&so->so_head, NULL, __ATOMIC_RELEASE);
		drop = true;
	}
	net_lock_release(&head->so_qlock);
	if (drop) {
		sorele(head);   // sonewconn's reference on the listener
		sorele(so);     // I2: the queue's reference
	}
}

// Handler of the PRU_ABORT message solisten_close sends (message type:
// sender solisten_close in the listener's netisr; target the child's
// netisr; no reply port; it is so_abortmsg, embedded in the child, so
// nobody frees it). Aborts the child and drops the queue's reference (I2).
static void soabort_handler(struct lwkt_msg *msg)
{
	struct netmsg_pru *nm = (struct netmsg_pru *)msg;
	struct socket *so = nm->nm_so;
	__atomic_or_fetch(&so->so_state, SS_NOFDREF, __ATOMIC_ACQ_REL);
	if (so->so_proto->pr_usrreqs->pru_abort)
		so->so_proto->pr_usrreqs->pru_abort(so);
	lwkt_replymsg(msg, 0);   // no reply port: marks it DONE
	sorele(so);
}

// Send PRU_ABORT for child so to its netisr, one way (a netisr must not
// wait for another: two could wait for each other). The message lives in
// the child, so this cannot fail.
static void soabort_async(struct socket *so)
{
	struct netmsg_pru *nm = &so->so_abortmsg;
	memset(nm, 0, sizeof(*nm));
	nm->nm_req = PRU_ABORT;
	nm->nm_so = so;
	lwkt_initmsg(&nm->nm_msg, NULL, soabort_handler, 0);
	int cpu = __atomic_load_n(&so->so_cpu, __ATOMIC_ACQUIRE);
	lwkt_sendmsg(netisr_cpuport(cpu), &nm->nm_msg);
}

void solisten_close(struct socket *head)
{
	struct socket *list[2], *so, *next;
	int orphans = 0;
	net_lock_acquire(&head->so_qlock);
	__atomic_and_fetch(&head->so_state, ~SS_ACCEPTCONN, __ATOMIC_ACQ_REL);   // I4
	list[0] = head->so_incq;
	list[1] = head->so_comp;
	head->so_incq = head->so_comp = head->so_comptail = NULL;
	head->so_incqlen = head->so_qlen = 0;
	for (int i = 0; i < 2; i++)
		for (so = list[i]; so; so = so->so_qnext) {
			__atomic_store_n(&so->so_head, NULL, __ATOMIC_RELEASE);
			orphans++;
		}
	net_wakeup(&head->so_comp);   // accept sleepers: -ECONNABORTED
	net_poll_notify();
	net_lock_release(&head->so_qlock);
	for (int i = 0; i < 2; i++)
		for (so = list[i]; so; so = next) {
			next = so->so_qnext;
			so->so_qnext = NULL;
			soabort_async(so);
		}
	while (orphans-- > 0)
		sorele(head);   // sonewconn's references
}

int soaccept(struct socket *head, bool nonblock, struct socket **sop)
{
	int err = 0;
	net_lock_acquire(&head->so_qlock);
	for (;;) {
		if (!(__atomic_load_n(&head->so_state, __ATOMIC_ACQUIRE) & SS_ACCEPTCONN)) {
			err = head->so_qlimit > 0 ? -ECONNABORTED : -EINVAL;
			goto out_unlock;
		}
		if (head->so_comp != NULL)
			break;
		if (nonblock) {
			err = -EAGAIN;
			goto out_unlock;
		}
		if (net_curthread_killed()) {
			err = -EINTR;
			goto out_unlock;
		}
		net_sleep(&head->so_comp, &head->so_qlock);
	}
	struct socket *so = head->so_comp;
	head->so_comp = so->so_qnext;
	if (head->so_comp == NULL)
		head->so_comptail = NULL;
	head->so_qlen--;
	so->so_qnext = NULL;
	so->so_oncomp = false;
	__atomic_store_n(&so->so_head, NULL, __ATOMIC_RELEASE);
	*sop = so;   // I2: the queue's reference is the caller's now
out_unlock:
	net_lock_release(&head->so_qlock);
	if (err == 0)
		sorele(head);   // sonewconn's reference
	return err;
}

bool soqfull(struct socket *head)
{
	net_lock_acquire(&head->so_qlock);
	bool r = head->so_qlen >= head->so_qlimit;
	net_lock_release(&head->so_qlock);
	return r;
}

bool soqready(struct socket *head)
{
	net_lock_acquire(&head->so_qlock);
	bool r = head->so_comp != NULL;
	net_lock_release(&head->so_qlock);
	return r;
}

// ---- connect and linger (streams) ------------------------------------------

// A stream's connect: wait until established, refused or failed.
// Caller's thread; sleeps.
static int soconnect_wait(struct socket *so)
{
	struct sockbuf *sb = &so->so_snd;
	int err;
	net_lock_acquire(&sb->sb_lock);
	for (;;) {
		uint32 st = __atomic_load_n(&so->so_state, __ATOMIC_ACQUIRE);
		if (st & SS_ISCONNECTED) {
			err = 0;
			break;
		}
		if ((err = so_takeerror(so)) < 0)
			break;
		if (!(st & SS_ISCONNECTING)) {
			err = -ECONNABORTED;   // ended without saying why
			break;
		}
		if ((err = sbwait(sb)) < 0)
			break;
	}
	net_lock_release(&sb->sb_lock);
	return err;
}

int soconnect(struct socket *so, const struct sockaddr_in *sin, bool nonblock)
{
	struct netmsg_pru nm = { .nm_sin = (struct sockaddr_in *)sin };
	int err = so_pru_request(so, &nm, PRU_CONNECT);
	if (err < 0 || !(so->so_proto->pr_flags & PR_CONNREQUIRED))
		return err;
	if (nonblock)
		return (__atomic_load_n(&so->so_state, __ATOMIC_ACQUIRE) & SS_ISCONNECTED) ? 0 : -EINPROGRESS;
	return soconnect_wait(so);
}

// SO_LINGER with a positive time on a connected stream: send our FIN now
// and wait until everything we sent is acknowledged (the protocol sets
// SS_SNDDONE), the connection ends, or the time runs out (then the close
// goes on in the background, as BSD does). Thread; sleeps.
void solinger_wait(struct socket *so)
{
	uint32 st = __atomic_load_n(&so->so_state, __ATOMIC_ACQUIRE);
	int secs = __atomic_load_n(&so->so_linger, __ATOMIC_RELAXED);
	if (!(__atomic_load_n(&so->so_options, __ATOMIC_RELAXED) & SO_OPT_LINGER) ||
	    secs <= 0 || !(st & SS_ISCONNECTED))
		return;
	if (soshutdown(so, SHUT_WR) < 0)
		return;
	uint64 end = net_now_ms() + (uint64)secs * 1000;
	struct sockbuf *sb = &so->so_snd;
	net_lock_acquire(&sb->sb_lock);
	for (;;) {
		st = __atomic_load_n(&so->so_state, __ATOMIC_ACQUIRE);
		uint64 now = net_now_ms();
		if ((st & SS_SNDDONE) || !(st & (SS_ISCONNECTED | SS_ISDISCONNECTING)) ||
		    __atomic_load_n(&so->so_error, __ATOMIC_ACQUIRE) != 0 || now >= end ||
		    net_curthread_killed())
			break;
		net_sleep_timeout(sb, &sb->sb_lock, (int)MIN(end - now, (uint64)1000));
	}
	net_lock_release(&sb->sb_lock);
}
