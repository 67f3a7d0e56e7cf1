// Asynchronous PRU_RCVD: the reader's "I made room" reaches TCP without a
// round trip.
//
// Problem: after a read frees receive-buffer space, TCP must learn it so
// it can open the window (a window update; RFC 9293 3.8.6.2.2). The
// reader runs on some CPU, the connection belongs to a netisr on another
// (I1 of net/socket.c). The plain way -- a request message sent with
// lwkt_domsg -- makes the reader sleep until the netisr has run
// tcp_output and replied: two context switches and a wakeup per read,
// for a message whose answer the reader does not even want. Under load
// most of these messages say the same thing ("there is room now").
//
// Idea (DragonFly BSD, commit 96c6eb29 "tcp: Implement asynchronized
// pru_rcvd", 2012; written anew): ONE message, so_rcvdmsg, lives inside
// the socket. The reader sends it with lwkt_sendmsg and goes on reading.
// While it is in flight (not DONE), a reader that frees more room does
// not send again: the message already on its way will make tcp_output
// look at the buffer, and tcp_output reads the CURRENT free space, so it
// covers every read made before it runs. "Send or not" is decided under
// a spinlock, so_rcvdlock, because the reader (sender) and the netisr
// (which replies, making the message DONE) run on different CPUs.
//
// The one subtle point -- the order inside the netisr handler. The
// handler must REPLY (mark the message DONE) BEFORE it calls tcp_output:
//
//   reply early (correct)                 reply late (the lost update)
//   netisr           reader               netisr           reader
//   reply: DONE                           tcp_output: win = W1
//                    read, frees room       (sent: update W1)
//                    DONE? yes: send                         read, frees room
//   tcp_output: win = W2 (>= room)                           DONE? no: skip
//     (sent: update W2)                   reply: DONE
//   [handler runs again: nothing new]     ... nobody sends again: the room
//                                         freed after tcp_output looked is
//                                         never advertised. A sender that
//                                         was waiting for it stalls until
//                                         its persist timer probes.
//
// With the reply first, any read that the handler's tcp_output might not
// see happens after DONE, so that reader sends the message again and a
// second tcp_output sees the room. net.inet.tcp.async_rcvd_reply_late=1
// puts the reply after tcp_output, to make the race visible (tests, the
// lab); never use it otherwise.
//
// The lazy send (net.inet.tcp.async_rcvd_lazy, on by default). With
// kern.sched_wake_affine the reader runs on the CPU of the netisr that
// woke it -- the netisr that owns its connection. A plain lwkt_sendmsg
// there wakes a pinned kernel thread on the sender's own CPU, which
// preempts the reader on its way out of read(2): the netisr runs the
// handler at once and the reader comes back -- the same two context
// switches as the synchronous request, and the next read finds the
// message DONE again, so nothing coalesces (measured on one hart, 4 KB
// reads: 633 switches per MB against 628 for the synchronous request,
// one message per read, none found in flight). lwkt_sendmsg_lazy
// queues the message and wakes the netisr without that preemption: the
// reader reads on; when it has emptied the buffer it sleeps, and the
// netisr runs the handler together with the packets waiting for it, in
// one batch. Reads in between find the message in flight. Measured the
// same way: 84 switches per MB, 17 messages in 575 MB, 24% fewer
// instructions per byte (docs/tcp_rcvd_async.md). How long may the
// update wait? Until the reader blocks or yields, or its quantum ends
// (10 ms), or any plain message for that netisr comes (it hurries the
// netisr: net/lwkt_msg.c, race "lazy owner"). A netisr on another CPU is
// woken (and that CPU kicked) as before.
//
// Message type (docs/conventions.md rule 11): so_rcvdmsg (a struct netmsg_pru)
//   sender: so_rcvd (the reading thread, after a read);
//   target: the netisr of so_cpu; handler tcp_rcvd_async_handler;
//   reply port: none (the reply only sets DONE, which the next sender
//   tests under so_rcvdlock);
//   freed by: nobody -- it is embedded in the socket. Its life rule:
//   the sender takes a socket reference (soref) when it sends, the
//   handler drops it (sorele) after replying, as its very last act. So
//   the socket, and the message in it, outlive every flight, whatever
//   close(2) does meanwhile.
//
// Invariants:
//   I1 so_rcvdmsg is DONE iff it is not in flight; it is sent only under
//      so_rcvdlock after seeing DONE, and replied only under so_rcvdlock.
//   I2 While it is in flight the socket holds one extra reference (taken
//      by the sender, dropped by the handler after the reply): a close
//      during the flight never frees the socket under the handler.
//   I3 (reply early) Every read that frees room either happens before
//      the handler's tcp_output reads the buffer, or finds the message
//      DONE and sends it again: no freed room goes unannounced.
//   I4 The handler touches the socket only through the reference of I2,
//      and the tcpcb only if the socket still has one (so_pcb; a closed
//      connection has none: nothing to update).
//
// Locking: so_rcvdlock (a spinlock) orders send vs reply of so_rcvdmsg.
// Lock order: so_rcvdlock, then the target port's lock (lwkt_sendmsg
// queues under it; never sleeps). No sockbuf lock is held here.
//
// Races:
//   - "update during output" (I3): drawn above.
//   - "close while in flight" (I2): soclose's PRU_DETACH may run before
//     the handler (it is queued behind it on the netisr, but in a host
//     test it can run inline); the handler then finds so_pcb NULL or a
//     tcpcb that ends by itself, does no harm, and its sorele may be the
//     last one, which frees the socket -- after the reply, never before.
//   - "switch flipped at run time": net.inet.tcp.async_rcvd is read once
//     per so_rcvd call; a synchronous request and an asynchronous one for
//     the same socket are two different messages, both harmless. So are
//     async_rcvd_lazy and rcvd_every_read (read once per send / per copy).
//   - "lazy update never runs": a lazily woken netisr on the reader's
//     CPU is RUNNABLE on that CPU's queue; it runs when the reader blocks
//     (the usual case: it read the buffer empty), yields, or exhausts its
//     quantum -- the timer then preempts it (kernel/trap.c) and kernel
//     threads run first (kernel/sched.c). So the update is late by at
//     most one quantum, never lost; I3 is unchanged (the handler still
//     replies before tcp_output).
//
// Life of a window update: read(2) -> soreceive -> soreceive_stream
// (or the generic path) -> so_rcvd -> [so_rcvdlock: DONE? soref +
// lwkt_sendmsg_lazy] -> (the reader reads on, then sleeps) -> netisr:
// tcp_rcvd_async_handler -> reply (DONE) -> tcp_output (window update if
// the window grew enough) -> sorele.
//
// Counters (net.inet.tcp.*): rcvd_async_sent, rcvd_async_inflight (reads
// that found it in flight), rcvd_sync, rcvd_reads (stream reads that
// moved data), rcvd_reads_full (of those, reads that began at a buffer at
// least half full: the ones that owe PRU_RCVD, see so_rcvd_owed). With
// net.inet.tcp.rcvd_every_read=1 every read owes one, as in DragonFly's
// soreceive: for measuring what the message saves (make bench).
//
// Testing: make hosttest (tcp_rcvd_async_*: the lost window update with
// the late reply stalls the transfer until persist, the early reply does
// not; close while the message is in flight frees the socket only after
// the handler ran); in the guest: rcvdrace (user/rcvdrace.c: with the
// late reply the window updates are lost, with the rule none is) and
// nettests tcprcvdclose (close right after the message was sent, 30
// times); lwkt_lazy_send_is_hurried_by_a_plain_one (the lazy wake and
// the hurry, tests/host/test_lwkt.c). gdb: break tcp_rcvd_async_handler.
//
// References: DragonFly BSD commit 96c6eb29 (2012), sys/kern/uipc_msg.c
// so_pru_rcvd_async and netinet/tcp_usrreq.c tcp_usr_rcvd (the reply
// before tcp_output); RFC 9293 3.8.6.2.2 (when to send a window update).
#include "net/tcp_var.h"
#include "net/in_pcb.h"
#include "net/socket.h"
#include "net/netisr.h"

