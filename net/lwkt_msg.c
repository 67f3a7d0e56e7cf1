// lwkt_msg: messages and ports, the way threads of the network stack hand
// work to each other (DragonFly BSD's LWKT messages, written anew).
//
// Problem
//   Protocol state (a TCP connection, say) is owned by exactly one netisr
//   thread (docs/design.md 4). Everyone else -- the e1000 interrupt, a user
//   thread in a system call, a callout -- must ask that thread to do the
//   work instead of taking a lock. They need a way to hand over a request
//   without allocating (packets arrive in interrupts), to wait for an
//   answer when they need one, and never to lose or double-run a request.
//
// Idea
//   A message (struct lwkt_msg) is a small record embedded in the object
//   it is about: the mbuf's packet header, the socket, a stack variable
//   of a system call. A port (struct lwkt_port) is a spinlock-protected
//   FIFO owned by one thread. Sending links the message onto the port;
//   the owner takes it off and runs ms_handler(msg); the handler replies.
//   Nothing is allocated or copied: ownership of the memory moves.
//
// Invariants
//   I1 A message belongs to exactly one party at a time: its originator
//      (MSGF_DONE set), a port queue (MSGF_QUEUED set, DONE clear), or the
//      thread running its handler (neither set). Only the owner touches
//      the message's [o] fields.
//   I2 DONE and QUEUED are never both set, except on a reply port: a
//      reply queued on ms_reply_port has DONE|REPLIED|QUEUED, and it goes
//      back to the originator when lwkt_getport clears QUEUED.
//   I3 lwkt_sendmsg/lwkt_domsg require DONE && !QUEUED (the message is the
//      sender's); lwkt_replymsg requires !DONE && !QUEUED && !REPLIED (the
//      message is the handler's and has not been answered yet). Every
//      transition asserts its precondition: a double send or double reply
//      is a kernel bug and panics at the line that made it.
//   I4 A port's queue is FIFO, except that MSGF_PRIORITY messages go to
//      the head (a later priority message overtakes an earlier one).
//   I5 Only the port's owner dequeues (lwkt_getport/lwkt_waitport);
//      anyone may enqueue; the originator may withdraw (lwkt_dropmsg).
//
// Locking
//   port->mp_lock (a spinlock, interrupts off) protects the queue and
//   mp_waiting. ms_flags is changed with atomic read-modify-writes: the
//   QUEUED transitions happen under the port lock, DONE/REPLIED by the
//   party that owns the message. A lwkt_domsg waiter sleeps on the
//   message under one of the small array of sync_locks (chosen by the
//   message's address); lwkt_replymsg sets DONE under the same lock, so
//   the wakeup cannot fall between the waiter's test and its sleep.
//   Lock order (kernel/lock.h): a port lock and a sync lock are never
//   held together, and no other net lock is taken under either. Under a
//   port lock only its owner's own p->lock is taken (net_sleep); senders
//   call net_wakeup after releasing it. Under a sync lock, lwkt_replymsg's
//   net_wakeup takes the waiters' p->locks.
//
// Races (named), and where each is handled
//   "lost port wakeup": the owner finds the queue empty and is about to
//      sleep while another CPU enqueues. lwkt_waitport tests the queue and
//      sleeps with mp_lock held (net_sleep releases it atomically);
//      port_enqueue sets the message under the same lock and wakes.
//   "lost reply wakeup": the handler replies between the domsg waiter's
//      test of DONE and its sleep. Both use sync_lock(msg): see
//      lwkt_domsg and reply_sync.
//   "self-send deadlock": a thread lwkt_domsg()s to its own port; it
//      would sleep waiting for itself. lwkt_domsg runs the handler inline
//      when port->mp_owner is the caller.
//   "drop versus dequeue": the originator tries to withdraw a message
//      while the owner takes it. Both run under mp_lock and test QUEUED
//      there: exactly one wins (lwkt_dropmsg returns false if the owner
//      won, and the originator must then wait for the reply).
//   "lazy owner": lwkt_sendmsg_lazy woke a sleeping owner without letting
//      it preempt the sender's CPU (net_wakeup_lazy); a plain message
//      that arrives before the owner runs must not wait behind the
//      sender's quantum. The lazy wake sets mp_lazy under mp_lock; the
//      next plain sender that finds it set (owner not sleeping) clears
//      it and hurries the owner (net_hurry: need_resched on its CPU);
//      the owner clears it when it dequeues. See port_put.
//   "reuse before reply": the originator resends an embedded message
//      that is still in flight (the asynchronous pru_rcvd). The DONE assertion
//      in lwkt_sendmsg catches it; callers test lwkt_msg_done() under
//      their own lock first.
//
// Life of a message (a UDP sendto)
//   user thread:   sosend -> so_pru_request (net/socket.c):
//                  lwkt_initmsg(&nm->nm_msg, NULL, so_pru_dispatch, 0)
//                  lwkt_domsg(netisr_cpuport(so->so_cpu), &nm->nm_msg)
//                  -> sleeps
//   netisr thread: lwkt_waitport -> msg; msg->ms_handler(msg), which is
//                  so_pru_dispatch -> pru_send = udp_send ...
//                  lwkt_replymsg(msg, err)
//   user thread:   wakes with DONE set, returns ms_error
//   A received packet travels one way instead: netisr_dispatch sends the
//   message embedded in the mbuf's packet header; the handler consumes the
//   mbuf and never replies (there is nobody to reply to).
//
// Message types (docs/conventions.md rule 11) are documented where they are
// defined: the packet message in net/netisr.h, later ones in their files.
//
// Testing
//   make hosttest (tests/host/test_lwkt.c): ping-pong between two threads,
//   FIFO order, priority to head, domsg to own port runs inline, dropmsg
//   of a queued message, reply flags. gdb: break lwkt_replymsg, watch
//   msg->ms_flags.
//
// References
//   DragonFly BSD sys/kern/lwkt_msgport.c and sys/sys/msgport.h (the
//   model: MSGF_DONE/QUEUED/REPLY/SYNC, lwkt_domsg, lwkt_dropmsg);
//   DragonFly commit 96c6eb29 "tcp: Implement asynchronized pru_rcvd"
//   (2012: asynchronous pru_rcvd by an embedded message).
#include "net/lwkt_msg.h"

