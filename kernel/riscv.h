// RISC-V privileged-architecture helpers: CSR accessors and the bits the
// kernel uses. Names follow the RISC-V privileged specification.
#pragma once
#ifndef __ASSEMBLER__
#include "kernel/types.h"
#endif

#ifndef __ASSEMBLER__
#define CSR_READ(name)                                         \
	({                                                     \
		uint64 __v;                                    \
		asm volatile("csrr %0, " #name : "=r"(__v));   \
		__v;                                           \
	})
// Writes clobber "memory": the compiler may not move loads and stores
// across them (a store before intr_on, a page-table update before satp
// is written; at -O2 it otherwise would, volatile or not).
#define CSR_WRITE(name, v) asm volatile("csrw " #name ", %0" ::"r"((uint64)(v)) : "memory")
#define CSR_SET(name, v) asm volatile("csrs " #name ", %0" ::"r"((uint64)(v)) : "memory")
#define CSR_CLEAR(name, v) asm volatile("csrc " #name ", %0" ::"r"((uint64)(v)) : "memory")

#endif

// mstatus
#define MSTATUS_MPP_MASK (3L << 11)
#define MSTATUS_MPP_S (1L << 11)
#define MSTATUS_MIE (1L << 3)

// sstatus
#define SSTATUS_SUM (1L << 18)   // supervisor may access user memory
#define SSTATUS_SPP (1L << 8)    // previous mode: 1 = supervisor
#define SSTATUS_SPIE (1L << 5)   // supervisor previous interrupt enable
#define SSTATUS_SIE (1L << 1)    // supervisor interrupt enable

// sie / sip bits
#define SIE_SSIE (1L << 1)       // software
#define SIE_STIE (1L << 5)       // timer
#define SIE_SEIE (1L << 9)       // external

// scause values
#define SCAUSE_INTR (1UL << 63)
#define SCAUSE_SSI (SCAUSE_INTR | 1)
#define SCAUSE_STI (SCAUSE_INTR | 5)
#define SCAUSE_SEI (SCAUSE_INTR | 9)
#define SCAUSE_ECALL_U 8
#define SCAUSE_INST_PAGE_FAULT 12
#define SCAUSE_LOAD_PAGE_FAULT 13
#define SCAUSE_STORE_PAGE_FAULT 15

// menvcfg: STCE lets S-mode use stimecmp (the Sstc extension).
#define MENVCFG_STCE (1UL << 63)

#ifndef __ASSEMBLER__
static inline uint64 r_tp(void)
{
	uint64 x;
	asm volatile("mv %0, tp" : "=r"(x));
	return x;
}
static inline void w_tp(uint64 x) { asm volatile("mv tp, %0" ::"r"(x)); }
static inline uint64 r_sp(void)
{
	uint64 x;
	asm volatile("mv %0, sp" : "=r"(x));
	return x;
}
static inline uint64 r_fp(void)
{
	uint64 x;
	asm volatile("mv %0, s0" : "=r"(x));
	return x;
}
static inline uint64 r_time(void) { return CSR_READ(time); }

static inline void intr_on(void) { CSR_SET(sstatus, SSTATUS_SIE); }
static inline void intr_off(void) { CSR_CLEAR(sstatus, SSTATUS_SIE); }
static inline bool intr_get(void) { return (CSR_READ(sstatus) & SSTATUS_SIE) != 0; }
// Interrupts off in one instruction (csrrc), returning whether they were
// on; intr_restore(on) puts them back. For a short section that touches
// only this CPU's data: cheaper than push_off/pop_off, does not nest with
// their count (a section that takes a spinlock inside is still correct:
// acquire sees interrupts off and leaves them off at release).
static inline bool intr_save(void)
{
	uint64 x;
	asm volatile("csrrc %0, sstatus, %1" : "=r"(x) : "r"(SSTATUS_SIE) : "memory");
	return (x & SSTATUS_SIE) != 0;
}
static inline void intr_restore(bool on)
{
	if (on)
		asm volatile("csrs sstatus, %0" ::"r"(SSTATUS_SIE) : "memory");
}

#endif

// Sv39 page tables.
#define PGSIZE 4096
#define PGSHIFT 12
#define PGROUNDUP(sz) (((sz) + PGSIZE - 1) & ~((uint64)PGSIZE - 1))
#define PGROUNDDOWN(a) (((a)) & ~((uint64)PGSIZE - 1))

#define PTE_V (1L << 0)
#define PTE_R (1L << 1)
#define PTE_W (1L << 2)
#define PTE_X (1L << 3)
#define PTE_U (1L << 4)
#define PTE_A (1L << 6)
#define PTE_D (1L << 7)

#define PA2PTE(pa) ((((uint64)(pa)) >> 12) << 10)
#define PTE2PA(pte) (((pte) >> 10) << 12)
#define PTE_FLAGS(pte) ((pte) & 0x3FF)
#define PXMASK 0x1FF
#define PXSHIFT(level) (PGSHIFT + (9 * (level)))
#define PX(level, va) ((((uint64)(va)) >> PXSHIFT(level)) & PXMASK)

#define SATP_SV39 (8L << 60)
#define MAKE_SATP(pagetable) (SATP_SV39 | (((uint64)pagetable) >> 12))

#ifndef __ASSEMBLER__
// The page-table stores before it must reach memory first: "memory".
static inline void sfence_vma(void) { asm volatile("sfence.vma zero, zero" ::: "memory"); }
#endif
