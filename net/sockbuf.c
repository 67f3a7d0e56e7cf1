// Socket buffers: where a user thread and the owning netisr meet.
//
// Problem: a protocol running in a netisr thread produces data for a
// socket (received datagrams, TCP's in-order bytes) while a user thread
// consumes it, and the other way round for sending; either may run on any
// CPU. The buffer must bound the memory a socket ties up (a flood must be
// dropped, not queued without end), keep datagram boundaries and each
// datagram's sender, and let the reader sleep without missing a wakeup.
//
// Idea: a queue of mbufs under one spinlock (sb_lock), with a high water
// mark on data bytes (sb_hiwat, SO_RCVBUF/SO_SNDBUF) and a second bound on
// the storage behind them (sb_mbmax = SB_MBFACTOR * hiwat: many tiny
// datagrams each hold a whole mbuf), and a low water mark (sb_lowat,
// SO_RCVLOWAT) under which a stream reader keeps sleeping. Datagrams are
// records (an address mbuf in front of the data, m_nextpkt between
// records); a stream is one chain. Appending never sleeps (it runs in a
// netisr); a reader sleeps on the sockbuf itself as channel.
//
// Invariants:
//   I1 sb_cc = data bytes queued; sb_mbcnt = storage of every mbuf queued
//      (m_storage: MSIZE each, plus the cluster's size, 2 or 4 KiB, for
//      each mbuf with one), address mbufs included.
//   I2 An append that would take sb_cc past sb_hiwat or sb_mbcnt past
//      sb_mbmax is refused (records) -- except into an empty buffer, so
//      one datagram as large as the buffer always fits.
//   I3 Records: every record starts with an address mbuf; sb_lastrecord
//      is the last record, NULL iff sb_mb is NULL.
//   I4 With a PCQ (sb_pcq, UDP fast demux) the PCQ holds whole records
//      (address mbuf + data). They move to sb_mb only under sb_lock
//      (sbpcqdrain), oldest first.
//   I5 What sits in the PCQ is charged to the socket (sb_pcqcharge, its
//      data and storage bytes) from before its pcq_put until sbpcqdrain
//      moves it into sb_mb, and I2 counts it: a producer charges a record
//      only if sb_cc + PCQ bytes + its bytes <= sb_hiwat and the same for
//      storage and sb_mbmax (or the socket holds nothing at all), else it
//      drops it. So a socket's receive memory stays bounded by
//      SO_RCVBUF whoever sends and however slowly its reader reads -- with
//      the fast demux on or off. (A full PCQ -- pcq_maxlen records -- is
//      the other reason a producer drops.)
//
// Locking: everything [s] sb_lock; sb_drops, sb_pcqcharge [a]. sb_cc,
// sb_mbcnt, sb_hiwat and sb_mbmax are written under sb_lock with atomic
// stores, so that a PCQ producer may read them (atomically, without the
// lock) for its check of I5. The appender (netisr)
// and the reader (user thread) both take sb_lock; data is copied out to
// user memory while it is held (copyout never sleeps), as pipes do. The
// FreeBSD "copy without the lock" variant is net/soreceive_stream.c's job (TCP;
// Oppermann, freebsd-current, 2 March 2007).
//
// Races:
//   - "lost wakeup": the reader tests for data and sleeps under sb_lock
//     (sbwait -> net_sleep releases it atomically); the appender appends
//     and wakes under sb_lock.
//   - "reader killed while asleep": sbwait checks killed first and after
//     each wakeup, so a killed reader leaves with -EINTR.
//   - "poll misses data": sbwakeup bumps poll's generation after the
//     change (net_poll_notify), see kernel/sys_poll.c.
//   - "producer checks I5 while the reader drains": sbpcqdrain adds a
//     record to sb_cc before it uncharges it from the PCQ, and unlinking
//     only lowers sb_cc, so a producer's lock-free sum may count a record
//     twice (it drops a datagram that would just have fitted), never
//     zero times: the bound holds. Two producers: the CAS on
//     sb_pcqcharge orders their charges.
//   - "PCQ producer vs sleeping reader" (UDP fast demux): the producer
//     does not take sb_lock to append; it publishes into sb_pcq, then
//     (full fence) wakes only if sb_sleepers != 0; sbwait increments
//     sb_sleepers, then (full fence) re-checks the PCQ before sleeping.
//     One of the two always sees the other (sbpcqwakeup, sbwait).
//
// Life of a datagram: netisr: rip_input -> m_copym -> sbappendaddr ->
// sbwakeup ... user: recvfrom -> soreceive (net/socket.c) -> sbcopyout ->
// sbunlinkrecord -> m_freem.
//
// Testing: make hosttest (tests/host/test_sockbuf.c: records keep their
// boundaries and senders, water marks, the storage bound, peek, stream
// drop). gdb: break sbappendaddr.
//
// References: McKusick et al., The Design and Implementation of the
// FreeBSD Operating System, 12.3 "Socket Data Buffering"; Andre Oppermann,
// "New optimized soreceive_stream() for TCP sockets, proof of concept",
// freebsd-current, 2 March 2007.
#include "net/sockbuf.h"
#include "net/pcq.h"

