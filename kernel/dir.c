// File system, directory layer: directory entries and path-name lookup,
// on top of the inode layer (fs.c).
//
// Problem: turn "/usr/../bin/ls" into an inode while other processes
// create, delete and rename entries along the way, without deadlocking
// and without a lock on the whole tree.
//
// Idea: a directory is a file of struct dirent (fsformat.h). A lookup
// walks one element at a time and holds only the lock of the directory it
// is searching; it takes a reference to the next inode (iget) before it
// drops the directory's lock, so the next inode cannot be freed under it,
// and it locks the next one only after unlocking the current one. This is
// what makes "." (next == current) and ".." (next is an ancestor, locked
// in the "wrong" order) safe.
//
// Invariants: every directory starts with "." and ".."; names are 1 to
// DIRSIZ bytes without '/'; a directory never has two entries with the
// same name (callers check with dirlookup under the directory's lock
// before dirlink).
//
// Locking: the caller of dirlookup/dirlink/dirunlink/dirisempty holds the
// directory's i_lock. path_lookup()/path_parent() take and drop inode locks
// themselves and return an unlocked, referenced inode.
//
// Races:
//   - an element is removed while a lookup is past it: harmless, the
//     lookup holds a reference, so the inode lives until iput().
//   - creating in a directory that was just unlinked (someone's cwd):
//     callers refuse when the directory's i_nlink is 0 (sysfile.c).
//
// Life of a lookup: sys_open -> path_lookup -> namex -> skipelem ->
// ilock(dir) -> dirlookup -> readi -> iget(next) -> iunlockput(dir) ...
//
// Testing: usertests (paths with "." and "..", long names, ENOTDIR,
// ENOENT), fsck for the link counts. gdb: break dirlookup.
// References: xv6-riscv fs.c (namex, dirlookup, dirlink).
#include "kernel/types.h"
#include "kernel/param.h"
#include "kernel/errno.h"
#include "kernel/lock.h"
#include "kernel/proc.h"
#include "kernel/printf.h"
#include "kernel/string.h"
#include "kernel/stat.h"
#include "kernel/fs.h"
#include "kernel/inode.h"

// Does the directory entry name de_name (DIRSIZ bytes, NUL-padded) equal
// the string name?
static bool dirent_named(const char *de_name, const char *name)
{
	return strncmp(de_name, name, DIRSIZ) == 0;
}

bool dirisdot(const char *name)
{
	return strcmp(name, ".") == 0 || strcmp(name, "..") == 0;
}

#define DPB (BSIZE / sizeof(struct dirent))   // entries per block

// What dir_scan() looks for.
enum dir_want {
	DIR_NAMED,    // a used entry with the given name
	DIR_FREE,     // a free slot (d_inum == 0)
	DIR_USED,     // any used entry
};

static bool dirent_wanted(const struct dirent *de, enum dir_want want,
			  const char *name)
{
	switch (want) {
	case DIR_NAMED:
		return de->d_inum != 0 && dirent_named(de->d_name, name);
	case DIR_FREE:
		return de->d_inum == 0;
	case DIR_USED:
		return de->d_inum != 0;
	}
	return false;
}

// Scan directory dp from byte offset start (entry-aligned) for the first
// entry that dirent_wanted(). Returns 0 with its offset and inode number
// (either pointer may be NULL), or -ENOENT. Reads a block at a time, so a
// lookup in a big directory costs one bread() per block, not per entry.
// Caller holds dp's lock. Sleeps.
static int dir_scan(struct inode *dp, uint start, enum dir_want want,
		    const char *name, uint *poff, uint *pinum)
{
	struct dirent des[DPB];
	uint off, len, i;

	for (off = start; off < dp->i_size; off += len) {
		len = MIN(BSIZE - off % BSIZE, dp->i_size - off);
		// Entries tile blocks and the size is entry-aligned, so a short
		// read means a corrupt directory.
		if (readi(dp, false, (uint64)des, off, len) != (int)len ||
		    len % sizeof(des[0]) != 0)
			panic("dir_scan: directory %u: bad read at %u",
			      dp->i_inum, off);
		for (i = 0; i < len / sizeof(des[0]); i++) {
			if (!dirent_wanted(&des[i], want, name))
				continue;
			if (poff != NULL)
				*poff = off + i * sizeof(des[0]);
			if (pinum != NULL)
				*pinum = des[i].d_inum;
			return 0;
		}
	}
	return -ENOENT;
}

// Look name up in directory dp. Returns 0 with a referenced, unlocked
// inode in *ipp (and the entry's offset in *poff unless NULL), -ENOENT,
// -ENOTDIR if dp is not a directory, or -ENFILE if the inode table is full.
// Caller holds dp's lock. Sleeps.
int dirlookup(struct inode *dp, const char *name, uint *poff,
	      struct inode **ipp)
{
	uint inum;
	int err;

	KASSERT(holdingsleep(&dp->i_lock));
	if (dp->i_type != T_DIR)
		return -ENOTDIR;
	err = dir_scan(dp, 0, DIR_NAMED, name, poff, &inum);
	if (err < 0)
		return err;
	*ipp = iget(dp->i_dev, inum);
	return *ipp != NULL ? 0 : -ENFILE;
}

