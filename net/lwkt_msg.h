// LWKT messages and ports (DragonFly style): how threads of the network
// stack hand work to each other. The design essay is at the top of
// net/lwkt_msg.c; this header gives the types, the flags and the contract
// of each call.
//
// Lock legend: kernel/lock.h ([s] = the port's mp_lock, [i] = set at
// init, [o] = owned by whichever party holds the message, see below).
#pragma once
#include "net/shim.h"

struct lwkt_msg;
struct lwkt_port;

// A handler runs in the thread that owns the target port. It owns msg
// until it replies (lwkt_replymsg) or, for one-way messages, until it
// has consumed the object that embeds msg.
typedef void (*lwkt_handler_t)(struct lwkt_msg *msg);

// Message flags (ms_flags). Who may change them: see "Invariants" in
// net/lwkt_msg.c.
#define MSGF_DONE     0x01  // owned by its originator: may be (re)sent
#define MSGF_QUEUED   0x02  // on some port's queue (mp_lock of that port)
#define MSGF_REPLIED  0x04  // lwkt_replymsg has been called since the send
#define MSGF_SYNC     0x08  // sent by lwkt_domsg: a thread waits for DONE
#define MSGF_PRIORITY 0x10  // queue at the head of the target port

struct lwkt_msg {
	struct lwkt_msg *ms_next;          // [s] queue link while QUEUED
	struct lwkt_port *ms_target;       // [o] port it was last sent to
	struct lwkt_port *ms_reply_port;   // [o] where replies go; NULL: none
	lwkt_handler_t ms_handler;         // [o] run by the target's owner
	uint32 ms_flags;                   // [o]/[s] MSGF_*
	int ms_error;                      // [o] result, set by lwkt_replymsg
};

struct lwkt_port {
	struct net_lock mp_lock;
	struct lwkt_msg *mp_head;          // [s] FIFO of queued messages
	struct lwkt_msg *mp_tail;          // [s]
	bool mp_waiting;                   // [s] owner sleeps in lwkt_waitport
	bool mp_lazy;                      // [s] owner woken by a lazy send, not yet
	                                   //     running: a plain send hurries it
	void *mp_owner;                    // [a] owning thread (net_curthread)
	const char *mp_name;               // [i]
	uint64 mp_nqueued;                 // [s] messages ever queued here
};

// Initialise a port. The thread that will receive from it calls
// lwkt_port_setowner() itself once it runs (domsg needs to know).
void lwkt_initport(struct lwkt_port *port, const char *name);
void lwkt_port_setowner(struct lwkt_port *port);

// Initialise msg: owned by the caller (DONE), replies to reply_port (NULL:
// no reply is queued; the sender polls MSGF_DONE or the message is
// one-way), handled by handler. flags may be MSGF_PRIORITY.
void lwkt_initmsg(struct lwkt_msg *msg, struct lwkt_port *reply_port,
		  lwkt_handler_t handler, uint32 flags);

// Send msg to port without waiting. Precondition: msg is DONE and not
// QUEUED. Afterwards msg belongs to the port (do not touch it). Any
// thread or interrupt handler; never sleeps.
void lwkt_sendmsg(struct lwkt_port *port, struct lwkt_msg *msg);
// As lwkt_sendmsg, but if the owner sleeps and lives on the sender's CPU
// it does not preempt the sender: it runs once the sender blocks or
// yields, or its quantum ends, or a plain lwkt_sendmsg/domsg/reply to the
// port comes first (that one hurries it). For a message that may wait
// that long, from a thread that blocks soon (net/tcp_rcvd_async.c).
void lwkt_sendmsg_lazy(struct lwkt_port *port, struct lwkt_msg *msg);

// Send msg and wait for its reply; returns ms_error. If port is owned by
// the calling thread the handler runs inline (waiting would deadlock).
// Thread context only; sleeps.
int lwkt_domsg(struct lwkt_port *port, struct lwkt_msg *msg);

// Reply to msg with error. Called by whoever owns msg after receiving it
// (normally its handler). Hands msg back: wakes a lwkt_domsg waiter, or
// queues msg on its reply port, or (no reply port) just marks it DONE.
// Never sleeps.
void lwkt_replymsg(struct lwkt_msg *msg, int error);

// If msg is still queued on port, unlink it and give it back to the
// caller (DONE). Returns true if it was removed, false if the owner of
// port already took it (then its handler will run or has run).
bool lwkt_dropmsg(struct lwkt_port *port, struct lwkt_msg *msg);

// For the port's owner: take the first message, or NULL if none
// (lwkt_getport never sleeps), or sleep until one arrives (lwkt_waitport).
struct lwkt_msg *lwkt_getport(struct lwkt_port *port);
struct lwkt_msg *lwkt_waitport(struct lwkt_port *port);

// Is msg owned by its originator again? (Reads the flag under no lock: a
// hint unless the caller holds the lock that orders the handoff.)
bool lwkt_msg_done(struct lwkt_msg *msg);