void sbinit(struct sockbuf *sb, bool atomic, uint32 hiwat, const char *name)
{
	memset(sb, 0, sizeof(*sb));
	net_lock_init(&sb->sb_lock, name);
	sb->sb_atomic = atomic;
	sb->sb_lowat = 1;
	sbreserve(sb, hiwat);
}

// Set the high water mark (and what follows from it). Caller holds sb_lock.
static void sb_sethiwat(struct sockbuf *sb, uint32 hiwat)
{
	KASSERT(net_lock_held(&sb->sb_lock));
	if (hiwat < SB_MIN)
		hiwat = SB_MIN;
	if (hiwat > SB_MAX)
		hiwat = SB_MAX;
	__atomic_store_n(&sb->sb_hiwat, hiwat, __ATOMIC_RELAXED);
	__atomic_store_n(&sb->sb_mbmax, hiwat * SB_MBFACTOR, __ATOMIC_RELAXED);
	if (sb->sb_lowat > hiwat)
		sb->sb_lowat = hiwat;
}

void sbreserve(struct sockbuf *sb, uint32 hiwat)
{
	net_lock_acquire(&sb->sb_lock);
	sb_sethiwat(sb, hiwat);
	net_lock_release(&sb->sb_lock);
}

void sbreserve_user(struct sockbuf *sb, uint32 hiwat)
{
	net_lock_acquire(&sb->sb_lock);
	sb->sb_usersize = true;
	sb_sethiwat(sb, hiwat);
	net_lock_release(&sb->sb_lock);
}

bool sbgrow(struct sockbuf *sb, uint32 from, uint32 to)
{
	net_lock_acquire(&sb->sb_lock);
	bool ok = !sb->sb_usersize && sb->sb_hiwat == from;
	if (ok)
		sb_sethiwat(sb, to);
	net_lock_release(&sb->sb_lock);
	return ok;
}

void sbsetlowat(struct sockbuf *sb, uint32 lowat)
{
	net_lock_acquire(&sb->sb_lock);
	if (lowat < 1)
		lowat = 1;
	if (lowat > sb->sb_hiwat)
		lowat = sb->sb_hiwat;
	sb->sb_lowat = lowat;
	net_lock_release(&sb->sb_lock);
}

uint32 sbspace(struct sockbuf *sb)
{
	KASSERT(net_lock_held(&sb->sb_lock));
	if (sb->sb_cc >= sb->sb_hiwat || sb->sb_mbcnt >= sb->sb_mbmax)
		return 0;
	return sb->sb_hiwat - sb->sb_cc;
}

