// virtio-blk driver for QEMU's virt machine: the disk that holds the file
// system, as a modern (version 2) virtio-mmio device at VIRTIO0.
//
// Problem: the buffer cache (bio.c) wants "read/write this block, wake me
// when done" from any hart, while the device speaks in descriptor rings
// in shared memory and one interrupt line.
//
// Idea: one split virtqueue of NUM descriptors [VIRTIO 2.6]. A request is
// a chain of three descriptors: the request header (type, sector), the
// buffer's data, and a status byte the device writes. virtio_disk_rw()
// builds the chain, puts its head on the available ring, notifies the
// device and sleeps on the buffer; the interrupt handler walks the used
// ring, marks each finished buffer done and wakes its sleeper. Several
// requests (from several harts) may be in flight at once.
//
// Invariants:
//   - a descriptor is either free (free[i]) or part of exactly one
//     in-flight chain, whose head indexes info[] and reqs[];
//   - b->b_disk is true exactly while b's request is in flight;
//   - used_idx trails used->idx: entries in between are finished but not
//     yet handled.
//
// Locking: disk.lock (spinlock) guards everything in disk, and b_disk of
// every buffer. The ring memory is shared with the device: the order of
// our writes to it is enforced with fences (__sync_synchronize), not with
// the lock. The handler runs on whichever hart the PLIC picked.
//
// Races:
//   - out of descriptors: virtio_disk_rw() sleeps on &disk.free[0];
//     free_chain() wakes it.
//   - completion before the sleeper sleeps: b_disk is checked and sleep()
//     entered with disk.lock held, which the handler needs to clear it.
//
// Life of a request: bread -> virtio_disk_rw -> alloc3 -> avail ring ->
// QUEUE_NOTIFY -> (device) -> PLIC IRQ 1 -> trap -> virtio_disk_intr ->
// used ring -> wakeup(b) -> virtio_disk_rw returns.
//
// Testing: every boot (the root file system); usertests with CPUS=4 for
// concurrent requests. gdb: break virtio_disk_intr.
// References: [VIRTIO] (see drivers/virtio.h); xv6-riscv virtio_disk.c.
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/memlayout.h"
#include "kernel/riscv.h"
#include "kernel/lock.h"
#include "kernel/proc.h"
#include "kernel/printf.h"
#include "kernel/string.h"
#include "kernel/kalloc.h"
#include "kernel/intr.h"
#include "kernel/buf.h"
#include "drivers/virtio.h"

#define NUM 32   // descriptors in the queue; a power of 2, <= QueueNumMax

static inline volatile uint32 *virtio_reg(int off)
{
	return (volatile uint32 *)(VIRTIO0 + off);
}

static struct {
	struct spinlock lock;
	struct virtq_desc *desc;     // [s] lock, page 1 of 3 (kalloc)
	struct virtq_avail *avail;   // [s] page 2
	struct virtq_used *used;     // [s] page 3, written by the device
	bool free[NUM];              // [s] descriptor i is free
	uint16 used_idx;             // [s] next used-ring entry to handle
	uint64 capacity;             // [i] disk size in 512-byte sectors
	// Per in-flight chain, indexed by its head descriptor.
	struct {
		struct buf *b;           // [s]
		volatile uint8 status;   // written by the device
	} info[NUM];
	struct virtio_blk_req reqs[NUM];  // [s] request headers
} disk;