// [a] 1: asynchronous PRU_RCVD (this file); 0: a synchronous request.
int tcp_async_rcvd = 1;
NET_SYSCTL_INT_RANGE(tcp_async_rcvd, "net.inet.tcp.async_rcvd", SYSCTL_RW, &tcp_async_rcvd,
		     0, 1, "1: window updates by an asynchronous embedded message");
// [a] 1: the handler replies AFTER tcp_output -- the lost-update race.
int tcp_async_rcvd_reply_late = 0;
NET_SYSCTL_INT_RANGE(tcp_async_rcvd_reply_late, "net.inet.tcp.async_rcvd_reply_late",
		     SYSCTL_RW, &tcp_async_rcvd_reply_late, 0, 1,
		     "1: reply after tcp_output (shows the lost window update)");

// [a] 1: so_rcvdmsg is sent with lwkt_sendmsg_lazy: a netisr on the
// reader's own CPU does not preempt the reader at once, but runs when the
// reader blocks (its next read finds the buffer empty) or yields, or its
// quantum ends, or another message for that netisr comes. Later reads
// meanwhile find the message in flight: one message and one pair of
// context switches for many reads. 0: lwkt_sendmsg (the netisr preempts
// the reader on its way out of read(2): the same two switches per message
// as the synchronous request).
int tcp_async_rcvd_lazy = 1;
NET_SYSCTL_INT_RANGE(tcp_async_rcvd_lazy, "net.inet.tcp.async_rcvd_lazy", SYSCTL_RW,
		     &tcp_async_rcvd_lazy, 0, 1,
		     "1: the PRU_RCVD message does not preempt the reader on its CPU");

