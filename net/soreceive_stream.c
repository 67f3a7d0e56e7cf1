// soreceive_stream: a TCP read that copies to the user OUT of the
// receive buffer's lock.
//
// Problem: the generic stream read (net/socket.c) copies to user memory
// while it holds so_rcv.sb_lock. A 64 KB read holds the lock for the
// whole copy, and meanwhile the netisr, which appends every arriving
// segment to so_rcv under that same lock, spins: the reader and the
// protocol serialize on one lock for the slowest thing either does.
//
// Idea (Andre Oppermann, "New optimized soreceive_stream() for TCP
// sockets, proof of concept", freebsd-current, 2 March 2007; written
// anew): under the lock, decide how much to take -- at most what the
// caller asked for -- and CUT that run of data off the front of so_rcv
// (sbcut: whole mbufs move, a partial one is copied by reference). Drop
// the lock. Copy the private chain to the user at leisure while the
// netisr keeps appending behind it. Free what was copied.
//
// The race Oppermann's proof of concept left open: the data is out of the
// buffer while the lock is free. Two things can go wrong then:
//   (a) the copy fails half way (EFAULT: a bad pointer in the middle of
//       the user's buffer), and
//   (b) the buffer is flushed or the socket closed while data is out.
// Our answer, the invariant of this file:
//
//   I1 Data cut out of so_rcv is owned by exactly one reader, which
//      either copies it to the user or puts what it did not copy BACK AT
//      THE FRONT of so_rcv, in order, before any other reader may look at
//      so_rcv (sb_rcvout is set meanwhile; readers of both paths wait).
//      The only exception: if so_rcv was flushed meanwhile (sb_flushes
//      moved: shutdown(SHUT_RD), close), the rest is freed, as the flush
//      would have freed it had it still been in the buffer.
//
//   so_rcv:  [ A A A A | B B B ]      reader cuts A (lock held)
//   reader:  [ A A A A ]  so_rcv: [ B B B ]   lock dropped
//   netisr:               so_rcv: [ B B B C C ]  appends C meanwhile
//   reader:  copies A A, EFAULT on the third
//   reader:  lock; so_rcv: [ A A | B B B C C ]  put back in front; unlock
//   next read returns A A B B B C C: nothing lost, nothing reordered.
//
// "Nothing touched after free": the chain is private to the reader (no
// one else can reach it: the flush frees only what is in so_rcv), and the
// socket itself is held by the reader's file reference for the whole
// read(2), so the reader's so_rcv is valid when it takes the lock again.
//
// Semantics identical to the generic path: MSG_PEEK (goes to the generic
// path: nothing is taken), MSG_WAITALL, SO_RCVLOWAT, EOF (0), reset and
// other errors (so_error, taken only if nothing was read), -EAGAIN,
// -EINTR, a partial copy (the bytes copied; the rest stays queued), and
// the window update after reading from a half-full buffer (so_rcvd). The
// wait decision is the generic path's own function (so_rcvready in
// net/socket.c, shared by both paths); only the copy differs. nettests runs its TCP list with net.inet.tcp.soreceive_stream
// on and off (tests/test_tcp_mech.py).
//
// Invariants: I1 above, and
//   I2 sb_rcvout is set only by a reader holding sb_lock that has just
//      cut data, and cleared by the same reader under sb_lock after the
//      put-back (or after a complete copy); sb_cc never counts data out.
//
// Locking: so_rcv.sb_lock ([r]) for the cut, the put-back and sb_rcvout;
// the copy holds no lock.
//
// Races:
//   - "append during copy": the netisr appends at the tail (sb_mbtail);
//     the cut chain shares no link with so_rcv. Fine by construction.
//   - "EFAULT mid-buffer": I1 (put back; the partial count is returned).
//   - "flush or close while data is out": I1's exception; the reader's
//     file reference keeps the socket.
//   - "two readers": the second waits while sb_rcvout (sbwait_rcvout):
//     with data out, the first byte of the stream is not in so_rcv.
//   - "switch flipped during a read": each read picks its path once; the
//     generic path also waits while sb_rcvout.
//
// Life of a read: read(2) -> soreceive -> soreceive_stream_on? ->
// soreceive_stream -> [lock: wait (so_rcvready) | sbcut, sb_rcvout]
// -> copy (no lock) -> [lock: put back the rest, clear sb_rcvout] ->
// so_rcvd (window update, net/tcp_rcvd_async.c).
//
// Testing: make hosttest (soreceive_stream_*: EFAULT mid-read puts the
// rest back in order before data that arrived during the copy; a flush
// while data is out frees the rest; semantics against the generic path);
// nettests' TCP list with the switch on and off. gdb: break sbcut,
// sbprepend.
//
// References: A. Oppermann, freebsd-current, 2 March 2007 (the proposal);
// FreeBSD sys/kern/uipc_socket.c soreceive_stream (its later form).
#include "net/socket.h"
#include "net/mbuf.h"

// [a] 1: TCP reads copy out of the lock (this file); 0: the generic path.
int tcp_soreceive_stream = 1;
NET_SYSCTL_INT_RANGE(tcp_soreceive_stream, "net.inet.tcp.soreceive_stream", SYSCTL_RW,
		     &tcp_soreceive_stream, 0, 1, "1: TCP reads copy out of the buffer lock");

