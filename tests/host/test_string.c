// Host tests of the word-at-a-time memset/memmove/memcpy/memcmp that the
// kernel and the user library share (kernel/memword.c, built as kstr_* by
// kstring.c; user/lib/memword.c is the same file): each is run against
// the C library's function over random sizes (0 to a few pages), random
// offsets of both operands within a word, fill bytes above 127, and
// overlapping moves in both directions; the whole buffer is compared
// afterwards, so a write outside the asked range fails too.
#include <string.h>
#include "tests/host/test.h"

void *kstr_memset(void *, int, size_t);
void *kstr_memmove(void *, const void *, size_t);
void *kstr_memcpy(void *, const void *, size_t);
int kstr_memcmp(const void *, const void *, size_t);

struct memfns {
	void *(*set)(void *, int, size_t);
	void *(*move)(void *, const void *, size_t);
	void *(*cpy)(void *, const void *, size_t);
	int (*cmp)(const void *, const void *, size_t);
};
static const struct memfns kfns = { kstr_memset, kstr_memmove, kstr_memcpy, kstr_memcmp };

#define BUF 12288
#define ROUNDS 4000
static unsigned char a[BUF], b[BUF], ref[BUF];

// Mostly small sizes (where the head/tail byte loops matter), some of
// several pages.
static size_t rnd_size(void)
{
	switch (rand() % 4) {
	case 0: return rand() % 17;
	case 1: return rand() % 80;
	case 2: return rand() % 600;
	default: return rand() % (BUF / 2);
	}
}

static void fill_random(unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = rand();
}

static void check_set(const struct memfns *f)
{
	for (int r = 0; r < ROUNDS; r++) {
		size_t n = rnd_size(), off = rand() % 64;
		int c = rand() % 512 - 256;
		fill_random(a, BUF);
		memcpy(ref, a, BUF);
		CHECK(f->set(a + off, c, n) == a + off);
		memset(ref + off, c, n);
		CHECK(memcmp(a, ref, BUF) == 0);
	}
}

// Disjoint copies from b into a, both memcpy and memmove.
static void check_copy(const struct memfns *f)
{
	for (int r = 0; r < ROUNDS; r++) {
		size_t n = rnd_size(), doff = rand() % 64, soff = rand() % 64;
		fill_random(a, BUF);
		fill_random(b, BUF);
		memcpy(ref, a, BUF);
		memcpy(ref + doff, b + soff, n);
		if (r & 1)
			CHECK(f->cpy(a + doff, b + soff, n) == a + doff);
		else
			CHECK(f->move(a + doff, b + soff, n) == a + doff);
		CHECK(memcmp(a, ref, BUF) == 0);
	}
}

// Source and destination in one buffer, overlapping or not, either above.
static void check_overlap(const struct memfns *f)
{
	for (int r = 0; r < ROUNDS; r++) {
		size_t n = rnd_size();
		size_t soff = rand() % (BUF - n), doff = soff + rand() % 80 - 40;
		if (doff > BUF - n)
			doff = soff;
		fill_random(a, BUF);
		memcpy(ref, a, BUF);
		memmove(ref + doff, ref + soff, n);
		CHECK(f->move(a + doff, a + soff, n) == a + doff);
		CHECK(memcmp(a, ref, BUF) == 0);
	}
}

static int sign(int x)
{
	return (x > 0) - (x < 0);
}

// Equal buffers, or buffers that differ in one byte (placed anywhere,
// also outside the compared range), at any pair of offsets.
static void check_cmp(const struct memfns *f)
{
	for (int r = 0; r < ROUNDS; r++) {
		size_t n = rnd_size(), aoff = rand() % 64, boff = rand() % 64;
		fill_random(a + aoff, n);
		memcpy(b + boff, a + aoff, n);
		if (n > 0 && rand() % 4 != 0)
			b[boff + (rand() % (n + 8 > BUF - boff ? n : n + 8))] = rand();
		CHECK(sign(f->cmp(a + aoff, b + boff, n)) == sign(memcmp(a + aoff, b + boff, n)));
	}
}

static void test_kstring_memset_matches_libc(void) { check_set(&kfns); }
static void test_kstring_memcpy_memmove_disjoint_match_libc(void) { check_copy(&kfns); }
static void test_kstring_memmove_overlapping_matches_libc(void) { check_overlap(&kfns); }
static void test_kstring_memcmp_sign_matches_libc(void) { check_cmp(&kfns); }

const struct host_test string_tests[] = {
	{ test_kstring_memset_matches_libc, "kstring_memset_matches_libc" },
	{ test_kstring_memcpy_memmove_disjoint_match_libc, "kstring_memcpy_memmove_disjoint_match_libc" },
	{ test_kstring_memmove_overlapping_matches_libc, "kstring_memmove_overlapping_matches_libc" },
	{ test_kstring_memcmp_sign_matches_libc, "kstring_memcmp_sign_matches_libc" },
	{ NULL, NULL },
};
