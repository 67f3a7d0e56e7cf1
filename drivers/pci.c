// PCI(e) enumeration for QEMU's virt machine: find the devices on bus 0,
// give their memory BARs addresses, route their interrupts, attach drivers.
//
// Problem: the e1000 sits behind a PCIe host bridge. Nobody (there is no
// firmware: -bios none) has assigned its registers an address or enabled
// it; the kernel must do what a BIOS would.
//
// Idea: the host bridge exposes every function's 4 KiB configuration space
// as memory (ECAM) at PCIE_ECAM + (bus << 20 | slot << 15 | fn << 12)
// [PCIe 7.2.2]. We walk slots 0..31 of bus 0, read vendor/device/class and
// size each Base Address Register the standard way [PCI 6.2.5.1]: write all
// ones, read back; the bits that stay zero in the address field give the
// size (size = ~mask + 1, a power of two). Each memory BAR gets the next
// naturally aligned address in the 32-bit MMIO window at PCIE_MMIO. Then
// the command register turns on memory decoding and bus mastering (the
// device may DMA) [PCI 6.2.2].
//
// Interrupts: QEMU's virt board wires the four INTx lines of the bridge to
// PLIC 32..35 and swizzles by slot: pin P (1 = INTA) of slot S raises PLIC
// line 32 + (S + P - 1) % 4. The e1000 in slot 1 (INTA) is line 33.
//
// Invariants:
//   - a BAR's address is aligned to its size and lies inside the part of the
//     window that kernel/vm.c maps (PCIE_MMIO_MAPPED, the first 16 MiB);
//   - memory decoding is off while a BAR is being sized (so the device
//     never decodes the all-ones probe value).
// Not handled (not needed on this board): bridges and buses other than 0,
// I/O BARs (no I/O window is mapped), expansion ROMs, MSI/MSI-X.
//
// Locking: none. pci_init runs once on hart 0 during boot, before the other
// harts start; afterwards devs[] is read-only ([i]).
//
// Testing: every boot prints one line per function found; `sysctl hw.pci`
// shows the count. gdb: break pci_init, pci_probe_bars.
// References: PCI Local Bus Specification 3.0, 6.1 (header), 6.2.2
// (command), 6.2.5.1 (BARs), 6.2.4 (interrupt pin/line); PCI Express Base
// 3.0, 7.2.2 (ECAM); QEMU hw/riscv/virt.c (memory map, INTx swizzle).
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/memlayout.h"
#include "kernel/printf.h"
#include "kernel/errno.h"
#include "kernel/sysctl.h"
#include "drivers/pci.h"
#include "drivers/e1000.h"

// The drivers pci_init() can attach, in probe order.
static struct pci_driver *pci_drivers[] = {
	&e1000_pci_driver,
};

// [PCI 6.1] type-0 configuration header offsets.
#define PCI_VENDOR     0x00
#define PCI_DEVICE     0x02
#define PCI_COMMAND    0x04
#define PCI_CMD_MEM    (1u << 1)   // respond to memory accesses
#define PCI_CMD_MASTER (1u << 2)   // may initiate DMA
#define PCI_CMD_INTX_DISABLE (1u << 10)
#define PCI_REVCLASS   0x08        // rev in bits 7:0, class code above
#define PCI_HEADER     0x0e
#define PCI_HEADER_MULTIFN 0x80
#define PCI_HEADER_TYPE(h) ((h) & 0x7f)  // 0: device, 1: bridge
#define PCI_BAR0       0x10
#define PCI_BAR_IO     0x1         // [PCI 6.2.5.1] bit 0: I/O space
#define PCI_BAR_TYPE(b) (((b) >> 1) & 3)  // memory: 0 = 32-bit, 2 = 64-bit
#define PCI_BAR_64     2
#define PCI_BAR_MEM_MASK (~0xfu)
#define PCI_INTLINE    0x3c
#define PCI_INTPIN     0x3d        // 0: none, 1..4: INTA..INTD

#define PCI_NSLOT 32
#define PCI_NFN 8
#define PCI_MAXDEV 16
// kernel/vm.c maps ECAM for bus 0 and this much of the MMIO window.
#define PCI_INTX_PLIC_BASE 32      // QEMU virt: PCIE_IRQ