// [a] Demonstration only (default 0): the handler sleeps this long
// between its two steps, so that a reader on any CPU -- even the
// netisr's own -- can land in the race window (user program rcvdrace).
int tcp_async_rcvd_hold_ms = 0;
NET_SYSCTL_INT_RANGE(tcp_async_rcvd_hold_ms, "net.inet.tcp.async_rcvd_hold_ms", SYSCTL_RW,
		     &tcp_async_rcvd_hold_ms, 0, 1000,
		     "demo: the PRU_RCVD handler waits this long between reply and output");

static uint64 rcvd_async_sent;      // [a] messages sent
static uint64 rcvd_async_inflight;  // [a] reads that found it in flight (no send)
static uint64 rcvd_sync;            // [a] synchronous requests
NET_SYSCTL_UINT64(tcp_rcvd_async_sent, "net.inet.tcp.rcvd_async_sent", SYSCTL_RD,
		  &rcvd_async_sent, "asynchronous PRU_RCVD messages sent");
NET_SYSCTL_UINT64(tcp_rcvd_async_inflight, "net.inet.tcp.rcvd_async_inflight", SYSCTL_RD,
		  &rcvd_async_inflight, "reads that found the PRU_RCVD message in flight");
NET_SYSCTL_UINT64(tcp_rcvd_sync, "net.inet.tcp.rcvd_sync", SYSCTL_RD, &rcvd_sync,
		  "synchronous PRU_RCVD requests");
static uint64 rcvd_reads;           // [a] stream reads that moved data
static uint64 rcvd_reads_full;      // [a] ... from a buffer at least half full
NET_SYSCTL_UINT64(tcp_rcvd_reads, "net.inet.tcp.rcvd_reads", SYSCTL_RD, &rcvd_reads,
		  "stream reads that moved data (PRU_RCVD protocols)");
NET_SYSCTL_UINT64(tcp_rcvd_reads_full, "net.inet.tcp.rcvd_reads_full", SYSCTL_RD,
		  &rcvd_reads_full, "stream reads that began at a half-full buffer");

// [a] 1: every read that moves data sends PRU_RCVD, as DragonFly's
// soreceive does (the configuration of the figure in 96c6eb29). 0 (the
// default): only a read that starts at a buffer at least half full (see
// so_rcvd_owed). For measurements: it shows what the asynchronous message
// saves when there is one per read.
int tcp_rcvd_every_read = 0;
NET_SYSCTL_INT_RANGE(tcp_rcvd_every_read, "net.inet.tcp.rcvd_every_read", SYSCTL_RW,
		     &tcp_rcvd_every_read, 0, 1,
		     "1: every stream read sends PRU_RCVD (measurement; 0: half-full reads)");

// Does a read that starts now owe the protocol a PRU_RCVD? The sender can
// be short of window only if the buffer was at least half full when we
// last advertised: below that the window we offered is more than half the
// buffer, and the ACKs of arriving data carry the rest (tcp_output's
// update rule wants the window to grow by half the buffer or two MSS
// while less than half is offered). Caller holds sb->sb_lock.
bool so_rcvd_owed(const struct sockbuf *sb)
{
	return sb->sb_cc >= sb->sb_hiwat / 2 ||
	       __atomic_load_n(&tcp_rcvd_every_read, __ATOMIC_RELAXED);
}

// Count one stream read that moved data (so_rcvdone); full: it owes PRU_RCVD.
void so_rcvd_count(bool full)
{
	__atomic_add_fetch(&rcvd_reads, 1, __ATOMIC_RELAXED);
	if (full)
		__atomic_add_fetch(&rcvd_reads_full, 1, __ATOMIC_RELAXED);
}

// [t] A seam for the host tests only (NULL in the kernel): called in the
// handler between its two steps (reply and tcp_output, in the order the
// switch says), where a reader on another CPU could run. The host test
// reads there to drive the race deterministically.
void (*tcp_rcvd_async_between)(struct socket *so);

static void tcp_rcvd_async_handler(struct lwkt_msg *msg);