// lwkt_domsg waiters and reply_sync meet under one of these.
#define NSYNCLOCK 16
static struct net_lock sync_locks[NSYNCLOCK];
static bool sync_locks_ready;   // [a]

static struct net_lock *sync_lock(struct lwkt_msg *msg)
{
	return &sync_locks[((uint64)msg >> 4) % NSYNCLOCK];
}

// Idempotent; called on every port init so no separate init call is needed
// (ports are set up single-threaded at boot or in a test's setup).
static void sync_locks_init(void)
{
	if (__atomic_load_n(&sync_locks_ready, __ATOMIC_ACQUIRE))
		return;
	for (int i = 0; i < NSYNCLOCK; i++)
		net_lock_init(&sync_locks[i], "lwkt_sync");
	__atomic_store_n(&sync_locks_ready, true, __ATOMIC_RELEASE);
}

static uint32 flags_get(struct lwkt_msg *msg)
{
	return __atomic_load_n(&msg->ms_flags, __ATOMIC_ACQUIRE);
}

static void flags_set(struct lwkt_msg *msg, uint32 f)
{
	__atomic_fetch_or(&msg->ms_flags, f, __ATOMIC_ACQ_REL);
}

static void flags_clear(struct lwkt_msg *msg, uint32 f)
{
	__atomic_fetch_and(&msg->ms_flags, ~f, __ATOMIC_ACQ_REL);
}

void lwkt_initport(struct lwkt_port *port, const char *name)
{
	sync_locks_init();
	net_lock_init(&port->mp_lock, "lwkt_port");  // one class for all ports
	port->mp_head = port->mp_tail = NULL;
	port->mp_waiting = false;
	port->mp_lazy = false;
	port->mp_owner = NULL;
	port->mp_name = name;
	port->mp_nqueued = 0;
}

// Called by the thread that will receive from port, once it runs.
void lwkt_port_setowner(struct lwkt_port *port)
{
	__atomic_store_n(&port->mp_owner, net_curthread(), __ATOMIC_RELEASE);
}

void lwkt_initmsg(struct lwkt_msg *msg, struct lwkt_port *reply_port,
		  lwkt_handler_t handler, uint32 flags)
{
	KASSERT((flags & ~MSGF_PRIORITY) == 0);
	msg->ms_next = NULL;
	msg->ms_target = NULL;
	msg->ms_reply_port = reply_port;
	msg->ms_handler = handler;
	msg->ms_flags = MSGF_DONE | flags;
	msg->ms_error = 0;
}

bool lwkt_msg_done(struct lwkt_msg *msg)
{
	return (flags_get(msg) & MSGF_DONE) != 0;
}