uint32 sbspace_peek(struct sockbuf *sb, uint32 *hiwat)
{
	// sb_cc first: a reader lowering it between the loads makes the
	// result smaller, not larger (sbspace_peek's promise).
	uint32 cc = __atomic_load_n(&sb->sb_cc, __ATOMIC_RELAXED);
	uint32 mb = __atomic_load_n(&sb->sb_mbcnt, __ATOMIC_RELAXED);
	uint32 hi = __atomic_load_n(&sb->sb_hiwat, __ATOMIC_RELAXED);
	uint32 mbmax = __atomic_load_n(&sb->sb_mbmax, __ATOMIC_RELAXED);
	*hiwat = hi;
	if (cc >= hi || mb >= mbmax)
		return 0;
	return hi - cc;
}

// sb_cc += cc, sb_mbcnt += mb (two's complement: also to subtract), as
// atomic stores (PCQ producers read both without sb_lock). Holds sb_lock.
static void sb_count(struct sockbuf *sb, uint32 cc, uint32 mb)
{
	__atomic_store_n(&sb->sb_cc, sb->sb_cc + cc, __ATOMIC_RELAXED);
	__atomic_store_n(&sb->sb_mbcnt, sb->sb_mbcnt + mb, __ATOMIC_RELAXED);
}

// Storage of one mbuf (I1).
static uint32 sb_msize(struct mbuf *m)
{
	return (uint32)m_storage(m);
}

static uint32 sb_chainsize(struct mbuf *m, uint32 *datalen)
{
	uint32 sz = 0, len = 0;
	for (; m != NULL; m = m->m_next) {
		sz += sb_msize(m);
		len += m->m_len;
	}
	if (datalen)
		*datalen = len;
	return sz;
}

// I2 + I5 for one more record of len data bytes and sz storage bytes,
// given charge = sb_pcqcharge: true if it fits. Any thread (reads sb_cc,
// sb_mbcnt and the limits atomically: without sb_lock they are a snapshot).
static bool sb_fits_charged(struct sockbuf *sb, uint64 charge, uint32 len, uint32 sz)
{
	uint64 cc = __atomic_load_n(&sb->sb_cc, __ATOMIC_RELAXED);
	uint64 mb = __atomic_load_n(&sb->sb_mbcnt, __ATOMIC_RELAXED);
	if (mb == 0 && charge == 0)
		return true;   // empty: one datagram as large as the buffer fits
	return cc + (uint32)charge + len <= __atomic_load_n(&sb->sb_hiwat, __ATOMIC_RELAXED) &&
	       mb + (charge >> 32) + sz <= __atomic_load_n(&sb->sb_mbmax, __ATOMIC_RELAXED);
}

static bool sb_fits(struct sockbuf *sb, uint32 len, uint32 sz)
{
	return sb_fits_charged(sb, __atomic_load_n(&sb->sb_pcqcharge, __ATOMIC_RELAXED),
			       len, sz);
}

// Link record rec (len data bytes, sz storage) at the end. Holds sb_lock.
static void sb_link(struct sockbuf *sb, struct mbuf *rec, uint32 len, uint32 sz)
{
	rec->m_nextpkt = NULL;
	if (sb->sb_lastrecord != NULL)
		sb->sb_lastrecord->m_nextpkt = rec;
	else
		sb->sb_mb = rec;
	sb->sb_lastrecord = rec;
	sb_count(sb, len, sz);
	sb->sb_nrecords++;
	sbwakeup(sb);
}

int sbappendrecord(struct sockbuf *sb, struct mbuf *rec)
{
	uint32 len, sz;
	KASSERT(net_lock_held(&sb->sb_lock));
	KASSERT(sb->sb_atomic);
	sz = sb_chainsize(rec->m_next, &len) + MSIZE;
	if (!sb_fits(sb, len, sz)) {   // I2
		__atomic_add_fetch(&sb->sb_drops, 1, __ATOMIC_RELAXED);
		return -ENOBUFS;
	}
	sb_link(sb, rec, len, sz);
	return 0;
}