static struct pci_dev devs[PCI_MAXDEV];  // [i]
static int ndevs;                        // [i]
static uint64 mmio_next = PCIE_MMIO;     // [i] next free address (boot only)

SYSCTL_INT(hw_pci_ndevs, "hw.pci.ndevs", SYSCTL_RD, &ndevs, "PCI functions found on bus 0");

static volatile void *cfg_addr(int bus, int slot, int fn, int off)
{
	return (volatile void *)(PCIE_ECAM + ((uint64)bus << 20 | slot << 15 | fn << 12 | off));
}

static volatile void *pd_cfg(struct pci_dev *pd, int off)
{
	return cfg_addr(pd->pd_bus, pd->pd_slot, pd->pd_fn, off);
}

uint32 pci_cfg_read32(struct pci_dev *pd, int off)
{
	return *(volatile uint32 *)pd_cfg(pd, off);
}

void pci_cfg_write32(struct pci_dev *pd, int off, uint32 val)
{
	*(volatile uint32 *)pd_cfg(pd, off) = val;
}

uint16 pci_cfg_read16(struct pci_dev *pd, int off)
{
	return *(volatile uint16 *)pd_cfg(pd, off);
}

void pci_cfg_write16(struct pci_dev *pd, int off, uint16 val)
{
	*(volatile uint16 *)pd_cfg(pd, off) = val;
}

// Give memory BAR i of pd (size sz) the next aligned address in the window.
// Returns 0, or -ENOSPC if the mapped part of the window is full.
static int pci_assign_bar(struct pci_dev *pd, int i, uint64 sz, bool is64)
{
	uint64 addr = (mmio_next + sz - 1) & ~(sz - 1);  // sizes are powers of 2
	if (addr + sz > PCIE_MMIO + PCIE_MMIO_MAPPED)
		return -ENOSPC;
	mmio_next = addr + sz;
	pci_cfg_write32(pd, PCI_BAR0 + 4 * i, (uint32)addr);
	if (is64)
		pci_cfg_write32(pd, PCI_BAR0 + 4 * (i + 1), (uint32)(addr >> 32));
	pd->pd_bar[i] = addr;
	pd->pd_barsize[i] = sz;
	return 0;
}

// Size and assign every memory BAR of pd [PCI 6.2.5.1]. Caller has turned
// memory decoding off.
static void pci_probe_bars(struct pci_dev *pd)
{
	for (int i = 0; i < PCI_NBAR; i++) {
		int off = PCI_BAR0 + 4 * i;
		uint32 orig = pci_cfg_read32(pd, off);
		if (orig & PCI_BAR_IO)
			continue;  // I/O space: no I/O window on this board
		bool is64 = PCI_BAR_TYPE(orig) == PCI_BAR_64 && i + 1 < PCI_NBAR;
		pci_cfg_write32(pd, off, 0xffffffff);
		uint64 mask = pci_cfg_read32(pd, off) & PCI_BAR_MEM_MASK;
		if (is64) {
			pci_cfg_write32(pd, off + 4, 0xffffffff);
			mask |= (uint64)pci_cfg_read32(pd, off + 4) << 32;
		} else {
			mask |= 0xffffffff00000000UL;  // a 32-bit BAR: upper bits "fixed"
		}
		uint64 sz = ~mask + 1;
		if (mask == 0xffffffff00000000UL || (mask >> 32) == 0) {
			pci_cfg_write32(pd, off, orig);  // not implemented
		} else if (pci_assign_bar(pd, i, sz, is64) < 0) {
			printf("pci %02x:%02x.%d: BAR%d (%lu KiB) does not fit in the MMIO window\n",
			       pd->pd_bus, pd->pd_slot, pd->pd_fn, i, sz >> 10);
			pci_cfg_write32(pd, off, 0);
		}
		if (is64)
			i++;  // the upper half is the next BAR register
	}
}

// Which PLIC line does pd's interrupt pin raise? -1 if it has none.
static int pci_route_intx(struct pci_dev *pd)
{
	int pin = *(volatile uint8 *)pd_cfg(pd, PCI_INTPIN);
	if (pin < 1 || pin > 4)
		return -1;
	int irq = PCI_INTX_PLIC_BASE + (pd->pd_slot + pin - 1) % 4;
	*(volatile uint8 *)pd_cfg(pd, PCI_INTLINE) = irq;  // for the record [PCI 6.2.4]
	return irq;
}