// Add the entry (name, inum) to directory dp, reusing a free slot or
// growing the directory by one entry. Returns 0, -EEXIST, -ENAMETOOLONG,
// or -ENOSPC/-EFBIG if the directory cannot grow. Caller holds dp's lock
// and is inside a transaction. Sleeps.
int dirlink(struct inode *dp, const char *name, uint inum)
{
	struct dirent de;
	uint off;
	int n;

	KASSERT(holdingsleep(&dp->i_lock));
	if (strlen(name) > DIRSIZ)
		return -ENAMETOOLONG;
	if (dir_scan(dp, 0, DIR_NAMED, name, NULL, NULL) == 0)
		return -EEXIST;
	if (dir_scan(dp, 0, DIR_FREE, NULL, &off, NULL) < 0)
		off = dp->i_size;       // no free slot: append
	memset(&de, 0, sizeof(de));
	strncpy(de.d_name, name, DIRSIZ);
	de.d_inum = inum;
	n = writei(dp, false, (uint64)&de, off, sizeof(de));
	if (n < 0)
		return n;
	// An entry never straddles a block, so the write is all or nothing.
	KASSERT(n == sizeof(de));
	return 0;
}

// Clear the entry at offset off of directory dp. Caller holds dp's lock
// and is inside a transaction. Sleeps. Returns 0 or -Exxx from writei.
int dirunlink(struct inode *dp, uint off)
{
	struct dirent de;
	int n;

	KASSERT(holdingsleep(&dp->i_lock));
	memset(&de, 0, sizeof(de));
	n = writei(dp, false, (uint64)&de, off, sizeof(de));
	return n == sizeof(de) ? 0 : (n < 0 ? n : -EIO);
}

// Does directory dp hold nothing but "." and ".."? Caller holds dp's lock.
bool dirisempty(struct inode *dp)
{
	KASSERT(holdingsleep(&dp->i_lock));
	return dir_scan(dp, 2 * sizeof(struct dirent), DIR_USED, NULL, NULL,
			NULL) == -ENOENT;
}

// Copy the next element of *pathp into name (NUL-terminated, at most
// DIRSIZ bytes) and advance *pathp past it and the slashes after it.
// Returns 1 if there was an element, 0 at the end of the path, or
// -ENAMETOOLONG.
//   "a/bb/c" -> name "a", rest "bb/c";  "///a//bb" -> "a", "bb";
//   "a" -> "a", "";  "" and "////" -> 0.
static int skipelem(const char **pathp, char *name)
{
	const char *path = *pathp, *start;
	size_t len;

	while (*path == '/')
		path++;
	if (*path == '\0')
		return 0;
	start = path;
	while (*path != '/' && *path != '\0')
		path++;
	len = path - start;
	if (len > DIRSIZ)
		return -ENAMETOOLONG;
	memmove(name, start, len);
	name[len] = '\0';
	while (*path == '/')
		path++;
	*pathp = path;
	return 1;
}

// Resolve path. With parent false, return in *ipp the inode it names.
// With parent true, stop one element early: return the directory that
// holds the last element and copy that element into name. A path without
// elements ("/") has the root as its parent and "." as its last element.
// Returns 0 or -Exxx; the inode comes back referenced and unlocked.
// Must be called inside a transaction (it calls iput). Sleeps.
static int namex(const char *path, bool parent, char *name,
		 struct inode **ipp)
{
	struct proc *p = myproc();
	struct inode *ip, *next;
	int r;

	if (*path == '\0')
		return -ENOENT;
	if (*path == '/' || p == NULL || p->cwd == NULL)
		ip = iget(ROOTDEV, ROOTINO);
	else
		ip = idup(p->cwd);
	if (ip == NULL)
		return -ENFILE;
	while ((r = skipelem(&path, name)) > 0) {
		ilock(ip);
		if (ip->i_type != T_DIR) {
			iunlockput(ip);
			return -ENOTDIR;
		}
		if (parent && *path == '\0') {
			iunlock(ip);     // name holds the last element
			*ipp = ip;
			return 0;
		}
		r = dirlookup(ip, name, NULL, &next);
		iunlockput(ip);      // before locking next: "." and ".."
		if (r < 0)
			return r;
		ip = next;
	}
	if (r < 0) {
		iput(ip);
		return r;
	}
	if (parent)
		strncpy(name, ".", DIRSIZ);
	*ipp = ip;
	return 0;
}

int path_lookup(const char *path, struct inode **ipp)
{
	char name[DIRSIZ + 1];

	return namex(path, false, name, ipp);
}

int path_parent(const char *path, char *name, struct inode **dpp)
{
	return namex(path, true, name, dpp);
}

// The inode path names, referenced and unlocked, or NULL for any error.
// For exec(); like every lookup it must run inside begin_op()/end_op().
struct inode *namei(const char *path)
{
	struct inode *ip;

	return path_lookup(path, &ip) == 0 ? ip : NULL;
}
