// Socket buffers: the queue of data between a socket's user and its
// protocol, in one direction. Design essay: the header of net/sockbuf.c;
// overview: docs/sockets.md.
//
// Two shapes, chosen by the protocol (PR_ATOMIC):
//   records (datagrams): sb_mb -> rec1 -m_nextpkt-> rec2 ...; each record
//     is an address mbuf (struct sockaddr_in, the sender) whose m_next is
//     the datagram's data chain.
//   stream (TCP): sb_mb is one chain of data mbufs (m_next), no records.
//
// Lock legend (kernel/lock.h): [s] sb_lock of this sockbuf; [a] atomic.
// Lock order (kernel/lock.h): protocol table locks (rip_lock, ipi_lock) ->
// sb_lock -> poll_lock -> p->lock (sbwakeup and poll_notify wake under
// it). so_rcv and so_snd, and two sockets' buffers, are never held
// together.
#pragma once
#include "net/shim.h"
#include "net/mbuf.h"
#include "kernel/in.h"

struct pcq;

#define SB_MIN 512                  // smallest settable high water mark
#define SB_MAX (4 * 1024 * 1024)    // largest (SO_RCVBUF/SO_SNDBUF clamp): a
                                    // scaled window needs megabytes (RFC 7323)
#define SB_MBFACTOR 4               // storage allowed = hiwat * this

struct sockbuf {
	struct net_lock sb_lock;
	struct mbuf *sb_mb;         // [s] first record, or the stream chain
	struct mbuf *sb_lastrecord; // [s] records: last record (append here)
	struct mbuf *sb_mbtail;     // [s] stream: last mbuf of the chain
	uint32 sb_cc;               // [s] data bytes queued (not addresses);
	                            //     stored atomically, read by PCQ
	                            //     producers without the lock
	uint32 sb_mbcnt;            // [s] storage bytes (mbufs + clusters);
	                            //     as sb_cc
	uint32 sb_hiwat;            // [s] most data bytes queued; as sb_cc
	uint32 sb_lowat;            // [s] wake readers/writers from this many
	uint32 sb_mbmax;            // [s] most storage bytes; as sb_cc
	uint32 sb_nrecords;         // [s] records queued
	bool sb_atomic;             // [i] record shape (PR_ATOMIC)
	uint64 sb_drops;            // [a] records dropped: buffer full
	struct pcq *sb_pcq;         // [s] lock-free input queue in front of
	                            //     sb_mb (UDP fast demux), or NULL
	uint64 sb_pcqcharge;        // [a] what sits in sb_pcq: storage bytes
	                            //     << 32 | data bytes (sbpcqcharge)
	uint32 sb_sleepers;         // [a] readers in sbwait (PCQ wakeups)
	uint32 sb_pins;             // [a] producers delivering without the
	                            //     pcb table lock (sbpin)
	bool sb_polled;             // [a] poll(2) has looked at this socket:
	                            //     changes notify pollers (sbpollnotify)
	void *sb_poller;            // [a] the thread that polled it, or
	                            //     SB_POLLMANY: several (sbpollrecord)
	// Stream readers that copy out of the lock (net/soreceive_stream.c):
	bool sb_rcvout;             // [s] a reader has data cut out of sb_mb
	bool sb_rcvwant;            // [s] a reader waits for sb_rcvout to clear
	uint32 sb_flushes;          // [s] sbflush calls (put-back after a flush: no)
	bool sb_usersize;           // [s] the user sized it (SO_RCVBUF/SO_SNDBUF):
	                            //     autotuning (sbgrow) leaves it alone
};

