// fsck: check a netkern file-system image offline (host tool).
//
//   mkfs/fsck fs.img
//
// Exit status:
//   0  the image is consistent and its log is empty;
//   1  the image is inconsistent: one line "fsck: ..." per problem;
//   2  the log holds a committed transaction that the kernel has not
//      installed yet (a crash after the commit point). fsck checks the
//      image as recovery will leave it (it replays the log in memory, not
//      on disk) and exits 2 if that is consistent, 1 if not. Booting the
//      kernel once (fsinit recovers) and halting makes it 0.
//
// What it checks (see kernel/fsformat.h for the format):
//   - the superblock: magic, and a layout that matches the image size;
//   - every block an allocated inode uses (data and indirect blocks) lies
//     in the data area, is marked in the bitmap and is used only once;
//   - every block marked in the bitmap is used (else: leaked), metadata
//     blocks are marked, nothing past the end is marked;
//   - inode types and sizes are valid; inode 0 is free;
//   - every directory entry names an allocated inode with a valid name,
//     no directory has two entries of the same name;
//   - every directory starts with "." (itself) and ".." (its parent; the
//     root's is the root), and has exactly one name in its parent;
//   - every allocated inode is reachable from the root, and its nlink is
//     the number of directory entries naming it ("." and ".." included).
//
// The crash test uses it: kill QEMU in the middle of writes, boot again,
// halt, then fsck must exit 0.
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/stat.h"
#include "kernel/fsformat.h"

static const char *imgname;
static uint8 *img;            // the whole image, log replayed
static uint32 imgblocks;
static struct superblock sb;
static int nproblems;

static uint8 *blockuse;       // per block: number of uses by inodes (max 2)
static uint32 *links;         // per inode: directory entries naming it
static uint32 *parent;        // per directory: the directory naming it
static uint8 *reached;        // per inode: reachable from the root

static void problem(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("fsck: ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	nproblems++;
}

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "fsck: %s: ", imgname);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

static uint8 *block(uint32 bno)
{
	return img + (size_t)bno * BSIZE;
}

static struct dinode *dinode(uint32 inum)
{
	return (struct dinode *)block(IBLOCK(inum, sb)) + inum % IPB;
}

static bool bitmap_marked(uint32 bno)
{
	return block(BBLOCK(bno, sb))[bno % BPB / 8] & (1 << (bno % 8));
}

static void load_image(void)
{
	FILE *f = fopen(imgname, "rb");
	long size;

	if (f == NULL)
		die("%s", strerror(errno));
	if (fseek(f, 0, SEEK_END) < 0 || (size = ftell(f)) < 0)
		die("%s", strerror(errno));
	if (size < 2 * BSIZE || size % BSIZE != 0)
		die("size %ld is not a whole number of %d-byte blocks", size, BSIZE);
	imgblocks = size / BSIZE;
	img = malloc(size);
	if (img == NULL)
		die("out of memory");
	rewind(f);
	if (fread(img, 1, size, f) != (size_t)size)
		die("read error");
	fclose(f);
}

// The superblock must be right before anything else can be checked.
static void check_superblock(void)
{
	memcpy(&sb, block(SUPERBLOCK_BNO), sizeof(sb));
	if (sb.s_magic != FSMAGIC)
		die("bad magic %#x: not a netkern file system", sb.s_magic);
	if (sb.s_size > imgblocks)
		die("superblock says %u blocks, image has %u", sb.s_size, imgblocks);
	if (sb.s_ninodes < 2 || sb.s_nlog < 2 || sb.s_nlog - 1 > LOGSIZE ||
	    sb.s_logstart != SUPERBLOCK_BNO + 1 ||
	    sb.s_inodestart != sb.s_logstart + sb.s_nlog ||
	    sb.s_bmapstart != sb.s_inodestart + (sb.s_ninodes + IPB - 1) / IPB ||
	    sb.s_datastart != sb.s_bmapstart + (sb.s_size + BPB - 1) / BPB ||
	    sb.s_datastart >= sb.s_size ||
	    sb.s_nblocks != sb.s_size - sb.s_datastart)
		die("superblock layout is inconsistent (size %u ninodes %u nlog %u "
		    "log@%u inodes@%u bitmap@%u data@%u nblocks %u)", sb.s_size,
		    sb.s_ninodes, sb.s_nlog, sb.s_logstart, sb.s_inodestart,
		    sb.s_bmapstart, sb.s_datastart, sb.s_nblocks);
}