struct mbuf *sbmkrecord(const struct sockaddr_in *from, struct mbuf *m)
{
	struct mbuf *a = m_get();
	if (a == NULL)
		return NULL;
	memcpy(a->m_data, from, sizeof(*from));
	a->m_len = sizeof(*from);
	a->m_next = m;
	a->m_nextpkt = NULL;
	return a;
}

int sbappendaddr(struct sockbuf *sb, const struct sockaddr_in *from, struct mbuf *m)
{
	uint32 len, sz;
	KASSERT(net_lock_held(&sb->sb_lock));
	sz = sb_chainsize(m, &len) + MSIZE;
	struct mbuf *a = sb_fits(sb, len, sz) ? sbmkrecord(from, m) : NULL;
	if (a == NULL) {
		__atomic_add_fetch(&sb->sb_drops, 1, __ATOMIC_RELAXED);
		return -ENOBUFS;
	}
	int err = sbappendrecord(sb, a);
	if (err < 0) {
		a->m_next = NULL;   // m stays the caller's
		m_free(a);
	}
	return err;
}

// ---- the PCQ in front of a record buffer (UDP fast demux) ------------------

// What a record with data chain m costs: storage (its address mbuf and
// the chain) << 32 | data bytes.
static uint64 sb_charge_of(struct mbuf *m)
{
	uint32 len, sz = sb_chainsize(m, &len) + MSIZE;
	return (uint64)sz << 32 | len;
}

bool sbpcqcharge(struct sockbuf *sb, struct mbuf *m)
{
	uint64 c = sb_charge_of(m);
	uint64 old = __atomic_load_n(&sb->sb_pcqcharge, __ATOMIC_RELAXED);
	do {
		if (!sb_fits_charged(sb, old, (uint32)c, (uint32)(c >> 32))) {   // I5
			__atomic_add_fetch(&sb->sb_drops, 1, __ATOMIC_RELAXED);
			return false;
		}
	} while (!__atomic_compare_exchange_n(&sb->sb_pcqcharge, &old, old + c, false,
					      __ATOMIC_RELAXED, __ATOMIC_RELAXED));
	return true;
}

void sbpcquncharge(struct sockbuf *sb, struct mbuf *m)
{
	__atomic_sub_fetch(&sb->sb_pcqcharge, sb_charge_of(m), __ATOMIC_RELAXED);
}

void sbpcqdrain(struct sockbuf *sb)
{
	struct mbuf *rec;
	KASSERT(net_lock_held(&sb->sb_lock));   // we are the PCQ's one consumer
	if (sb->sb_pcq == NULL)
		return;   // no PCQ: every stream socket, and UDP after detach
	KASSERT(sb->sb_atomic);
	while ((rec = pcq_get(sb->sb_pcq)) != NULL) {
		uint64 c = sb_charge_of(rec->m_next);
		sb_link(sb, rec, (uint32)c, (uint32)(c >> 32));   // I5: charged already
		__atomic_sub_fetch(&sb->sb_pcqcharge, c, __ATOMIC_RELAXED);   // after
	}
}

bool sbhasrecord(struct sockbuf *sb)
{
	KASSERT(net_lock_held(&sb->sb_lock));
	return sb->sb_mb != NULL || (sb->sb_pcq != NULL && pcq_peek(sb->sb_pcq) != NULL);
}

bool sbpcqwakeup(struct sockbuf *sb, uint64 *waits, uint64 *wait_us)
{
	// Dekker pair with sbwait: our publish (pcq_put's RELEASE store) is
	// ordered before the load of sb_sleepers by this full fence; sbwait
	// orders its increment of sb_sleepers before its look at the PCQ.
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__atomic_load_n(&sb->sb_sleepers, __ATOMIC_RELAXED) != 0) {
		net_lock_acquire_counted(&sb->sb_lock, waits, wait_us);
		sbwakeup(sb);
		net_lock_release(&sb->sb_lock);
		return true;
	}
	sbpollnotify(sb);   // a poller is not a sleeper on sb
	return false;
}

