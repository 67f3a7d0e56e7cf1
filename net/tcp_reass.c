// TCP reassembly: out-of-order segments are kept, merged, and delivered
// once the hole before them is filled.
//
// Problem: segments arrive out of order (loss, reordering); dropping
// them costs a whole window of retransmissions. Overlapping and
// duplicate segments must not deliver a byte twice, and a peer must not
// be able to make us hold unbounded memory.
//
// Idea: a list of entries sorted by sequence number, never overlapping:
// a new segment is trimmed against its neighbours (the old data wins,
// RFC 9293 3.10.7.4 leaves the choice to us) and entries it covers
// entirely are dropped. A segment that continues an entry (the usual
// case: behind one lost segment, the rest of the window arrives in
// order) is appended to that entry's mbuf chain, and an entry that then
// touches the next one absorbs it, so there is one entry per contiguous
// block, not per segment. Every walk of the list -- the insertion, and
// the SACK blocks built for each ACK (net/tcp_sack.c, several walks per
// out-of-order segment) -- then costs the number of holes, not of the
// segments behind them: at 2% loss with ~100 segments in flight, the
// per-segment walks had made the receiver's cost grow with the window.
// And the usual case walks nothing: a segment that continues the highest
// entry (tr_tail) is appended to it at once, and the SACK code finds the
// highest block there too (tcp_reass_last): at 2% loss from Linux 85% of
// the segments arrived behind a hole, nearly all of them so.
// Delivery (tcp_reass_pull) hands every entry that starts at rcv_nxt to
// the socket, a whole block at once. The bound is the receive window:
// input trims every segment to it before it gets here. The sorted,
// non-overlapping list is what a SACK scoreboard walks (RFC 2018 blocks:
// tcp_reass_first/next give each entry's range).
//
// Invariants:
//   I1 Entries are sorted, disjoint, never adjacent (an entry ending
//      where the next begins absorbs it), and all start after rcv_nxt.
//   I2 tr_bytes is the sum of their lengths; tr_nseg their count (the
//      number of blocks); tcps_rcvoopack counts segments queued.
//   I3 A FIN flag lives only on the last entry that has data up to it.
//   I4 re_mtail is the last mbuf of re_m's chain (NULL with re_m): an
//      append does not walk the chain. Trimming empties mbufs but never
//      frees those of a queued entry, so re_mtail stays in the chain.
//   I5 tr_tail is the last entry (re_next NULL), NULL iff tr_head is.
//
// Locking: [o] only. Races: none (single owner).
// Life of a segment: tcp_input_sync -> tcp_input_data -> tcp_reass ->
// (hole filled) tcp_reass_pull -> tcp_deliver -> sbappendstream.
// Testing: make hosttest (tcp_reass_fills_hole, tcp_reass_overlap,
// tcp_reass_one_entry_per_block, tcp_reass_tail_append_walks_nothing,
// tcp_reass_tail_kept). netstat -s: reass_steps (entries visited).
// References: RFC 9293 3.10.7.4 ("seventh, process the segment text"),
// 3.9; RFC 2018 4 (what a receiver reports).
#include "net/tcp_var.h"
#include "net/socket.h"

struct tcp_reass_ent {
	struct tcp_reass_ent *re_next;   // [o]
	tcp_seq re_seq;                  // [o] first byte
	uint32 re_len;                   // [o] data bytes
	bool re_fin;                     // [o] a FIN follows the last byte
	struct mbuf *re_m;               // [o] exactly re_len bytes
	struct mbuf *re_mtail;           // [o] last mbuf of re_m (I4)
};

static struct mbuf *tcp_reass_mlast(struct mbuf *m)
{
	while (m != NULL && m->m_next != NULL)
		m = m->m_next;
	return m;
}

// Append len bytes in m (may be NULL: a FIN alone) to e's chain (I4).
static void tcp_reass_append(struct tcp_reass_ent *e, struct mbuf *m, struct mbuf *mtail,
			     uint32 len)
{
	if (m == NULL)
		return;
	if (e->re_m == NULL)
		e->re_m = m;
	else
		e->re_mtail->m_next = m;
	e->re_mtail = mtail;
	e->re_len += len;
}