// Install a committed transaction in memory, as the kernel's recovery
// would. Returns whether there was one.
static bool replay_log(void)
{
	struct logheader lh;
	uint32 i, dst;

	memcpy(&lh, block(sb.s_logstart), sizeof(lh));
	if (lh.lh_n == 0)
		return false;
	if (lh.lh_n > sb.s_nlog - 1)
		die("log header claims %u blocks, the log holds %u", lh.lh_n,
		    sb.s_nlog - 1);
	for (i = 0; i < lh.lh_n; i++) {
		dst = lh.lh_block[i];
		if (dst < sb.s_inodestart || dst >= sb.s_size) {
			problem("log entry %u: home block %u is not an inode, bitmap "
				"or data block", i, dst);
			continue;
		}
		memcpy(block(dst), block(sb.s_logstart + 1 + i), BSIZE);
	}
	printf("fsck: %s: log holds a committed transaction of %u blocks "
	       "(recovery pending); checking the image as recovered\n",
	       imgname, lh.lh_n);
	return true;
}

// Record that inode inum uses block bno. Returns whether bno may be
// followed (for indirect blocks): in range and not seen before.
static bool use_block(uint32 inum, uint32 bno)
{
	if (bno < sb.s_datastart || bno >= sb.s_size) {
		problem("inode %u: block %u is outside the data area [%u, %u)",
			inum, bno, sb.s_datastart, sb.s_size);
		return false;
	}
	if (!bitmap_marked(bno))
		problem("inode %u: block %u is in use but free in the bitmap",
			inum, bno);
	if (blockuse[bno] > 0) {
		problem("inode %u: block %u is used more than once", inum, bno);
		return false;
	}
	blockuse[bno] = 1;
	return true;
}

// Walk the block tree under bno: depth 0 a data block, 1 an indirect
// block, 2 the doubly-indirect block.
static void walk_tree(uint32 inum, uint32 bno, int depth)
{
	uint32 a[NINDIRECT], i;

	if (bno == 0 || !use_block(inum, bno) || depth == 0)
		return;
	memcpy(a, block(bno), BSIZE);
	for (i = 0; i < NINDIRECT; i++)
		walk_tree(inum, a[i], depth - 1);
}

static void check_inodes(void)
{
	struct dinode *dip;
	uint32 inum, i;

	if (dinode(0)->di_type != 0)
		problem("inode 0 is allocated (it must stay free)");
	for (inum = 1; inum < sb.s_ninodes; inum++) {
		dip = dinode(inum);
		if (dip->di_type == 0)
			continue;
		if (dip->di_type != T_DIR && dip->di_type != T_FILE &&
		    dip->di_type != T_DEVICE) {
			problem("inode %u: bad type %d", inum, dip->di_type);
			continue;
		}
		if (dip->di_size > MAXFILESIZE)
			problem("inode %u: size %u beyond the maximum", inum,
				dip->di_size);
		for (i = 0; i < NDIRECT; i++)
			walk_tree(inum, dip->di_addrs[i], 0);
		walk_tree(inum, dip->di_addrs[IND_SLOT], 1);
		walk_tree(inum, dip->di_addrs[DIND_SLOT], 2);
	}
}

static void check_bitmap(void)
{
	uint32 bno, nleaked = 0;

	for (bno = 0; bno < sb.s_datastart; bno++)
		if (!bitmap_marked(bno))
			problem("metadata block %u is free in the bitmap", bno);
	for (bno = sb.s_datastart; bno < sb.s_size; bno++) {
		if (bitmap_marked(bno) && blockuse[bno] == 0) {
			if (nleaked++ < 20)
				problem("block %u is marked in the bitmap but "
					"unused (leaked)", bno);
			else
				nproblems++;
		}
	}
	if (nleaked > 20)
		printf("fsck: ... %u leaked blocks in all\n", nleaked);
	for (bno = sb.s_size; bno < (sb.s_datastart - sb.s_bmapstart) * BPB; bno++)
		if (bitmap_marked(bno))
			problem("bitmap marks block %u past the end", bno);
}

// Slot idx of indirect block ind, or 0 if ind is not a data block.
static uint32 ind_entry(uint32 ind, uint32 idx)
{
	if (ind < sb.s_datastart || ind >= sb.s_size)
		return 0;
	return ((uint32 *)block(ind))[idx];
}