static uint64 srs_putback;   // [a] reads that put data back (EFAULT)
static uint64 srs_flushed;   // [a] reads whose rest was flushed meanwhile
NET_SYSCTL_UINT64(tcp_soreceive_putback, "net.inet.tcp.soreceive_stream_putback", SYSCTL_RD,
		  &srs_putback, "reads that put uncopied data back");
NET_SYSCTL_UINT64(tcp_soreceive_flushed, "net.inet.tcp.soreceive_stream_flushed", SYSCTL_RD,
		  &srs_flushed, "reads whose uncopied rest was flushed meanwhile");

// [t] Host tests only (NULL in the kernel): called with the data out and
// no lock held, where the netisr or another thread could run.
void (*soreceive_stream_between)(struct socket *so);

bool soreceive_stream_on(struct socket *so, int flags)
{
	/* LAB sostream BEGIN: exercise 3, switch the path on */
	return so->so_protocol == IPPROTO_TCP && !(flags & MSG_PEEK) &&
	       __atomic_load_n(&tcp_soreceive_stream, __ATOMIC_RELAXED);
	/* LAB sostream STUB
	(void)so;
	(void)flags;
	return false;   // every read takes the generic path
	   LAB sostream END */
}

int sbwait_rcvout(struct sockbuf *sb)
{
	sb->sb_rcvwant = true;
	return sbwait(sb);
}

// Copy chain m to uio, freeing what was copied. Returns the bytes copied;
// *rest: the chain not copied (NULL if all was). No lock held.
static long srs_copyout(struct mbuf *m, struct uio *uio, struct mbuf **rest)
{
	long done = 0;
	while (m != NULL) {
		if (m->m_len > 0 && net_uiomove_out(m->m_data, m->m_len, uio) < 0)
			break;   // nothing of this mbuf was copied
		done += m->m_len;
		m = m_free(m);
	}
	*rest = m;
	return done;
}

// After the copy: I1 and I2. Caller holds sb_lock. Returns what the
// caller must free after unlocking (a rest that a flush made stale).
static struct mbuf *srs_putback_rest(struct sockbuf *sb, struct mbuf *rest, uint32 gen)
{
	sb->sb_rcvout = false;
	if (sb->sb_rcvwant) {
		sb->sb_rcvwant = false;
		sbwakeup(sb);
	}
	/* LAB sostream BEGIN: exercises 1 and 2, the rest of a short copy */
	if (rest == NULL)
		return NULL;
	if (sb->sb_flushes != gen) {
		__atomic_add_fetch(&srs_flushed, 1, __ATOMIC_RELAXED);
		return rest;
	}
	__atomic_add_fetch(&srs_putback, 1, __ATOMIC_RELAXED);
	sbprepend(sb, rest);
	return NULL;
	/* LAB sostream STUB
	(void)gen;
	return rest;   // freed by the caller: those bytes are lost
	   LAB sostream END */
}

// Take up to resid bytes out, copy them without the lock, put back what
// did not go. Caller holds sb_lock (held again on return). Returns the
// bytes copied, or -EFAULT (nothing copied), or -ENOBUFS (no mbuf for a
// partial cut; nothing taken). *stop: the copy fell short.
static long srs_take_copy(struct socket *so, struct uio *uio, bool *stop)
{
	struct sockbuf *sb = &so->so_rcv;
	struct mbuf *rest, *stale;
	uint32 len, gen = sb->sb_flushes;
	struct mbuf *m = sbcut(sb, MIN((uint32)uio->uio_resid, sb->sb_cc), &len);
	if (len == 0) {
		*stop = true;
		return -ENOBUFS;
	}
	sb->sb_rcvout = true;   // I2
	net_lock_release(&sb->sb_lock);
	if (soreceive_stream_between != NULL)
		soreceive_stream_between(so);
	long n = srs_copyout(m, uio, &rest);
	sbrcv_lock(sb, SBRCV_READER);
	stale = srs_putback_rest(sb, rest, gen);   // I1
	*stop = rest != NULL;
	if (stale != NULL) {
		net_lock_release(&sb->sb_lock);
		m_freem(stale);
		net_lock_acquire(&sb->sb_lock);
	}
	return n == 0 && rest != NULL ? -EFAULT : n;
}

long soreceive_stream(struct socket *so, struct uio *uio, int flags, bool nonblock)
{
	struct sockbuf *sb = &so->so_rcv;
	struct sorcv rs = {.waitall = flags & MSG_WAITALL,
			   .rcvd = so->so_proto->pr_flags & PR_WANTRCVD};
	long err = 0;

	sbrcv_lock(sb, SBRCV_READER);
	while (uio->uio_resid > 0) {
		if (sb->sb_rcvout) {   // another reader has the stream's head
			if ((err = sbwait_rcvout(sb)) < 0)
				break;
			continue;
		}
		// The generic path's decision (net/socket.c), shared.
		int r = so_rcvready(so, &rs, uio->uio_resid, nonblock);
		if (r == 0)
			continue;
		if (r != SORCV_COPY) {
			if (r < 0)
				err = r;
			break;
		}
		if (so_rcvd_owed(sb))
			rs.full = true;
		bool short_copy = false;
		long n = srs_take_copy(so, uio, &short_copy);
		if (n < 0) {
			err = n;   // the data stays (was put back)
			break;
		}
		rs.got += n;
		if (short_copy || !rs.waitall)
			break;
	}
	net_lock_release(&sb->sb_lock);
	so_rcvdone(so, &rs);
	return rs.got > 0 ? rs.got : err;
}
