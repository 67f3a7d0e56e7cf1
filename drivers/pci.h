// PCI(e) bus 0 of QEMU's virt machine: enumeration through ECAM, memory
// BAR assignment, INTx routing to the PLIC, and a small driver registry.
//
// A driver declares which vendor:device it drives and an attach function:
//
//     struct pci_driver e1000_pci_driver = {
//         .pdrv_name = "e1000", .pdrv_vendor = 0x8086, .pdrv_device = 0x100e,
//         .pdrv_attach = e1000_attach,
//     };
//
// and adds itself to the table pci_drivers[] in drivers/pci.c (one line).
// pci_init() (called once at boot, on hart 0) finds the devices, gives
// every memory BAR an address, turns on memory decoding and bus mastering,
// and calls the attach function of each matching driver with the device.
// See drivers/pci.c for the details and the config-space layout.
#pragma once
#include "kernel/types.h"

#define PCI_NBAR 6

struct pci_dev {
	uint8 pd_bus, pd_slot, pd_fn;  // [i] bus:slot.function
	uint16 pd_vendor;              // [i]
	uint16 pd_device;              // [i]
	uint32 pd_class;               // [i] class << 16 | subclass << 8 | prog-if
	uint8 pd_rev;                  // [i]
	int pd_irq;                    // [i] PLIC line of its INTx pin, -1: none
	uint64 pd_bar[PCI_NBAR];       // [i] assigned address of memory BAR i, 0: none
	uint64 pd_barsize[PCI_NBAR];   // [i] its size in bytes
	struct pci_driver *pd_driver;  // [i] the driver that attached, or NULL
	void *pd_softc;                // [i] the driver's per-device state
};

struct pci_driver {
	const char *pdrv_name;         // e.g. "e1000"
	uint16 pdrv_vendor;
	uint16 pdrv_device;
	// Called once per matching device at boot, on hart 0, with interrupts
	// on; may allocate memory, must not sleep. Returns 0 or -Exxx.
	int (*pdrv_attach)(struct pci_dev *pd);
};

void pci_init(void);

// Config-space access for drivers (offset in bytes, naturally aligned).
uint32 pci_cfg_read32(struct pci_dev *pd, int off);
void pci_cfg_write32(struct pci_dev *pd, int off, uint32 val);
uint16 pci_cfg_read16(struct pci_dev *pd, int off);
void pci_cfg_write16(struct pci_dev *pd, int off, uint16 val);