void sbpin(struct sockbuf *sb)
{
	// Relaxed: the caller holds the table lock, whose release orders this
	// before the detacher's unlink (it takes the same lock).
	__atomic_add_fetch(&sb->sb_pins, 1, __ATOMIC_RELAXED);
}

void sbunpin(struct sockbuf *sb)
{
	// Release: everything this producer did to the socket happens before
	// the detacher sees the count drop and frees.
	__atomic_sub_fetch(&sb->sb_pins, 1, __ATOMIC_RELEASE);
}

void sbwaitunpinned(struct sockbuf *sb)
{
	// Short: a pinned producer is between its lookup and the end of its
	// delivery, which never sleeps.
	while (__atomic_load_n(&sb->sb_pins, __ATOMIC_ACQUIRE) != 0)
		net_yield();
}

struct pcq *sbpcqdetach(struct sockbuf *sb, struct mbuf **recs)
{
	struct mbuf *rec, *head = NULL, **tail = &head;
	net_lock_acquire(&sb->sb_lock);
	struct pcq *q = sb->sb_pcq;
	sb->sb_pcq = NULL;
	while (q != NULL && (rec = pcq_get(q)) != NULL) {
		*tail = rec;
		tail = &rec->m_nextpkt;
	}
	__atomic_store_n(&sb->sb_pcqcharge, 0, __ATOMIC_RELAXED);   // no producer left
	net_lock_release(&sb->sb_lock);
	*recs = head;
	return q;
}

void sbappendstream(struct sockbuf *sb, struct mbuf *m)
{
	uint32 len;
	KASSERT(net_lock_held(&sb->sb_lock));
	KASSERT(!sb->sb_atomic);
	if (m == NULL)
		return;
	uint32 sz = sb_chainsize(m, &len);
	sb_count(sb, len, sz);
	if (sb->sb_mb == NULL)
		sb->sb_mb = m;
	else
		sb->sb_mbtail->m_next = m;
	while (m->m_next != NULL)
		m = m->m_next;
	sb->sb_mbtail = m;
	// No wakeup here: TCP wakes the reader once per netisr batch
	// (tcp_rollup), not once per segment; appending to so_snd frees no
	// room for a writer.
}

int sbfirstreclen(struct sockbuf *sb)
{
	KASSERT(net_lock_held(&sb->sb_lock));
	if (sb->sb_mb == NULL)
		return -1;
	return m_length(sb->sb_mb->m_next);
}

struct mbuf *sbunlinkrecord(struct sockbuf *sb)
{
	uint32 len;
	KASSERT(net_lock_held(&sb->sb_lock));
	struct mbuf *a = sb->sb_mb;
	if (a == NULL)
		return NULL;
	sb->sb_mb = a->m_nextpkt;
	if (sb->sb_mb == NULL)
		sb->sb_lastrecord = NULL;   // I3
	a->m_nextpkt = NULL;
	uint32 sz = sb_chainsize(a->m_next, &len) + MSIZE;
	sb_count(sb, -len, -sz);
	sb->sb_nrecords--;
	return a;
}

void sbdrop(struct sockbuf *sb, uint32 len)
{
	KASSERT(net_lock_held(&sb->sb_lock));
	KASSERT(!sb->sb_atomic && len <= sb->sb_cc);
	sb_count(sb, -len, 0);
	while (len > 0 && sb->sb_mb != NULL) {
		struct mbuf *m = sb->sb_mb;
		if ((uint32)m->m_len > len) {
			m->m_data += len;
			m->m_len -= len;
			break;
		}
		len -= m->m_len;
		sb_count(sb, 0, -sb_msize(m));
		sb->sb_mb = m_free(m);
	}
	// Zero-length mbufs at the front carry nothing: drop them too.
	while (sb->sb_mb != NULL && sb->sb_mb->m_len == 0) {
		sb_count(sb, 0, -sb_msize(sb->sb_mb));
		sb->sb_mb = m_free(sb->sb_mb);
	}
	if (sb->sb_mb == NULL)
		sb->sb_mbtail = NULL;
}