static const char *pci_class_name(uint32 class)
{
	switch (class >> 8) {
	case 0x0100: return "SCSI storage";
	case 0x0106: return "SATA";
	case 0x0200: return "Ethernet";
	case 0x0600: return "host bridge";
	case 0x0604: return "PCI bridge";
	default: return "";
	}
}

static void pci_print(struct pci_dev *pd)
{
	printf("pci %02x:%02x.%d %04x:%04x class %06x %s", pd->pd_bus, pd->pd_slot,
	       pd->pd_fn, pd->pd_vendor, pd->pd_device, pd->pd_class,
	       pci_class_name(pd->pd_class));
	if (pd->pd_irq >= 0)
		printf(", irq %d", pd->pd_irq);
	for (int i = 0; i < PCI_NBAR; i++)
		if (pd->pd_bar[i])
			printf(", bar%d 0x%lx (%lu KiB)", i, pd->pd_bar[i], pd->pd_barsize[i] >> 10);
	printf("\n");
}

// Record function bus:slot.fn, assign its BARs, enable memory decoding.
// Returns false if nothing is there.
static bool pci_probe_fn(int bus, int slot, int fn)
{
	uint32 id = *(volatile uint32 *)cfg_addr(bus, slot, fn, PCI_VENDOR);
	if ((id & 0xffff) == 0xffff)
		return false;  // no function: reads return all ones
	if (ndevs == PCI_MAXDEV) {
		printf("pci %02x:%02x.%d: too many devices, ignored\n", bus, slot, fn);
		return true;
	}
	struct pci_dev *pd = &devs[ndevs++];
	pd->pd_bus = bus;
	pd->pd_slot = slot;
	pd->pd_fn = fn;
	pd->pd_vendor = id & 0xffff;
	pd->pd_device = id >> 16;
	uint32 rc = pci_cfg_read32(pd, PCI_REVCLASS);
	pd->pd_rev = rc & 0xff;
	pd->pd_class = rc >> 8;
	pd->pd_irq = -1;
	uint8 hdr = *(volatile uint8 *)pd_cfg(pd, PCI_HEADER);
	if (PCI_HEADER_TYPE(hdr) == 0) {
		uint16 cmd = pci_cfg_read16(pd, PCI_COMMAND);
		pci_cfg_write16(pd, PCI_COMMAND, cmd & ~(PCI_CMD_MEM | PCI_CMD_MASTER));
		pci_probe_bars(pd);
		pd->pd_irq = pci_route_intx(pd);
		cmd &= ~PCI_CMD_INTX_DISABLE;
		pci_cfg_write16(pd, PCI_COMMAND, cmd | PCI_CMD_MEM);
	}
	pci_print(pd);
	return true;
}

static void pci_attach(struct pci_dev *pd)
{
	for (int i = 0; i < nelem(pci_drivers); i++) {
		struct pci_driver *drv = pci_drivers[i];
		if (drv->pdrv_vendor != pd->pd_vendor || drv->pdrv_device != pd->pd_device)
			continue;
		// The driver will DMA: let the device master the bus [PCI 6.2.2].
		uint16 cmd = pci_cfg_read16(pd, PCI_COMMAND);
		pci_cfg_write16(pd, PCI_COMMAND, cmd | PCI_CMD_MASTER);
		int r = drv->pdrv_attach(pd);
		if (r < 0) {
			printf("pci %02x:%02x.%d: %s: attach failed (%d)\n", pd->pd_bus,
			       pd->pd_slot, pd->pd_fn, drv->pdrv_name, r);
			pci_cfg_write16(pd, PCI_COMMAND, cmd);
			continue;
		}
		pd->pd_driver = drv;
		return;
	}
}

// Enumerate bus 0 and attach drivers. Runs once, on hart 0, at boot.
void pci_init(void)
{
	for (int slot = 0; slot < PCI_NSLOT; slot++) {
		if (!pci_probe_fn(0, slot, 0))
			continue;
		uint8 hdr = *(volatile uint8 *)cfg_addr(0, slot, 0, PCI_HEADER);
		if (hdr & PCI_HEADER_MULTIFN)
			for (int fn = 1; fn < PCI_NFN; fn++)
				pci_probe_fn(0, slot, fn);
	}
	for (int i = 0; i < ndevs; i++)
		pci_attach(&devs[i]);
}