// I1: while e ends where the next entry begins, e absorbs it.
static void tcp_reass_absorb(struct tcpcb *tp, struct tcp_reass_ent *e)
{
	struct tcp_reass_ent *n;
	while (!e->re_fin && (n = e->re_next) != NULL && n->re_seq == e->re_seq + e->re_len) {
		tcp_reass_append(e, n->re_m, n->re_mtail, n->re_len);
		e->re_fin = n->re_fin;
		e->re_next = n->re_next;
		tp->t_reass.tr_nseg--;
		net_free(n);
	}
	if (e->re_next == NULL)
		tp->t_reass.tr_tail = e;   // I5
}

static void tcp_reass_free(struct tcpcb *tp, struct tcp_reass_ent *e)
{
	tp->t_reass.tr_nseg--;
	tp->t_reass.tr_bytes -= e->re_len;
	m_freem(e->re_m);
	net_free(e);
}

// Trim m (len bytes at *seq) to what lies in [lo, hi). Returns the new
// length (0: nothing left, m freed and *mp NULL).
static uint32 tcp_reass_trim(struct mbuf **mp, tcp_seq *seq, uint32 len, tcp_seq lo, tcp_seq hi)
{
	if (SEQ_LT(*seq, lo)) {
		uint32 cut = lo - *seq;
		if (cut >= len)
			goto none;
		m_adj(*mp, (int)cut);
		*seq = lo;
		len -= cut;
	}
	if (SEQ_GT(*seq + len, hi)) {
		if (SEQ_LEQ(hi, *seq))
			goto none;
		uint32 cut = *seq + len - hi;
		m_adj(*mp, -(int)cut);
		len -= cut;
	}
	return len;
none:
	m_freem(*mp);
	*mp = NULL;
	return 0;
}

bool tcp_reass_extends_tail(struct tcpcb *tp, tcp_seq seq)
{
	struct tcp_reass_ent *t = tp->t_reass.tr_tail;
	return t != NULL && !t->re_fin && t->re_len > 0 && seq == t->re_seq + t->re_len;
}

// Does len bytes at seq simply continue the highest entry? Then it is
// appended there, without a walk (the usual segment behind a hole).
static bool tcp_reass_tail(struct tcpcb *tp, tcp_seq seq, uint32 len, struct mbuf *m, bool fin)
{
	struct tcp_reass_ent *t = tp->t_reass.tr_tail;
	if (m == NULL || !tcp_reass_extends_tail(tp, seq))
		return false;
	tcp_reass_append(t, m, tcp_reass_mlast(m), len);
	t->re_fin = fin;   // I3: t is the last entry
	tp->t_reass.tr_bytes += len;
	return true;
}