// Link msg onto port (head if PRIORITY) and wake the owner if it sleeps.
// QUEUED and the caller's extra flags are set in one atomic step under the
// lock (race "drop versus dequeue"; and a reply's DONE never shows without
// QUEUED, so a polling originator cannot resend a reply still queued).
// Any context; never sleeps. lazy: see lwkt_sendmsg_lazy.
static void port_put(struct lwkt_port *port, struct lwkt_msg *msg, uint32 extra, bool lazy)
{
	net_lock_acquire(&port->mp_lock);
	KASSERT((flags_get(msg) & MSGF_QUEUED) == 0);
	flags_set(msg, MSGF_QUEUED | extra);
	msg->ms_next = NULL;
	if (port->mp_head == NULL) {
		port->mp_head = port->mp_tail = msg;
	} else if (flags_get(msg) & MSGF_PRIORITY) {
		msg->ms_next = port->mp_head;   // I4: priority to the head
		port->mp_head = msg;
	} else {
		port->mp_tail->ms_next = msg;
		port->mp_tail = msg;
	}
	port->mp_nqueued++;
	// Only the first sender after the owner went to sleep wakes it: it
	// clears mp_waiting, so the senders that follow (a driver handing up
	// a burst of frames before the owner gets to run) find it clear and
	// skip net_wakeup, which scans every process slot. The owner, once
	// running, sees all their messages before it sleeps again.
	bool wake = port->mp_waiting;
	port->mp_waiting = false;
	// Race "lazy owner": a lazy send woke the owner without letting it
	// preempt; a plain message that comes before it runs must not wait
	// for that: it hurries the owner (mp_lazy is cleared by the owner
	// when it dequeues, and by the first plain sender).
	bool hurry = !wake && !lazy && port->mp_lazy;
	if (wake)
		port->mp_lazy = lazy;
	else if (hurry)
		port->mp_lazy = false;
	net_lock_release(&port->mp_lock);
	// Race "lost port wakeup": the owner set mp_waiting and went to sleep
	// under mp_lock, so it is asleep (or about to be, holding its own
	// scheduler lock) by the time we get here; waking after the release
	// keeps the sender's time under the port lock short (wakeup scans
	// every p->lock).
	if (wake && lazy)
		net_wakeup_lazy(port);
	else if (wake)
		net_wakeup(port);
	else if (hurry && port->mp_owner != NULL)
		net_hurry(port->mp_owner);
}

static void port_enqueue(struct lwkt_port *port, struct lwkt_msg *msg, uint32 extra)
{
	port_put(port, msg, extra, false);
}

static void sendmsg_common(struct lwkt_port *port, struct lwkt_msg *msg, bool lazy)
{
	uint32 f = flags_get(msg);
	// I3: the message must be the sender's own.
	KASSERT((f & MSGF_DONE) != 0);
	KASSERT((f & MSGF_QUEUED) == 0);
	msg->ms_target = port;
	msg->ms_error = 0;
	flags_clear(msg, MSGF_DONE | MSGF_REPLIED);
	port_put(port, msg, 0, lazy);
}

void lwkt_sendmsg(struct lwkt_port *port, struct lwkt_msg *msg)
{
	sendmsg_common(port, msg, false);
}

void lwkt_sendmsg_lazy(struct lwkt_port *port, struct lwkt_msg *msg)
{
	sendmsg_common(port, msg, true);
}

// Reply to a lwkt_domsg waiter: DONE is set under the sync lock the
// waiter tests it under (race "lost reply wakeup"). After the release the
// message is the waiter's again and may vanish (it often lives on the
// waiter's stack): do not touch msg after net_lock_release.
static void reply_sync(struct lwkt_msg *msg)
{
	struct net_lock *lk = sync_lock(msg);
	net_lock_acquire(lk);
	flags_set(msg, MSGF_DONE | MSGF_REPLIED);
	net_wakeup(msg);
	net_lock_release(lk);
}

void lwkt_replymsg(struct lwkt_msg *msg, int error)
{
	uint32 f = flags_get(msg);
	// I3: only the handler (owner) replies, and only once.
	KASSERT((f & (MSGF_DONE | MSGF_QUEUED | MSGF_REPLIED)) == 0);
	msg->ms_error = error;
	if (f & MSGF_SYNC) {
		reply_sync(msg);
	/* LAB lwkt BEGIN: exercise 3, reply through the reply port */
	} else if (msg->ms_reply_port != NULL) {
		// I2: back to the originator through its reply port.
		port_enqueue(msg->ms_reply_port, msg, MSGF_DONE | MSGF_REPLIED);
	/* LAB lwkt STUB
	   LAB lwkt END */
	} else {
		// No reply port: the originator polls DONE (as the
		// asynchronous pru_rcvd does).
		flags_set(msg, MSGF_DONE | MSGF_REPLIED);
	}
}

