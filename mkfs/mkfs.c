// mkfs: build a netkern file-system image on the host.
//
//   mkfs/mkfs fs.img file...
//
// makes fs.img, FSSIZE blocks of BSIZE bytes laid out as kernel/fsformat.h
// describes, with a root directory that holds each file under its base
// name, a leading '_' removed (user/_ls becomes /ls, README.md stays
// README.md). The kernel's fsinit() and mkfs/fsck read the result.
//
// How: every block starts zeroed (ftruncate); inodes are handed out from
// ROOTINO up and data blocks from the first data block up, so the bitmap
// is just "everything below freeblock is used", written at the end. The
// log is empty (header count 0).
//
// It includes no host header that defines struct stat (fcntl.h does), as
// kernel/stat.h has its own. Runs on a little-endian host (x86-64, arm64), as the disk format is
// little-endian; it checks that and refuses otherwise.
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/stat.h"
#include "kernel/fsformat.h"

#define NINODES 1024     // inodes in the image (64 blocks)

static int fsfd;
static struct superblock sb;
static uint32 freeinode = ROOTINO;   // next inode number to hand out
static uint32 freeblock;             // next data block to hand out

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "mkfs: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

static void wblock(uint32 bno, const void *buf)
{
	if (bno >= sb.s_size)
		die("write beyond the image (block %u)", bno);
	if (pwrite(fsfd, buf, BSIZE, (off_t)bno * BSIZE) != BSIZE)
		die("write block %u: %s", bno, strerror(errno));
}

static void rblock(uint32 bno, void *buf)
{
	if (pread(fsfd, buf, BSIZE, (off_t)bno * BSIZE) != BSIZE)
		die("read block %u: %s", bno, strerror(errno));
}

static void winode(uint32 inum, const struct dinode *din)
{
	uint8 buf[BSIZE];

	rblock(IBLOCK(inum, sb), buf);
	memcpy((struct dinode *)buf + inum % IPB, din, sizeof(*din));
	wblock(IBLOCK(inum, sb), buf);
}

static void rinode(uint32 inum, struct dinode *din)
{
	uint8 buf[BSIZE];

	rblock(IBLOCK(inum, sb), buf);
	memcpy(din, (struct dinode *)buf + inum % IPB, sizeof(*din));
}

static uint32 ialloc(short type)
{
	struct dinode din;
	uint32 inum = freeinode++;

	if (inum >= sb.s_ninodes)
		die("out of inodes (%u)", sb.s_ninodes);
	memset(&din, 0, sizeof(din));
	din.di_type = type;
	din.di_nlink = type == T_DIR ? 2 : 1;   // a directory's "." counts
	winode(inum, &din);
	return inum;
}

// A zeroed data block (the image starts all zeros).
static uint32 balloc(void)
{
	if (freeblock >= sb.s_size)
		die("image full: FSSIZE %d blocks is too small", FSSIZE);
	return freeblock++;
}

// Slot idx of indirect block ind, allocated if empty.
static uint32 ind_slot(uint32 ind, uint32 idx)
{
	uint32 a[NINDIRECT];

	rblock(ind, a);
	if (a[idx] == 0) {
		a[idx] = balloc();
		wblock(ind, a);
	}
	return a[idx];
}

// Disk block holding file block fbn of din, allocated if missing.
static uint32 bmap(struct dinode *din, uint32 fbn)
{
	uint32 slot;

	if (fbn >= MAXFILE)
		die("file too large");
	if (fbn < NDIRECT)
		slot = fbn;
	else if (fbn < NDIRECT + NINDIRECT)
		slot = IND_SLOT;
	else
		slot = DIND_SLOT;
	if (din->di_addrs[slot] == 0)
		din->di_addrs[slot] = balloc();
	if (fbn < NDIRECT)
		return din->di_addrs[slot];
	fbn -= NDIRECT;
	if (fbn < NINDIRECT)
		return ind_slot(din->di_addrs[slot], fbn);
	fbn -= NINDIRECT;
	return ind_slot(ind_slot(din->di_addrs[slot], fbn / NINDIRECT),
			fbn % NINDIRECT);
}

// Append n bytes to inode inum.
static void iappend(uint32 inum, const void *data, size_t n)
{
	const uint8 *p = data;
	struct dinode din;
	uint8 buf[BSIZE];
	uint32 off, bno, m;

	rinode(inum, &din);
	off = din.di_size;
	while (n > 0) {
		bno = bmap(&din, off / BSIZE);
		m = BSIZE - off % BSIZE;
		if (m > n)
			m = n;
		rblock(bno, buf);
		memcpy(buf + off % BSIZE, p, m);
		wblock(bno, buf);
		off += m;
		p += m;
		n -= m;
	}
	din.di_size = off;
	winode(inum, &din);
}

