// Word-wise memset, memcmp, memmove and memcpy, shared by the kernel
// (built here) and the user library (user/lib/memword.c includes this
// file), so both carry one copy of the code. gcc may emit calls to
// memset, memcpy and memmove on its own (struct copies), so they must
// exist under exactly those names in both.
//
// Problem: byte-at-a-time loops made memset/memmove a seventh of all the
// instructions of a loopback round trip (every page kalloc hands out is
// filled, every packet is copied at least twice).
// Idea: move 8-byte words where the alignment allows it. memset and
// memcmp align the destination (or both operands) first and then work a
// word at a time; memmove copies words when source and destination share
// their offset within a word, and otherwise (forward only) loads aligned
// source words and shifts two of them into each aligned destination word,
// as the BSD and glibc bcopy do. Bytes before the first and after the
// last whole word are copied one at a time.
// Invariants: every load is of an aligned word that holds at least one
// byte the caller asked for, so nothing beyond the caller's buffer's last
// page is ever touched; overlapping memmove is correct in both directions
// (copying backwards when dst lies above src).
// Testing: the host tests "kstring" (tests/host/test_string.c) compare
// every function here with the C library's over random sizes, offsets
// and overlaps.
//
// Compiled -O2 in the user library too (the Makefile's MEMOBJS; user
// programs are otherwise -Og): these loops run for every packet and page.
// Loop-to-memset pattern matching is off here: it would turn memset's own
// loop into a call to itself.
#include "kernel/types.h"

// A word that may alias any other type (the compiler must not assume an
// uint64 store cannot change a char buffer it has loaded).
typedef uint64 __attribute__((may_alias)) word_t;
#define WSIZE sizeof(word_t)
#define WMASK (WSIZE - 1)

// Inlined even in the -O0 debug kernel: the head loops of memset and
// memmove test it for every byte (a call each made small memsets cost
// ~100 instructions).
static inline __attribute__((always_inline)) bool aligned(const void *p)
{
	return ((uint64)p & WMASK) == 0;
}

void *memset(void *dst, int c, size_t n)
{
	uint8 *d = dst;
	if (n >= 2 * WSIZE) {
		for (; !aligned(d); n--)
			*d++ = c;
		word_t w = (uint8)c * 0x0101010101010101UL;
		word_t *wd = (word_t *)d;
		for (; n >= 4 * WSIZE; n -= 4 * WSIZE, wd += 4) {
			wd[0] = w;
			wd[1] = w;
			wd[2] = w;
			wd[3] = w;
		}
		for (; n >= WSIZE; n -= WSIZE)
			*wd++ = w;
		d = (uint8 *)wd;
	}
	while (n-- > 0)
		*d++ = c;
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const uint8 *p = a, *q = b;
	if (n >= WSIZE && ((uint64)p & WMASK) == ((uint64)q & WMASK)) {
		for (; !aligned(p); n--, p++, q++)
			if (*p != *q)
				return *p - *q;
		// Skip equal words; the byte loop below finds the first
		// difference inside the word that differs.
		for (; n >= WSIZE && *(word_t *)p == *(word_t *)q; n -= WSIZE) {
			p += WSIZE;
			q += WSIZE;
		}
	}
	for (; n > 0; n--, p++, q++)
		if (*p != *q)
			return *p - *q;
	return 0;
}