// Wait until msg is DONE (replied). Thread context; sleeps.
static void wait_done(struct lwkt_msg *msg)
{
	struct net_lock *lk = sync_lock(msg);
	net_lock_acquire(lk);
	while ((flags_get(msg) & MSGF_DONE) == 0)
		net_sleep(msg, lk);
	net_lock_release(lk);
}

int lwkt_domsg(struct lwkt_port *port, struct lwkt_msg *msg)
{
	uint32 f = flags_get(msg);
	KASSERT((f & MSGF_DONE) != 0);
	KASSERT((f & MSGF_QUEUED) == 0);
	msg->ms_target = port;
	msg->ms_error = 0;
	flags_clear(msg, MSGF_DONE | MSGF_REPLIED);
	flags_set(msg, MSGF_SYNC);
	/* LAB lwkt BEGIN: exercise 2, a message to your own port */
	if (__atomic_load_n(&port->mp_owner, __ATOMIC_ACQUIRE) == net_curthread()) {
		// Race "self-send deadlock": we are the thread that would
		// have to run the handler, so run it now. It normally
		// replies before returning; if it forwarded the message
		// instead, wait_done below waits for the real reply.
		// Indirect call: for lwkt_domsg in this kernel ms_handler is
		// so_pru_dispatch (net/socket.c, a socket request) or a host
		// test's handler.
		msg->ms_handler(msg);
	} else {
		port_enqueue(port, msg, 0);
	}
	/* LAB lwkt STUB
	port_enqueue(port, msg, 0);
	   LAB lwkt END */
	wait_done(msg);
	flags_clear(msg, MSGF_SYNC);
	return msg->ms_error;
}

bool lwkt_dropmsg(struct lwkt_port *port, struct lwkt_msg *msg)
{
	bool removed = false;
	net_lock_acquire(&port->mp_lock);
	// Race "drop versus dequeue": QUEUED is only cleared under mp_lock,
	// so testing it here decides who won.
	if ((flags_get(msg) & MSGF_QUEUED) && msg->ms_target == port) {
		struct lwkt_msg *prev = NULL;
		for (struct lwkt_msg *m = port->mp_head; m; prev = m, m = m->ms_next) {
			if (m != msg)
				continue;
			if (prev)
				prev->ms_next = m->ms_next;
			else
				port->mp_head = m->ms_next;
			if (port->mp_tail == m)
				port->mp_tail = prev;
			removed = true;
			break;
		}
		KASSERT(removed);   // QUEUED on this port => on its list
		// A lwkt_domsg waiter is its message's only originator and is
		// asleep: nobody else may withdraw a synchronous message.
		KASSERT((flags_get(msg) & MSGF_SYNC) == 0);
		msg->ms_next = NULL;
		flags_clear(msg, MSGF_QUEUED);
		flags_set(msg, MSGF_DONE);   // I1: back to the originator
	}
	net_lock_release(&port->mp_lock);
	return removed;
}

// Unlink the head of port's queue. Caller holds mp_lock.
static struct lwkt_msg *port_dequeue(struct lwkt_port *port)
{
	KASSERT(net_lock_held(&port->mp_lock));
	struct lwkt_msg *msg = port->mp_head;
	if (msg == NULL)
		return NULL;
	port->mp_head = msg->ms_next;
	if (port->mp_head == NULL)
		port->mp_tail = NULL;
	msg->ms_next = NULL;
	port->mp_lazy = false;   // the owner runs: nobody need hurry it
	KASSERT(flags_get(msg) & MSGF_QUEUED);
	flags_clear(msg, MSGF_QUEUED);   // I1: now the receiver's
	return msg;
}

struct lwkt_msg *lwkt_getport(struct lwkt_port *port)
{
	net_lock_acquire(&port->mp_lock);
	struct lwkt_msg *msg = port_dequeue(port);
	net_lock_release(&port->mp_lock);
	return msg;
}

// Sleep until a message arrives. Only the owner of port calls this.
struct lwkt_msg *lwkt_waitport(struct lwkt_port *port)
{
	net_lock_acquire(&port->mp_lock);
	struct lwkt_msg *msg;
	// Race "lost port wakeup": test and sleep under mp_lock.
	while ((msg = port_dequeue(port)) == NULL) {
		port->mp_waiting = true;
		net_sleep(port, &port->mp_lock);
		port->mp_waiting = false;
	}
	net_lock_release(&port->mp_lock);
	return msg;
}
