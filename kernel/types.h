// Fixed-width integer types for the kernel and for user programs.
// The toolchain has no libc, so we name the widths ourselves.
#pragma once

typedef unsigned char uint8;
typedef unsigned short uint16;
typedef unsigned int uint32;
typedef unsigned long uint64;
typedef signed char int8;
typedef short int16;
typedef int int32;
typedef long int64;
typedef unsigned int uint;
typedef uint64 pte_t;
typedef uint64 *pagetable_t;  // 512 PTEs

// The kernel and user programs are freestanding (-ffreestanding: no libc);
// host tools (mkfs, the host build of net/) get these from the C library.
#if __STDC_HOSTED__
#include <stddef.h>
#include <stdbool.h>
#include <sys/types.h>
#else
typedef unsigned long size_t;
typedef long ssize_t;
typedef _Bool bool;
#define true 1
#define false 0
#define NULL ((void *)0)
#define offsetof(type, member) __builtin_offsetof(type, member)
#endif

#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))
#define nelem(x) (sizeof(x) / sizeof((x)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