struct mbuf *sbcut(struct sockbuf *sb, uint32 len, uint32 *lenp)
{
	struct mbuf *top = NULL, **np = &top;
	uint32 took = 0;
	KASSERT(net_lock_held(&sb->sb_lock));
	KASSERT(!sb->sb_atomic && len <= sb->sb_cc);
	while (took < len && sb->sb_mb != NULL) {
		struct mbuf *m = sb->sb_mb;
		uint32 want = len - took;
		if ((uint32)m->m_len <= want) {   // the whole mbuf moves
			sb->sb_mb = m->m_next;
			m->m_next = NULL;
			sb_count(sb, -(uint32)m->m_len, -sb_msize(m));
			took += m->m_len;
		} else {                          // a copy of its head (clusters are shared)
			if ((m = m_copym(sb->sb_mb, 0, (int)want)) == NULL)
				break;
			sb->sb_mb->m_data += want;
			sb->sb_mb->m_len -= want;
			sb_count(sb, -want, 0);
			took += want;
		}
		*np = m;
		np = &m->m_next;
	}
	if (sb->sb_mb == NULL)
		sb->sb_mbtail = NULL;
	*lenp = took;
	return top;
}

void sbprepend(struct sockbuf *sb, struct mbuf *m)
{
	uint32 len;
	KASSERT(net_lock_held(&sb->sb_lock));
	KASSERT(!sb->sb_atomic);
	if (m == NULL)
		return;
	sb_count(sb, 0, sb_chainsize(m, &len));
	sb_count(sb, len, 0);
	struct mbuf *last = m;
	while (last->m_next != NULL)
		last = last->m_next;
	last->m_next = sb->sb_mb;
	if (sb->sb_mb == NULL)
		sb->sb_mbtail = last;
	sb->sb_mb = m;
}

void sbflush(struct sockbuf *sb)
{
	net_lock_acquire(&sb->sb_lock);
	struct mbuf *m = sb->sb_mb;
	sb->sb_mb = sb->sb_lastrecord = sb->sb_mbtail = NULL;
	sb_count(sb, -sb->sb_cc, -sb->sb_mbcnt);
	sb->sb_nrecords = 0;
	sb->sb_flushes++;
	net_lock_release(&sb->sb_lock);
	while (m != NULL) {   // records (m_nextpkt) or one stream chain
		struct mbuf *next = m->m_nextpkt;
		m_freem(m);
		m = next;
	}
}

long sbcopyout(struct mbuf *m, uint32 off, size_t n, struct uio *uio)
{
	size_t done = 0;
	while (m != NULL && off >= (uint32)m->m_len) {
		off -= m->m_len;
		m = m->m_next;
	}
	for (; m != NULL && done < n; m = m->m_next, off = 0) {
		size_t c = MIN((size_t)(m->m_len - off), n - done);
		if (c > 0 && net_uiomove_out(m->m_data + off, c, uio) < 0)
			return done > 0 ? (long)done : -EFAULT;
		done += c;
	}
	return done;
}

// Race "poller marks vs notifier skips" (a Dekker pair, like sb_sleepers
// above): sopoll stores sb_poller and sb_polled and then reads the
// socket's state; we changed the state and then read sb_polled and
// sb_poller, with a full fence between. A second poller stores
// SB_POLLMANY before it looks: we wake it with everyone, or it sees the
// change. kern.ipc.poll_targeted=0: every notification wakes every
// poller (the old behaviour).
static int sb_poll_targeted = 1;   // [a]
NET_SYSCTL_INT_RANGE(sb_poll_targeted, "kern.ipc.poll_targeted", SYSCTL_RW, &sb_poll_targeted, 0, 1,
		     "1: a socket change wakes only the process that polls it; 0: every poller");