static void dir_add(uint32 dir, const char *name, uint32 inum)
{
	struct dirent de;

	memset(&de, 0, sizeof(de));
	de.d_inum = inum;
	memcpy(de.d_name, name, strnlen(name, DIRSIZ));  // NUL-padded, not terminated
	iappend(dir, &de, sizeof(de));
}

// Mark blocks 0 .. freeblock-1 used.
static void write_bitmap(void)
{
	uint8 buf[BSIZE];
	uint32 b, bb;

	for (bb = 0; bb * BPB < sb.s_size; bb++) {
		memset(buf, 0, sizeof(buf));
		for (b = 0; b < BPB && bb * BPB + b < freeblock; b++)
			buf[b / 8] |= 1 << (b % 8);
		wblock(sb.s_bmapstart + bb, buf);
	}
}

// Name of path in the image: its base name without a leading '_'.
static const char *image_name(const char *path)
{
	const char *name = strrchr(path, '/');

	name = name ? name + 1 : path;
	if (name[0] == '_')
		name++;
	if (name[0] == '\0' || strlen(name) > DIRSIZ)
		die("%s: name must be 1 to %d bytes", path, DIRSIZ);
	return name;
}

static void add_file(uint32 rootino, const char *path, char names[][DIRSIZ + 1],
		     int nnames)
{
	const char *name = image_name(path);
	uint8 buf[BSIZE * 8];
	uint32 inum;
	size_t n;
	FILE *f;
	int i;

	for (i = 0; i < nnames; i++)
		if (strcmp(names[i], name) == 0)
			die("%s: a second file named %s", path, name);
	strcpy(names[nnames], name);
	f = fopen(path, "rb");
	if (f == NULL)
		die("%s: %s", path, strerror(errno));
	inum = ialloc(T_FILE);
	dir_add(rootino, name, inum);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		iappend(inum, buf, n);
	if (ferror(f))
		die("%s: read error", path);
	fclose(f);
}

static void layout(void)
{
	uint32 ninodeblocks = (NINODES + IPB - 1) / IPB;
	uint32 nbitmap = (FSSIZE + BPB - 1) / BPB;

	sb.s_magic = FSMAGIC;
	sb.s_size = FSSIZE;
	sb.s_ninodes = NINODES;
	sb.s_nlog = LOGSIZE + 1;
	sb.s_logstart = SUPERBLOCK_BNO + 1;
	sb.s_inodestart = sb.s_logstart + sb.s_nlog;
	sb.s_bmapstart = sb.s_inodestart + ninodeblocks;
	sb.s_datastart = sb.s_bmapstart + nbitmap;
	if (sb.s_datastart >= FSSIZE)
		die("FSSIZE %d leaves no data blocks", FSSIZE);
	sb.s_nblocks = FSSIZE - sb.s_datastart;
	freeblock = sb.s_datastart;
}

int main(int argc, char *argv[])
{
	static char names[NINODES][DIRSIZ + 1];
	uint8 buf[BSIZE];
	uint32 one = 1, rootino;
	FILE *img;
	int i;

	if (argc < 2) {
		fprintf(stderr, "usage: mkfs fs.img file...\n");
		return 1;
	}
	if (*(uint8 *)&one != 1)
		die("the disk format is little-endian; this host is not");
	if (argc - 2 > NINODES - 2)
		die("too many files");
	img = fopen(argv[1], "w+b");
	if (img == NULL)
		die("%s: %s", argv[1], strerror(errno));
	fsfd = fileno(img);
	layout();
	if (ftruncate(fsfd, (off_t)FSSIZE * BSIZE) < 0)
		die("%s: %s", argv[1], strerror(errno));

	memset(buf, 0, sizeof(buf));
	memcpy(buf, &sb, sizeof(sb));
	wblock(SUPERBLOCK_BNO, buf);

	rootino = ialloc(T_DIR);
	if (rootino != ROOTINO)
		die("root is inode %u, not %d", rootino, ROOTINO);
	dir_add(rootino, ".", rootino);
	dir_add(rootino, "..", rootino);
	for (i = 2; i < argc; i++)
		add_file(rootino, argv[i], names, i - 2);
	write_bitmap();

	printf("mkfs: %s: %u blocks (%u meta, %u data: %u used), %u inodes "
	       "(%u used), log %u blocks\n", argv[1], sb.s_size, sb.s_datastart,
	       sb.s_nblocks, freeblock - sb.s_datastart, sb.s_ninodes,
	       freeinode - 1, sb.s_nlog);
	if (fclose(img) != 0)
		die("%s: %s", argv[1], strerror(errno));
	return 0;
}
