// Kernel console output, panic and assertions.
#pragma once
#include "kernel/types.h"

void printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int snprintf(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void panic(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
void printfinit(void);
void backtrace(void);
// Call sites of the current kernel stack, innermost first, skipping the
// first skip frames (0: stack_pcs's caller). Returns how many it filled.
int stack_pcs(uint64 *pc, int n, int skip);
// The top of the kernel stack holding frame pointer fp (process slot or
// boot stack), 0 if none: a frame walk must stay in (fp, top].
uint64 stack_top(uint64 fp);
extern volatile int panicked;  // [a] set once by panic(): other harts freeze

// KASSERT: a kernel invariant. Never use it for something a user or a
// packet can cause; return an error for those.
#define KASSERT(cond)                                                   \
	do {                                                            \
		if (!(cond))                                            \
			panic("assertion \"%s\" failed at %s:%d", #cond, \
			      __FILE__, __LINE__);                      \
	} while (0)
