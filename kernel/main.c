// main: where every hart arrives in supervisor mode (from start.c).
//
// Hart 0 initialises the kernel in dependency order, starts the first
// process, then lets the other harts go; they set up only their own
// per-hart state (paging, trap vector, PLIC threshold, timer). Every hart
// then enters its scheduler.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/riscv.h"
#include "kernel/lock.h"
#include "kernel/proc.h"
#include "kernel/printf.h"
#include "kernel/console.h"
#include "kernel/kalloc.h"
#include "kernel/vm.h"
#include "kernel/intr.h"
#include "kernel/fs.h"
#include "kernel/callout.h"
#include "kernel/sysctl.h"
#include "drivers/pci.h"

int fdt_count_cpus(void);
const char *fdt_bootargs(void);
void net_init(void) __attribute__((weak));  // the network stack, when linked

static volatile bool started = false;

static void boot_hart0(void)
{
	lockcheck_init(fdt_bootargs());  // before any other hart takes a lock
	int n = fdt_count_cpus();
	ncpu = (n >= 1 && n <= NCPU) ? n : 1;
	consoleinit();
	printfinit();
	printf("\nnetkern: booting on %d hart%s\n", ncpu, ncpu > 1 ? "s" : "");
	kinit();
	kmalloc_init();
	kvminit();
	kvminithart();
	procinit();
	trapinit();
	trapinithart();
	plicinit();
	plicinithart();
	callout_sysinit();
	sysctl_init();
	binit();
	iinit();
	fileinit();
	virtio_disk_init();
	pci_init();
	userinit();
	if (net_init)
		net_init();
	printf("netkern: %lu free pages (%lu KiB)\n", kalloc_free_pages(),
	       kalloc_free_pages() * 4);
}

void main(void)
{
	cpus[cpuid()].id = cpuid();
	if (cpuid() == 0) {
		boot_hart0();
		__atomic_store_n(&started, true, __ATOMIC_RELEASE);
	} else {
		while (!__atomic_load_n(&started, __ATOMIC_ACQUIRE))
			;
		kvminithart();
		trapinithart();
		plicinithart();
	}
	timer_arm();
	scheduler();
}