// Negotiate features [VIRTIO 3.1.1 steps 4-6]: accept VERSION_1 and
// nothing else; refuse a read-only disk.
static void virtio_disk_features(void)
{
	uint32 lo, hi;

	*virtio_reg(VIRTIO_MMIO_DEVICE_FEATURES_SEL) = 0;
	lo = *virtio_reg(VIRTIO_MMIO_DEVICE_FEATURES);
	*virtio_reg(VIRTIO_MMIO_DEVICE_FEATURES_SEL) = 1;
	hi = *virtio_reg(VIRTIO_MMIO_DEVICE_FEATURES);
	if (lo & (1u << VIRTIO_BLK_F_RO))
		panic("virtio disk: device is read-only");
	if (!(hi & (1u << (VIRTIO_F_VERSION_1 - 32))))
		panic("virtio disk: device does not offer VERSION_1");
	*virtio_reg(VIRTIO_MMIO_DRIVER_FEATURES_SEL) = 0;
	*virtio_reg(VIRTIO_MMIO_DRIVER_FEATURES) = 0;
	*virtio_reg(VIRTIO_MMIO_DRIVER_FEATURES_SEL) = 1;
	*virtio_reg(VIRTIO_MMIO_DRIVER_FEATURES) = 1u << (VIRTIO_F_VERSION_1 - 32);
	*virtio_reg(VIRTIO_MMIO_STATUS) |= VIRTIO_STATUS_FEATURES_OK;
	if (!(*virtio_reg(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK))
		panic("virtio disk: features not accepted");
}

// Write a 64-bit guest-physical address into a LOW/HIGH register pair.
static void virtio_reg_addr(int low, void *p)
{
	*virtio_reg(low) = (uint64)p & 0xffffffff;
	*virtio_reg(low + 4) = (uint64)p >> 32;
}

// Set up queue 0 [VIRTIO 4.2.3.2]: three zeroed pages for the descriptor
// table, the available ring and the used ring.
static void virtio_disk_queue(void)
{
	int i;

	*virtio_reg(VIRTIO_MMIO_QUEUE_SEL) = 0;
	if (*virtio_reg(VIRTIO_MMIO_QUEUE_READY) != 0)
		panic("virtio disk: queue 0 already in use");
	if (*virtio_reg(VIRTIO_MMIO_QUEUE_NUM_MAX) < NUM)
		panic("virtio disk: queue 0 shorter than %d", NUM);
	disk.desc = kalloc();
	disk.avail = kalloc();
	disk.used = kalloc();
	if (!disk.desc || !disk.avail || !disk.used)
		panic("virtio disk: no memory for the rings");
	memset(disk.desc, 0, PGSIZE);
	memset(disk.avail, 0, PGSIZE);
	memset(disk.used, 0, PGSIZE);
	*virtio_reg(VIRTIO_MMIO_QUEUE_NUM) = NUM;
	virtio_reg_addr(VIRTIO_MMIO_QUEUE_DESC_LOW, disk.desc);
	virtio_reg_addr(VIRTIO_MMIO_QUEUE_DRIVER_LOW, disk.avail);
	virtio_reg_addr(VIRTIO_MMIO_QUEUE_DEVICE_LOW, disk.used);
	*virtio_reg(VIRTIO_MMIO_QUEUE_READY) = 1;
	for (i = 0; i < NUM; i++)
		disk.free[i] = true;
}

// The disk size in sectors. [VIRTIO 4.2.2.2] a 64-bit configuration
// field is read as two 32-bit halves, retried if the generation changed.
static uint64 virtio_disk_capacity(void)
{
	int cap = VIRTIO_MMIO_CONFIG + VIRTIO_BLK_CONFIG_CAPACITY;
	uint32 gen, lo, hi;

	do {
		gen = *virtio_reg(VIRTIO_MMIO_CONFIG_GENERATION);
		lo = *virtio_reg(cap);
		hi = *virtio_reg(cap + 4);
	} while (gen != *virtio_reg(VIRTIO_MMIO_CONFIG_GENERATION));
	return (uint64)hi << 32 | lo;
}

// Find and initialise the disk [VIRTIO 3.1.1]. Called once from main() on
// the boot hart, before any file-system use.
void virtio_disk_init(void)
{
	uint32 status = 0;

	initlock(&disk.lock, "virtio_disk");
	if (*virtio_reg(VIRTIO_MMIO_MAGIC_VALUE) != VIRTIO_MAGIC ||
	    *virtio_reg(VIRTIO_MMIO_DEVICE_ID) != VIRTIO_DEVICE_BLOCK)
		panic("virtio disk: no block device at %p", (void *)VIRTIO0);
	if (*virtio_reg(VIRTIO_MMIO_VERSION) != 2)
		panic("virtio disk: legacy device; run QEMU with "
		      "-global virtio-mmio.force-legacy=false");

	*virtio_reg(VIRTIO_MMIO_STATUS) = 0;             // reset
	status |= VIRTIO_STATUS_ACKNOWLEDGE;
	*virtio_reg(VIRTIO_MMIO_STATUS) = status;
	status |= VIRTIO_STATUS_DRIVER;
	*virtio_reg(VIRTIO_MMIO_STATUS) = status;
	virtio_disk_features();
	virtio_disk_queue();
	disk.capacity = virtio_disk_capacity();
	*virtio_reg(VIRTIO_MMIO_STATUS) |= VIRTIO_STATUS_DRIVER_OK;

	intr_register(VIRTIO0_IRQ, virtio_disk_intr, NULL);
}

// Take a free descriptor, or return -1. Caller holds disk.lock.
static int alloc_desc(void)
{
	int i;

	for (i = 0; i < NUM; i++) {
		if (disk.free[i]) {
			disk.free[i] = false;
			return i;
		}
	}
	return -1;
}

static void free_desc(int i)
{
	KASSERT(i >= 0 && i < NUM && !disk.free[i]);
	memset(&disk.desc[i], 0, sizeof(disk.desc[i]));
	disk.free[i] = true;
}

// Free the chain starting at head and wake anyone waiting for descriptors.
// Caller holds disk.lock.
static void free_chain(int head)
{
	int i = head, next;
	bool more;

	do {
		more = disk.desc[i].flags & VIRTQ_DESC_F_NEXT;
		next = disk.desc[i].next;
		free_desc(i);
		i = next;
	} while (more);
	wakeup(&disk.free[0]);
}

// Take three descriptors into idx[], all or none. Returns 0 or -1.
// Caller holds disk.lock.
static int alloc3(int idx[3])
{
	int i, j;

	for (i = 0; i < 3; i++) {
		idx[i] = alloc_desc();
		if (idx[i] < 0) {
			for (j = 0; j < i; j++)
				free_desc(idx[j]);
			return -1;
		}
	}
	return 0;
}

// Fill descriptor i with (addr, len, flags), chaining to next if >= 0.
static void set_desc(int i, void *addr, uint32 len, uint16 flags, int next)
{
	disk.desc[i].addr = (uint64)addr;
	disk.desc[i].len = len;
	disk.desc[i].flags = flags | (next >= 0 ? VIRTQ_DESC_F_NEXT : 0);
	disk.desc[i].next = next >= 0 ? next : 0;
}

// Read (write false) or write block b->b_blockno from/to b->b_data.
// Caller holds b->b_lock. Sleeps until the device has finished; any hart,
// process context only.
void virtio_disk_rw(struct buf *b, bool write)
{
	uint64 sector = (uint64)b->b_blockno * (BSIZE / VIRTIO_BLK_SECTOR_SIZE);
	int idx[3];

	KASSERT(holdingsleep(&b->b_lock));
	if (sector + BSIZE / VIRTIO_BLK_SECTOR_SIZE > disk.capacity)
		panic("virtio disk: block %u beyond the disk", b->b_blockno);
	acquire(&disk.lock);
	while (alloc3(idx) < 0)
		sleep(&disk.free[0], &disk.lock);

	// [VIRTIO 5.2.6] header (device reads), data, status (device writes).
	disk.reqs[idx[0]].type = write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN;
	disk.reqs[idx[0]].reserved = 0;
	disk.reqs[idx[0]].sector = sector;
	set_desc(idx[0], &disk.reqs[idx[0]], sizeof(struct virtio_blk_req), 0,
		 idx[1]);
	set_desc(idx[1], b->b_data, BSIZE, write ? 0 : VIRTQ_DESC_F_WRITE,
		 idx[2]);
	disk.info[idx[0]].status = 0xff;   // the device stores 0 on success
	set_desc(idx[2], (void *)&disk.info[idx[0]].status, 1,
		 VIRTQ_DESC_F_WRITE, -1);

	b->b_disk = true;
	disk.info[idx[0]].b = b;

	// [VIRTIO 2.6.13] put the head on the available ring, then publish
	// it with idx; the fences keep the device from seeing idx first.
	disk.avail->ring[disk.avail->idx % NUM] = idx[0];
	__sync_synchronize();
	disk.avail->idx += 1;
	__sync_synchronize();
	*virtio_reg(VIRTIO_MMIO_QUEUE_NOTIFY) = 0;   // queue 0

	while (b->b_disk)
		sleep(b, &disk.lock);

	disk.info[idx[0]].b = NULL;
	free_chain(idx[0]);
	release(&disk.lock);
}

// Interrupt handler (PLIC line VIRTIO0_IRQ), on any hart, interrupts off.
// Hands every finished request back to its sleeper.
void virtio_disk_intr(void *arg)
{
	struct buf *b;
	int id;

	acquire(&disk.lock);
	// Acknowledge first: a completion that arrives while we walk the
	// ring raises a new interrupt instead of being lost.
	*virtio_reg(VIRTIO_MMIO_INTERRUPT_ACK) =
		*virtio_reg(VIRTIO_MMIO_INTERRUPT_STATUS) & 0x3;
	__sync_synchronize();

	// The device bumps used->idx after filling the entry.
	while (disk.used_idx != *(volatile uint16 *)&disk.used->idx) {
		__sync_synchronize();
		id = disk.used->ring[disk.used_idx % NUM].id;
		KASSERT(id >= 0 && id < NUM);
		if (disk.info[id].status != VIRTIO_BLK_S_OK)
			panic("virtio disk: request %d failed, status %d", id,
			      disk.info[id].status);
		b = disk.info[id].b;
		KASSERT(b != NULL);
		b->b_disk = false;     // the buffer is ours again
		wakeup(b);
		disk.used_idx += 1;
	}
	release(&disk.lock);
}