// Either we see the mark and notify, or the poller's scan sees the change
// and does not sleep. The mark is never cleared: a socket polled once
// keeps notifying (simple, and the cost is only that of the old rule).
// ---- contention on so_rcv's lock (measurement) -----------------------------
// A stream's so_rcv lock is where the reader and the netisr meet: the
// generic read path holds it during the copy to the user, soreceive_stream
// only to cut and put back. These counters say how often one side found
// it held and how long it then waited (net_lock_acquire_counted: a racy
// peek, then the time CSR; under -icount shift=0 guest time is
// instructions). An uncontended acquire costs one load.
static uint64 rcvlock_waits[2], rcvlock_wait_us[2];   // [a] by side
NET_SYSCTL_UINT64(tcp_rcvlock_waits_netisr, "net.inet.tcp.rcvlock_waits_netisr", SYSCTL_RD,
		  &rcvlock_waits[SBRCV_NETISR], "netisr found so_rcv's lock held");
NET_SYSCTL_UINT64(tcp_rcvlock_wait_us_netisr, "net.inet.tcp.rcvlock_wait_us_netisr", SYSCTL_RD,
		  &rcvlock_wait_us[SBRCV_NETISR], "us the netisr waited for so_rcv's lock");
NET_SYSCTL_UINT64(tcp_rcvlock_waits_reader, "net.inet.tcp.rcvlock_waits_reader", SYSCTL_RD,
		  &rcvlock_waits[SBRCV_READER], "readers found so_rcv's lock held");
NET_SYSCTL_UINT64(tcp_rcvlock_wait_us_reader, "net.inet.tcp.rcvlock_wait_us_reader", SYSCTL_RD,
		  &rcvlock_wait_us[SBRCV_READER], "us readers waited for so_rcv's lock");

void sbrcv_lock(struct sockbuf *sb, int side)
{
	net_lock_acquire_counted(&sb->sb_lock, &rcvlock_waits[side], &rcvlock_wait_us[side]);
}

void sbpollnotify(struct sockbuf *sb)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!__atomic_load_n(&sb->sb_polled, __ATOMIC_RELAXED))
		return;
	void *t = __atomic_load_n(&sb->sb_poller, __ATOMIC_RELAXED);
	if (t != NULL && t != SB_POLLMANY && __atomic_load_n(&sb_poll_targeted, __ATOMIC_RELAXED))
		net_poll_notify_one(t);   // only its poller: not inetd on another hart
	else
		net_poll_notify();
}

void sbpollrecord(struct sockbuf *sb)
{
	void *me = net_curthread(), *old = NULL;
	// The record first, then sb_polled; the caller's fence orders both
	// before its look at the state (race "poller marks vs notifier skips").
	if (!__atomic_compare_exchange_n(&sb->sb_poller, &old, me, false, __ATOMIC_RELAXED,
					 __ATOMIC_RELAXED) && old != me)
		__atomic_store_n(&sb->sb_poller, SB_POLLMANY, __ATOMIC_RELAXED);
	__atomic_store_n(&sb->sb_polled, true, __ATOMIC_RELAXED);
}

void sbwakeup(struct sockbuf *sb)
{
	KASSERT(net_lock_held(&sb->sb_lock));
	net_wakeup(sb);
	sbpollnotify(sb);
}

int sbwait(struct sockbuf *sb)
{
	KASSERT(net_lock_held(&sb->sb_lock));
	if (net_curthread_killed())
		return -EINTR;
	// Announce the sleep, then look at the PCQ once more (the mirror of
	// sbpcqwakeup): a producer that published before our increment is
	// seen here; one that publishes after it sees sb_sleepers != 0 and
	// wakes us under sb_lock, which we hold until net_sleep releases it.
	__atomic_add_fetch(&sb->sb_sleepers, 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (sb->sb_pcq == NULL || pcq_peek(sb->sb_pcq) == NULL)
		net_sleep(sb, &sb->sb_lock);
	__atomic_sub_fetch(&sb->sb_sleepers, 1, __ATOMIC_RELAXED);
	return net_curthread_killed() ? -EINTR : 0;
}