void so_rcvd_init(struct socket *so)
{
	net_lock_init(&so->so_rcvdlock, "so_rcvd");
	memset(&so->so_rcvdmsg, 0, sizeof(so->so_rcvdmsg));
	so->so_rcvdmsg.nm_req = PRU_RCVD;
	so->so_rcvdmsg.nm_so = so;
	lwkt_initmsg(&so->so_rcvdmsg.nm_msg, NULL, tcp_rcvd_async_handler, 0);   // DONE
}

// Reply to so_rcvdmsg: DONE, under so_rcvdlock (I1). After this a reader
// may send it again at once: the caller must not touch the message.
static void rcvd_reply(struct socket *so)
{
	net_lock_acquire(&so->so_rcvdlock);
	lwkt_replymsg(&so->so_rcvdmsg.nm_msg, 0);
	net_lock_release(&so->so_rcvdlock);
}

// What the window update does (the protocol's part of PRU_RCVD).
static void rcvd_output(struct socket *so)
{
	struct tcpcb *tp = sototcpcb(so);   // I4
	if (tp != NULL && TCPS_HAVEESTABLISHED(tp->t_state))
		tcp_output(tp);
}

// Between the handler's two steps: where a reader on another CPU may
// run. The demonstration hold sleeps (nobody wakes the channel: only the
// timeout ends it); so_rcvdlock is free while it sleeps.
static void rcvd_between(struct socket *so)
{
	int ms = __atomic_load_n(&tcp_async_rcvd_hold_ms, __ATOMIC_RELAXED);
	if (ms > 0) {
		net_lock_acquire(&so->so_rcvdlock);
		net_sleep_timeout(&so->so_rcvdmsg.nm_arg, &so->so_rcvdlock, ms);
		net_lock_release(&so->so_rcvdlock);
	}
	if (tcp_rcvd_async_between != NULL)
		tcp_rcvd_async_between(so);
}

// Handler of so_rcvdmsg, in the netisr that owns the connection.
static void tcp_rcvd_async_handler(struct lwkt_msg *msg)
{
	struct socket *so = ((struct netmsg_pru *)msg)->nm_so;
	/* LAB rcvd BEGIN: exercise 2, the handler */
	if (__atomic_load_n(&tcp_async_rcvd_reply_late, __ATOMIC_RELAXED)) {
		rcvd_output(so);        // the window is computed here ...
		rcvd_between(so);       // ... a read here finds the message in flight
		rcvd_reply(so);         // ... and is never announced
	} else {
		rcvd_reply(so);         // I3: DONE first: a read from now on resends
		rcvd_between(so);
		rcvd_output(so);
	}
	sorele(so);   // I2: the sender's reference; may free so (after the reply)
	/* LAB rcvd STUB
	rcvd_output(so);
	rcvd_between(so);
	rcvd_reply(so);
	sorele(so);
	   LAB rcvd END */
}

// The reader freed room in so_rcv: tell the protocol. Caller's thread, no
// lock held. Asynchronous: never sleeps; synchronous: sleeps for the reply.
void so_rcvd(struct socket *so)
{
	if (!__atomic_load_n(&tcp_async_rcvd, __ATOMIC_RELAXED)) {
		struct netmsg_pru nm = { 0 };
		__atomic_add_fetch(&rcvd_sync, 1, __ATOMIC_RELAXED);
		so_pru_request(so, &nm, PRU_RCVD);
		return;
	}
	/* LAB rcvd BEGIN: exercise 1, send so_rcvdmsg unless it is in flight */
	net_lock_acquire(&so->so_rcvdlock);
	if (lwkt_msg_done(&so->so_rcvdmsg.nm_msg)) {
		soref(so);   // I2: dropped by the handler
		int cpu = __atomic_load_n(&so->so_cpu, __ATOMIC_ACQUIRE);
		struct lwkt_port *port = netisr_cpuport(cpu);
		if (__atomic_load_n(&tcp_async_rcvd_lazy, __ATOMIC_RELAXED))
			lwkt_sendmsg_lazy(port, &so->so_rcvdmsg.nm_msg);   // see the knob
		else
			lwkt_sendmsg(port, &so->so_rcvdmsg.nm_msg);
		__atomic_add_fetch(&rcvd_async_sent, 1, __ATOMIC_RELAXED);
	} else {
		// In flight: its tcp_output has not read the buffer yet (reply
		// early, I3), so it will see the room we made.
		__atomic_add_fetch(&rcvd_async_inflight, 1, __ATOMIC_RELAXED);
	}
	net_lock_release(&so->so_rcvdlock);
	/* LAB rcvd STUB
	struct netmsg_pru nm = { 0 };   // synchronous: sleeps for the reply
	__atomic_add_fetch(&rcvd_sync, 1, __ATOMIC_RELAXED);
	so_pru_request(so, &nm, PRU_RCVD);
	   LAB rcvd END */
}