// Block number of byte off of inode dip, or 0 (a hole, or a bad address
// already reported by check_inodes).
static uint32 file_block(struct dinode *dip, uint32 off)
{
	uint32 fbn = off / BSIZE, bno;

	if (fbn >= MAXFILE)
		return 0;
	if (fbn < NDIRECT) {
		bno = dip->di_addrs[fbn];
	} else if ((fbn -= NDIRECT) < NINDIRECT) {
		bno = ind_entry(dip->di_addrs[IND_SLOT], fbn);
	} else {
		fbn -= NINDIRECT;
		bno = ind_entry(ind_entry(dip->di_addrs[DIND_SLOT],
					  fbn / NINDIRECT), fbn % NINDIRECT);
	}
	return bno >= sb.s_datastart && bno < sb.s_size ? bno : 0;
}

// Entry i of directory dip, or NULL if its block is missing.
static struct dirent *dir_entry(struct dinode *dip, uint32 i)
{
	uint32 off = i * sizeof(struct dirent);
	uint32 bno = file_block(dip, off);

	if (bno == 0)
		return NULL;
	return (struct dirent *)(block(bno) + off % BSIZE);
}

static bool name_ok(const char *name)
{
	size_t len = strnlen(name, DIRSIZ);

	return len > 0 && memchr(name, '/', len) == NULL;
}

// Check "." and ".." of directory dinum (entries 0 and 1).
static void check_dots(uint32 dinum, struct dinode *dip, uint32 n)
{
	struct dirent *de0 = n > 0 ? dir_entry(dip, 0) : NULL;
	struct dirent *de1 = n > 1 ? dir_entry(dip, 1) : NULL;

	if (de0 == NULL || strncmp(de0->d_name, ".", DIRSIZ) != 0 ||
	    de0->d_inum != dinum)
		problem("directory %u: entry 0 is not \".\" naming itself", dinum);
	if (de1 == NULL || strncmp(de1->d_name, "..", DIRSIZ) != 0)
		problem("directory %u: entry 1 is not \"..\"", dinum);
}

// One entry of directory dinum: count the link, note parenthood.
static void check_entry(uint32 dinum, uint32 i, struct dirent *de)
{
	char name[DIRSIZ + 1];
	bool dot;

	memcpy(name, de->d_name, DIRSIZ);
	name[DIRSIZ] = '\0';
	if (de->d_inum >= sb.s_ninodes || dinode(de->d_inum)->di_type == 0) {
		problem("directory %u: entry \"%s\" names %s inode %u", dinum,
			name, de->d_inum >= sb.s_ninodes ? "nonexistent" : "free",
			de->d_inum);
		return;
	}
	if (!name_ok(name))
		problem("directory %u: entry %u has a bad name \"%s\"", dinum, i, name);
	dot = strcmp(name, ".") == 0 || strcmp(name, "..") == 0;
	if (dot && i > 1)
		problem("directory %u: \"%s\" at entry %u", dinum, name, i);
	links[de->d_inum]++;
	if (dot || dinode(de->d_inum)->di_type != T_DIR)
		return;
	if (parent[de->d_inum] != 0)
		problem("directory %u has names in directories %u and %u",
			de->d_inum, parent[de->d_inum], dinum);
	else
		parent[de->d_inum] = dinum;
}

// Two entries of one directory with the same name?
static void check_duplicates(uint32 dinum, struct dinode *dip, uint32 n)
{
	struct dirent *a, *b;
	uint32 i, j;

	for (i = 0; i < n; i++) {
		a = dir_entry(dip, i);
		if (a == NULL || a->d_inum == 0)
			continue;
		for (j = i + 1; j < n; j++) {
			b = dir_entry(dip, j);
			if (b != NULL && b->d_inum != 0 &&
			    strncmp(a->d_name, b->d_name, DIRSIZ) == 0)
				problem("directory %u: two entries named \"%.*s\"",
					dinum, DIRSIZ, a->d_name);
		}
	}
}

