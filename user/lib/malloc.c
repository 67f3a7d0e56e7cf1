// malloc, free, calloc, realloc on top of sbrk.
//
// Idea: memory is handed out in units of 16 bytes (so every block is
// 16-byte aligned, enough for any C type on rv64). Each block starts with
// a one-unit header holding its size in units. Free blocks sit on a list
// sorted by address; malloc takes the first block that is big enough
// (cutting what it needs off the block's end, so the list links stay put),
// and free puts a block back in address order, merging it with the free
// neighbours it touches, so the heap does not crumble into small pieces.
// When nothing fits, the heap grows by at least MALLOC_GROW bytes.
// Memory is never given back to the kernel; it returns at exit.
//
// Invariants: the list is sorted by address; no two free blocks touch.
// Not thread-safe (processes here have one thread).
#include "user/user.h"

struct block {
	struct block *b_next;  // next free block (by address); unused when allocated
	size_t b_units;        // size of the block in units, header included
};

#define UNIT sizeof(struct block)  // 16 bytes
#define MALLOC_GROW (64 * 1024)

_Static_assert(sizeof(struct block) == 16, "header must be one 16-byte unit");

static struct block *freelist;

// Insert b into the free list in address order and merge neighbours.
static void
freelist_insert(struct block *b)
{
	struct block *prev = NULL, *next = freelist;

	while (next != NULL && next < b) {
		prev = next;
		next = next->b_next;
	}
	if (next != NULL && b + b->b_units == next) {
		b->b_units += next->b_units;
		b->b_next = next->b_next;
	} else {
		b->b_next = next;
	}
	if (prev != NULL && prev + prev->b_units == b) {
		prev->b_units += b->b_units;
		prev->b_next = b->b_next;
	} else if (prev != NULL) {
		prev->b_next = b;
	} else {
		freelist = b;
	}
}

// Ask the kernel for at least units more; false if it has none.
static bool
grow(size_t units)
{
	size_t bytes = units * UNIT, pad;
	struct block *b;
	char *p;

	if (bytes < MALLOC_GROW)
		bytes = MALLOC_GROW;
	// The break is page-aligned in practice; align it anyway.
	pad = -(uint64)sbrk(0) & (UNIT - 1);
	p = sbrk(pad + bytes);
	if (p == (char *)-1)
		return false;
	b = (struct block *)(p + pad);
	b->b_units = bytes / UNIT;
	freelist_insert(b);
	return true;
}

void *
malloc(size_t n)
{
	size_t units;
	struct block *b, *prev;

	if (n == 0)
		return NULL;
	if (n > (1UL << 40)) {
		errno = ENOMEM;
		return NULL;
	}
	units = (n + UNIT - 1) / UNIT + 1;
	for (;;) {
		for (prev = NULL, b = freelist; b != NULL; prev = b, b = b->b_next) {
			if (b->b_units < units)
				continue;
			if (b->b_units == units) {
				if (prev != NULL)
					prev->b_next = b->b_next;
				else
					freelist = b->b_next;
			} else {
				b->b_units -= units;
				b += b->b_units;
				b->b_units = units;
			}
			return b + 1;
		}
		if (!grow(units)) {
			errno = ENOMEM;
			return NULL;
		}
	}
}

void
free(void *p)
{
	if (p != NULL)
		freelist_insert((struct block *)p - 1);
}

void *
calloc(size_t n, size_t size)
{
	void *p;

	if (size != 0 && n > (1UL << 40) / size) {
		errno = ENOMEM;
		return NULL;
	}
	p = malloc(n * size);
	if (p != NULL)
		memset(p, 0, n * size);
	return p;
}

void *
realloc(void *p, size_t n)
{
	struct block *b;
	size_t have;
	void *q;

	if (p == NULL)
		return malloc(n);
	if (n == 0) {
		free(p);
		return NULL;
	}
	b = (struct block *)p - 1;
	have = (b->b_units - 1) * UNIT;
	if (have >= n)
		return p;
	q = malloc(n);
	if (q == NULL)
		return NULL;
	memcpy(q, p, have);
	free(p);
	return q;
}