// Forward copy of n bytes to an aligned d from an s at byte offset k
// (1..7) in its word: each destination word is the top 8-k bytes of one
// source word and the low k bytes of the next (little-endian). Returns
// how many bytes it copied (whole words); each word loaded holds at
// least one byte of the source, so no load leaves the source's pages.
static size_t copy_shifted(word_t *d, const uint8 *s, size_t n)
{
	uint64 k = (uint64)s & WMASK;
	const word_t *ws = (const word_t *)(s - k);
	int lo = 8 * k, hi = 64 - lo;
	size_t done = 0;
	word_t w0 = *ws++;
	for (; n - done >= 4 * WSIZE; done += 4 * WSIZE, ws += 4, d += 4) {
		word_t w1 = ws[0], w2 = ws[1], w3 = ws[2], w4 = ws[3];
		d[0] = (w0 >> lo) | (w1 << hi);
		d[1] = (w1 >> lo) | (w2 << hi);
		d[2] = (w2 >> lo) | (w3 << hi);
		d[3] = (w3 >> lo) | (w4 << hi);
		w0 = w4;
	}
	for (; n - done >= WSIZE; done += WSIZE) {
		word_t w1 = *ws++;
		*d++ = (w0 >> lo) | (w1 << hi);
		w0 = w1;
	}
	return done;
}

static void copy_forward(uint8 *d, const uint8 *s, size_t n)
{
	if (n >= 2 * WSIZE) {
		for (; !aligned(d); n--)
			*d++ = *s++;
		if (aligned(s)) {
			word_t *wd = (word_t *)d;
			const word_t *ws = (const word_t *)s;
			// Eight words a turn: a 1448-byte segment's copy to
			// the reader is 22 turns (loop overhead 3 of 19).
			for (; n >= 8 * WSIZE; n -= 8 * WSIZE, wd += 8, ws += 8) {
				word_t w0 = ws[0], w1 = ws[1], w2 = ws[2], w3 = ws[3];
				word_t w4 = ws[4], w5 = ws[5], w6 = ws[6], w7 = ws[7];
				wd[0] = w0, wd[1] = w1, wd[2] = w2, wd[3] = w3;
				wd[4] = w4, wd[5] = w5, wd[6] = w6, wd[7] = w7;
			}
			for (; n >= WSIZE; n -= WSIZE)
				*wd++ = *ws++;
			d = (uint8 *)wd;
			s = (const uint8 *)ws;
		} else if (((uint64)s & 3) == 0) {
			// Half a word apart (a 1460-byte TCP segment leaves the
			// next one so): aligned 4-byte moves, no shifting.
			uint32 __attribute__((may_alias)) *hd = (uint32 *)d;
			const uint32 __attribute__((may_alias)) *hs = (const uint32 *)s;
			for (; n >= 4 * WSIZE; n -= 4 * WSIZE, hd += 8, hs += 8) {
				hd[0] = hs[0], hd[1] = hs[1], hd[2] = hs[2], hd[3] = hs[3];
				hd[4] = hs[4], hd[5] = hs[5], hd[6] = hs[6], hd[7] = hs[7];
			}
			for (; n >= 4; n -= 4)
				*hd++ = *hs++;
			d = (uint8 *)hd;
			s = (const uint8 *)hs;
		} else {
			size_t done = copy_shifted((word_t *)d, s, n);
			d += done;
			s += done;
			n -= done;
		}
	}
	while (n-- > 0)
		*d++ = *s++;
}

// dst above an overlapping src: from the end down, words only when both
// ends share their offset in a word.
static void copy_backward(uint8 *d, const uint8 *s, size_t n)
{
	d += n;
	s += n;
	if (n >= 2 * WSIZE && ((uint64)d & WMASK) == ((uint64)s & WMASK)) {
		for (; !aligned(d); n--)
			*--d = *--s;
		word_t *wd = (word_t *)d;
		const word_t *ws = (const word_t *)s;
		for (; n >= WSIZE; n -= WSIZE)
			*--wd = *--ws;
		d = (uint8 *)wd;
		s = (const uint8 *)ws;
	}
	while (n-- > 0)
		*--d = *--s;
}

void *memmove(void *dst, const void *src, size_t n)
{
	uint8 *d = dst;
	const uint8 *s = src;
	if (d == s || n == 0)
		return dst;
	if (s < d && s + n > d)
		copy_backward(d, s, n);
	else
		copy_forward(d, s, n);
	return dst;
}

void *memcpy(void *dst, const void *src, size_t n)
{
	return memmove(dst, src, n);
}