static void check_dir(uint32 dinum, struct dinode *dip)
{
	uint32 i, n = dip->di_size / sizeof(struct dirent);
	struct dirent *de;

	if (dip->di_size % sizeof(struct dirent) != 0)
		problem("directory %u: size %u is not a multiple of %zu", dinum,
			dip->di_size, sizeof(struct dirent));
	if (dip->di_size > MAXFILESIZE)
		return;     // reported by check_inodes
	check_dots(dinum, dip, n);
	for (i = 0; i < n; i++) {
		de = dir_entry(dip, i);
		if (de == NULL)
			problem("directory %u: hole at entry %u", dinum, i);
		else if (de->d_inum != 0)
			check_entry(dinum, i, de);
	}
	check_duplicates(dinum, dip, n);
}

// Mark everything reachable from directory dinum (depth-first). The
// recursion depth is bounded because each directory is entered once.
static void reach(uint32 dinum)
{
	struct dinode *dip = dinode(dinum);
	uint32 i, n = dip->di_size / sizeof(struct dirent);
	struct dirent *de;

	reached[dinum] = 1;
	if (dip->di_size > MAXFILESIZE)
		n = 0;      // reported by check_inodes
	for (i = 2; i < n; i++) {
		de = dir_entry(dip, i);
		if (de == NULL || de->d_inum == 0 || de->d_inum >= sb.s_ninodes ||
		    reached[de->d_inum] || dinode(de->d_inum)->di_type == 0)
			continue;
		if (dinode(de->d_inum)->di_type == T_DIR)
			reach(de->d_inum);
		else
			reached[de->d_inum] = 1;
	}
}

// ".." of directory dinum must name its parent.
static void check_dotdot(uint32 dinum)
{
	struct dinode *dip = dinode(dinum);
	struct dirent *de = dip->di_size >= 2 * sizeof(*de) ? dir_entry(dip, 1) : NULL;
	uint32 want = dinum == ROOTINO ? ROOTINO : parent[dinum];

	if (de != NULL && want != 0 && de->d_inum != want)
		problem("directory %u: \"..\" names %u, its parent is %u", dinum,
			de->d_inum, want);
}

static void check_tree(void)
{
	struct dinode *dip;
	uint32 inum;

	if (dinode(ROOTINO)->di_type != T_DIR) {
		problem("root inode %d is not a directory", ROOTINO);
		return;
	}
	for (inum = 1; inum < sb.s_ninodes; inum++)
		if (dinode(inum)->di_type == T_DIR)
			check_dir(inum, dinode(inum));
	if (parent[ROOTINO] != 0)
		problem("the root has a name in directory %u", parent[ROOTINO]);
	reach(ROOTINO);
	for (inum = 1; inum < sb.s_ninodes; inum++) {
		dip = dinode(inum);
		if (dip->di_type == 0)
			continue;
		if (!reached[inum])
			problem("inode %u (type %d, nlink %d) is allocated but not "
				"reachable from the root", inum, dip->di_type,
				dip->di_nlink);
		else if ((uint32)dip->di_nlink != links[inum])
			problem("inode %u: nlink %d, but %u directory entries name it",
				inum, dip->di_nlink, links[inum]);
		if (dip->di_type == T_DIR)
			check_dotdot(inum);
	}
}

int main(int argc, char *argv[])
{
	uint32 inum, nused = 0, bno, bused = 0;
	bool pending;

	if (argc != 2) {
		fprintf(stderr, "usage: fsck fs.img\n");
		return 1;
	}
	imgname = argv[1];
	load_image();
	check_superblock();
	pending = replay_log();
	blockuse = calloc(sb.s_size, 1);
	links = calloc(sb.s_ninodes, sizeof(*links));
	parent = calloc(sb.s_ninodes, sizeof(*parent));
	reached = calloc(sb.s_ninodes, 1);
	if (!blockuse || !links || !parent || !reached)
		die("out of memory");

	check_inodes();
	check_bitmap();
	check_tree();

	for (inum = 1; inum < sb.s_ninodes; inum++)
		nused += dinode(inum)->di_type != 0;
	for (bno = sb.s_datastart; bno < sb.s_size; bno++)
		bused += blockuse[bno];
	printf("fsck: %s: %u/%u inodes, %u/%u data blocks in use: %s\n",
	       imgname, nused, sb.s_ninodes, bused, sb.s_nblocks,
	       nproblems ? "INCONSISTENT" : pending ? "consistent after "
	       "recovery (boot once to recover)" : "clean");
	return nproblems ? 1 : pending ? 2 : 0;
}