int tcp_reass(struct tcpcb *tp, tcp_seq seq, uint32 len, struct mbuf *m, bool fin)
{
	struct tcp_reass_ent **pp = &tp->t_reass.tr_head, *prev = NULL;
	if (tcp_reass_tail(tp, seq, len, m, fin))
		goto queued;
	// Find the first entry that starts after seq; prev ends before it.
	uint64 steps = 0;
	while (*pp != NULL && SEQ_LEQ((*pp)->re_seq, seq)) {
		prev = *pp;
		pp = &(*pp)->re_next;
		steps++;
	}
	TCPSTAT_ADD(tcps_reass_steps, steps);
	if (prev != NULL)   // the older data wins (I1)
		len = tcp_reass_trim(&m, &seq, len, prev->re_seq + prev->re_len, seq + len);
	// Entries entirely covered by the new segment go.
	while (m != NULL && *pp != NULL && SEQ_LEQ((*pp)->re_seq + (*pp)->re_len, seq + len)) {
		struct tcp_reass_ent *dead = *pp;
		*pp = dead->re_next;
		fin = fin || dead->re_fin;
		tcp_reass_free(tp, dead);
	}
	if (*pp == NULL)
		tp->t_reass.tr_tail = prev;   // I5 (prev absorbs, or e follows it, below)
	if (m != NULL && *pp != NULL)   // a partial overlap with the next entry
		len = tcp_reass_trim(&m, &seq, len, seq, (*pp)->re_seq);
	if (m == NULL && !fin)
		goto out;
	if (prev != NULL && !prev->re_fin && prev->re_seq + prev->re_len == seq) {
		// It continues prev: one block (I1).
		tcp_reass_append(prev, m, tcp_reass_mlast(m), m ? len : 0);
		prev->re_fin = fin && (*pp == NULL);   // I3
		tp->t_reass.tr_bytes += m ? len : 0;
		tcp_reass_absorb(tp, prev);
		goto queued;
	}
	struct tcp_reass_ent *e = net_malloc(sizeof(*e));
	if (e == NULL) {
		TCPSTAT_INC(tcps_drop_nomem);
		m_freem(m);
		goto out;
	}
	e->re_seq = seq;
	e->re_len = m ? len : 0;
	e->re_fin = fin && (*pp == NULL);   // I3
	e->re_m = m;
	e->re_mtail = tcp_reass_mlast(m);
	e->re_next = *pp;
	*pp = e;
	tp->t_reass.tr_nseg++;
	tp->t_reass.tr_bytes += e->re_len;
	tcp_reass_absorb(tp, e);
queued:
	TCPSTAT_INC(tcps_rcvoopack);
	TCPSTAT_ADD(tcps_rcvoobyte, m ? len : 0);
out:
	return tcp_reass_pull(tp);
}

int tcp_reass_pull(struct tcpcb *tp)
{
	struct tcp_reass_ent *e;
	while ((e = tp->t_reass.tr_head) != NULL && SEQ_LEQ(e->re_seq, tp->rcv_nxt)) {
		tp->t_reass.tr_head = e->re_next;
		if (e->re_next == NULL)
			tp->t_reass.tr_tail = NULL;   // I5
		struct mbuf *m = e->re_m;
		uint32 len = e->re_len;
		bool fin = e->re_fin;
		e->re_m = NULL;
		tcp_seq seq = e->re_seq;
		tcp_reass_free(tp, e);
		if (m != NULL)
			len = tcp_reass_trim(&m, &seq, len, tp->rcv_nxt, seq + len);
		if (m != NULL && len > 0) {
			tp->rcv_nxt += len;
			tcp_deliver(tp, m, 1);
		}
		if (fin && seq + len == tp->rcv_nxt)
			return TH_FIN;
	}
	return 0;
}

void tcp_reass_flush(struct tcpcb *tp)
{
	struct tcp_reass_ent *e;
	while ((e = tp->t_reass.tr_head) != NULL) {
		tp->t_reass.tr_head = e->re_next;
		tcp_reass_free(tp, e);
	}
	tp->t_reass.tr_tail = NULL;
}

static struct tcp_reass_ent *tcp_reass_range(struct tcp_reass_ent *e, tcp_seq *start,
					     tcp_seq *end)
{
	if (e != NULL) {
		*start = e->re_seq;
		*end = e->re_seq + e->re_len;
	}
	return e;
}

struct tcp_reass_ent *tcp_reass_first(struct tcpcb *tp, tcp_seq *start, tcp_seq *end)
{
	return tcp_reass_range(tp->t_reass.tr_head, start, end);
}

struct tcp_reass_ent *tcp_reass_next(struct tcp_reass_ent *e, tcp_seq *start, tcp_seq *end)
{
	TCPSTAT_INC(tcps_reass_steps);
	return tcp_reass_range(e->re_next, start, end);
}

struct tcp_reass_ent *tcp_reass_last(struct tcpcb *tp, tcp_seq *start, tcp_seq *end)
{
	return tcp_reass_range(tp->t_reass.tr_tail, start, end);
}