void sbinit(struct sockbuf *sb, bool atomic, uint32 hiwat, const char *name);
// Set the high water mark (SO_RCVBUF/SO_SNDBUF): clamped to
// [SB_MIN, SB_MAX]; the low water mark stays <= it. Takes sb_lock.
void sbreserve(struct sockbuf *sb, uint32 hiwat);
// The same for SO_RCVBUF/SO_SNDBUF: also marks the size as the user's,
// in the same hold of sb_lock, so no autotuning grow can undo it.
void sbreserve_user(struct sockbuf *sb, uint32 hiwat);
// Autotuning's resize (net/tcp_sndbuf.c, net/tcp_rcvbuf.c): the high water
// mark becomes `to` only if it is still `from` (what the caller decided
// on) and the user has not sized the buffer, both checked under sb_lock.
// Race "SO_SNDBUF vs autotuning": a grow that read the old size before a
// setsockopt and reserves after it must not overwrite the user's size.
// true if it grew.
bool sbgrow(struct sockbuf *sb, uint32 from, uint32 to);
// Set the low water mark (SO_RCVLOWAT), clamped to [1, hiwat]. Takes sb_lock.
void sbsetlowat(struct sockbuf *sb, uint32 lowat);

// Bytes that may still be appended (0 when full). Caller holds sb_lock.
uint32 sbspace(struct sockbuf *sb);
// The same, read without sb_lock, for the buffer's only appender (TCP's
// owning netisr, for the window it offers): sb_cc, sb_mbcnt, sb_hiwat and
// sb_mbmax are each read atomically; meanwhile a reader can only lower
// sb_cc and sb_mbcnt, so the answer is never more than the space there
// is once the reads are done. Also the two fields with sb_lock: *hiwat.
uint32 sbspace_peek(struct sockbuf *sb, uint32 *hiwat);

// Append datagram m (M_PKTHDR chain) with its sender from as a record.
// Consumes m on success; returns 0, or -ENOBUFS (full: counted in
// sb_drops; or no mbuf for the address) and m is untouched (the caller
// frees it). Caller holds sb_lock; does not sleep; wakes readers.
int sbappendaddr(struct sockbuf *sb, const struct sockaddr_in *from, struct mbuf *m);
// A record for datagram m from from: an address mbuf whose m_next is m,
// or NULL (no mbuf; m untouched). Any context; does not sleep.
struct mbuf *sbmkrecord(const struct sockaddr_in *from, struct mbuf *m);
// Append record rec (from sbmkrecord). 0 and rec consumed, or -ENOBUFS
// (full, counted in sb_drops; rec untouched). Caller holds sb_lock.
int sbappendrecord(struct sockbuf *sb, struct mbuf *rec);

// The PCQ in front of a record buffer (UDP fast demux, NetBSD 2011). The
// holder of sb_lock is the PCQ's single consumer. What sits in the PCQ
// counts against the same limits as sb_mb (I2, I5 in sockbuf.c).
// Producer, before it makes the record of data chain m (sbmkrecord) and
// puts it on the PCQ: charge the record (its address mbuf and m) to sb
// -- first, so that a datagram that does not fit costs no allocation.
// true, or false if it does not fit (counted in sb_drops; m is still the
// caller's, who drops it). Lock-free; any thread.
bool sbpcqcharge(struct sockbuf *sb, struct mbuf *m);
// Producer: undo sbpcqcharge for data chain m (no record made, or its
// pcq_put failed).
void sbpcquncharge(struct sockbuf *sb, struct mbuf *m);
// Move every published record from sb_pcq to sb_mb, oldest first (they
// were charged when put: the socket's total does not change). Caller
// holds sb_lock.
void sbpcqdrain(struct sockbuf *sb);
// Is a record readable (in sb_mb or published in sb_pcq)? Caller holds
// sb_lock.
bool sbhasrecord(struct sockbuf *sb);
// Producer side, after a pcq_put on sb_pcq: wake a reader sleeping in
// sbwait (takes sb_lock only if one sleeps) and poll(2). Any thread that
// may take sb_lock; caller does not hold it. Returns whether it took
// sb_lock to wake a sleeper; a wait for that lock is counted in *waits
// and *wait_us (net_lock_acquire_counted).
bool sbpcqwakeup(struct sockbuf *sb, uint64 *waits, uint64 *wait_us);
// A producer that found the socket under its protocol's table lock pins
// its receive side before it lets the lock go, and unpins it when it has
// delivered (UDP: udp_input). The protocol's detach, after taking the
// socket off the table, waits until nothing is pinned before it frees
// the PCQ: the socket stays alive while a producer uses it. Any thread.
void sbpin(struct sockbuf *sb);
void sbunpin(struct sockbuf *sb);
void sbwaitunpinned(struct sockbuf *sb);   // thread context; yields
// Take sb_pcq away (set NULL) and return it, with every record it held
// in *recs (a list by m_nextpkt, to m_freem one by one). Producers must
// be gone already (the protocol unlinked the pcb). Takes sb_lock.
struct pcq *sbpcqdetach(struct sockbuf *sb, struct mbuf **recs);
// Append chain m to a stream buffer, whatever the space (the protocol
// checks its window). Consumes m. Caller holds sb_lock. Wakes nobody: the
// caller calls sbwakeup when it is time (TCP: at the end of a batch).
void sbappendstream(struct sockbuf *sb, struct mbuf *m);

