// Physical memory layout of QEMU's virt machine (see its device tree:
// `qemu-system-riscv64 -machine virt,dumpdtb=virt.dtb` and dtc), and the
// virtual layout of the kernel and of a process.
//
// Physical:
//   00100000 sifive_test: write 0x5555 = power off, 0x3333|code<<16 = exit
//   02f00000 ACLINT SSWI (supervisor software interrupts: IPIs)
//   0c000000 PLIC
//   10000000 uart0 (16550), IRQ 10
//   10001000 virtio-mmio disk, IRQ 1
//   30000000 PCIe ECAM config space (bus<<20 | dev<<15 | fn<<12)
//   40000000 PCIe 32-bit MMIO window (BARs are assigned here)
//   80000000 RAM: -bios none makes QEMU jump here; kernel text, data,
//            then free pages up to PHYSTOP.
//
// Kernel virtual = physical (direct map), plus at the top of the address
// space the trampoline page and per-process kernel stacks.
//
// Process virtual, from 0 up:
//   0x0000  unmapped, so a NULL dereference faults
//   0x1000  text, data, bss (from the ELF file)
//           guard page (unmapped), user stack (USTACKPAGES)
//           heap, grown by sbrk
//   ...
//   TRAPFRAME  (p->trapframe, saved user registers)
//   TRAMPOLINE (same physical page as the kernel's)
#pragma once
#include "kernel/param.h"

#define SIFIVE_TEST 0x100000L
#define SIFIVE_TEST_PASS 0x5555
#define SIFIVE_TEST_FAIL 0x3333

// ACLINT supervisor software interrupts (QEMU -machine virt,aclint=on):
// writing 1 to the hart's word raises SSIP on that hart. The scheduler
// uses it to wake an idle hart (a wake-up IPI).
#define ACLINT_SSWI 0x2F00000L
#define ACLINT_SSWI_SIZE 0x4000
#define ACLINT_SETSSIP(hart) (ACLINT_SSWI + 4 * (hart))
// ACLINT machine timer: mtimecmp per hart, mtime (the profiler, prof.c).
#define ACLINT_MTIMER 0x2004000L
#define ACLINT_MTIMER_SIZE 0x8000

#define UART0 0x10000000L
#define UART0_IRQ 10

#define VIRTIO0 0x10001000L
#define VIRTIO0_IRQ 1

#define PLIC 0x0c000000L
#define PLIC_PRIORITY (PLIC + 0x0)
#define PLIC_PENDING (PLIC + 0x1000)
#define PLIC_SENABLE(hart) (PLIC + 0x2080 + (hart) * 0x100)
#define PLIC_SPRIORITY(hart) (PLIC + 0x201000 + (hart) * 0x2000)
#define PLIC_SCLAIM(hart) (PLIC + 0x201004 + (hart) * 0x2000)
#define PLIC_NIRQ 96

#define PCIE_ECAM 0x30000000L
#define PCIE_ECAM_SIZE 0x10000000L
#define PCIE_MMIO 0x40000000L
#define PCIE_MMIO_SIZE 0x40000000L
// What the kernel page table maps of those windows (kernel/vm.c): ECAM of
// bus 0 only, and the bottom 16 MiB of MMIO, where pci.c assigns BARs.
#define PCIE_ECAM_MAPPED (1L << 20)
#define PCIE_MMIO_MAPPED (16L << 20)

#define KERNBASE 0x80000000L
#define PHYSTOP (KERNBASE + 256 * 1024 * 1024)  // QEMU is started with -m 256M

// One beyond the highest possible virtual address. MAXVA is one bit less
// than Sv39 allows, to avoid having to sign-extend virtual addresses that
// have the high bit set.
#define MAXVA (1L << (9 + 9 + 9 + 12 - 1))

#define TRAMPOLINE (MAXVA - PGSIZE)
#define TRAPFRAME (TRAMPOLINE - PGSIZE)

// Kernel stack of process slot i, below the trampoline, each followed
// (below) by an unmapped guard page so an overflow faults instead of
// silently corrupting a neighbour.
#define KSTACK_SIZE (KSTACKPAGES * PGSIZE)
// Each hart's boot stack (stack0 in start.c; entry.S has the number too),
// where it runs main() and then its scheduler.
#define BOOTSTACK 16384
#define KSTACK(i) (TRAMPOLINE - ((i) + 1) * (KSTACK_SIZE + PGSIZE))

#define USERBASE 0x1000L    // lowest user address that exec maps
