// ls: list directories and files.
// Usage: ls [path ...]     (default: the current directory)
// One line per entry: name (padded), type (T_* of kernel/stat.h: 1 dir,
// 2 file, 3 device), inode number and size in bytes. A directory is read
// as the array of struct dirent that it is on disk (kernel/fsformat.h);
// each entry is stat'ed by opening it.
#include "user/user.h"
#include "kernel/fsformat.h"

#define NAMEWIDTH 14

static void
print_entry(const char *name, const struct stat *st)
{
	printf("%-*s %d %d %lu\n", NAMEWIDTH, name, st->type, st->ino,
	       (unsigned long)st->size);
}

// Stat path by opening it; false (errno set) on failure.
static bool
stat_path(const char *path, struct stat *st)
{
	int fd = open(path, O_RDONLY);
	bool ok;

	if (fd < 0)
		return false;
	ok = fstat(fd, st) == 0;
	close(fd);
	return ok;
}

// List the directory open as fd, whose path is dir.
static bool
list_dir(int fd, const char *dir)
{
	char path[MAXPATH + DIRSIZ + 2], name[DIRSIZ + 1];
	struct dirent de;
	struct stat st;
	bool ok = true;
	size_t len = strlen(dir);
	ssize_t n;

	if (len + 1 + DIRSIZ + 1 > sizeof(path)) {
		fprintf(2, "ls: %s: %s\n", dir, strerror(ENAMETOOLONG));
		return false;
	}
	while ((n = read(fd, &de, sizeof(de))) == sizeof(de)) {
		if (de.d_inum == 0)
			continue;
		memcpy(name, de.d_name, DIRSIZ);
		name[DIRSIZ] = '\0';
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		if (!stat_path(path, &st)) {
			fprintf(2, "ls: %s: %s\n", path, strerror(errno));
			ok = false;
			continue;
		}
		print_entry(name, &st);
	}
	if (n < 0) {
		fprintf(2, "ls: %s: %s\n", dir, strerror(errno));
		return false;
	}
	return ok;
}

static bool
ls(const char *path)
{
	struct stat st;
	bool ok = true;
	int fd;

	if ((fd = open(path, O_RDONLY)) < 0) {
		fprintf(2, "ls: %s: %s\n", path, strerror(errno));
		return false;
	}
	if (fstat(fd, &st) < 0) {
		fprintf(2, "ls: %s: %s\n", path, strerror(errno));
		ok = false;
	} else if (st.type == T_DIR) {
		ok = list_dir(fd, path);
	} else {
		print_entry(path, &st);
	}
	close(fd);
	return ok;
}

int
main(int argc, char *argv[])
{
	int status = 0;

	if (argc < 2)
		return ls(".") ? 0 : 1;
	for (int i = 1; i < argc; i++)
		if (!ls(argv[i]))
			status = 1;
	return status;
}