// Records: the first record's data length, or -1 if there is none.
// Caller holds sb_lock.
int sbfirstreclen(struct sockbuf *sb);
// Records: unlink the first record and return its address mbuf (its data
// chain hangs off m_next); NULL if none. Caller holds sb_lock and frees
// the result (m_freem) -- preferably after releasing the lock.
struct mbuf *sbunlinkrecord(struct sockbuf *sb);
// Stream: drop len bytes from the front. Caller holds sb_lock.
void sbdrop(struct sockbuf *sb, uint32 len);
// Free everything queued. Takes sb_lock itself.
void sbflush(struct sockbuf *sb);
// Stream: cut up to len bytes off the front of sb_mb as a chain of their
// own (*lenp: bytes cut; fewer only if an mbuf copy failed). The caller
// owns the chain. Caller holds sb_lock.
struct mbuf *sbcut(struct sockbuf *sb, uint32 len, uint32 *lenp);
// Stream: put chain m back at the FRONT of sb_mb (data a reader cut and
// could not copy out). Caller holds sb_lock.
void sbprepend(struct sockbuf *sb, struct mbuf *m);

// Copy up to n bytes of chain m starting at byte off into the uio.
// Returns the count moved or -EFAULT (if nothing moved). Borrows m.
// Caller holds the lock that keeps m alive.
long sbcopyout(struct mbuf *m, uint32 off, size_t n, struct uio *uio);

// so_rcv's lock of a stream, taken with its contention counted
// (net.inet.tcp.rcvlock_*): who found it held by the other side, and for
// how long it waited. The two sides are the netisr (appending segments,
// waking the reader) and the reader (cutting or copying out).
// The same lock as net_lock_acquire(&sb->sb_lock); release it as usual.
enum { SBRCV_NETISR, SBRCV_READER };
void sbrcv_lock(struct sockbuf *sb, int side);

// Tell poll(2) that sb changed, if a poller has ever looked at its
// socket (sb_polled); otherwise do nothing, so traffic on sockets nobody
// polls does not wake every poller in the system (inetd, say). Call after
// the change. Any thread; any lock that may precede poll's.
void sbpollnotify(struct sockbuf *sb);
// poll(2) looks at sb for the calling thread (sopoll): from now on
// changes notify it -- it alone, while it is the only thread that ever
// polled sb; everyone polling, once another one has (SB_POLLMANY, BSD
// select's collision). Call before looking at the state. Any thread.
#define SB_POLLMANY ((void *)1)
void sbpollrecord(struct sockbuf *sb);
// Wake whoever waits on sb (readers or writers) and poll(2).
// Caller holds sb_lock.
void sbwakeup(struct sockbuf *sb);
// Sleep on sb until sbwakeup, releasing sb_lock meanwhile. 0, or -EINTR
// if the thread was killed (checked first). Returns at once (0) if sb_pcq
// holds a published record. Caller holds sb_lock.
int sbwait(struct sockbuf *sb);
