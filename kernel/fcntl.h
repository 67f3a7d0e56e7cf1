// open(2) flags and fcntl(2) commands, shared with user space.
// Values are Linux's.
#pragma once

#define O_RDONLY 0x000
#define O_WRONLY 0x001
#define O_RDWR 0x002
#define O_ACCMODE 0x003
#define O_CREAT 0x040
#define O_EXCL 0x080
#define O_TRUNC 0x200
#define O_APPEND 0x400
#define O_NONBLOCK 0x800

#define F_GETFL 3         // return the file status flags
#define F_SETFL 4         // set O_APPEND / O_NONBLOCK; others ignored

#define SEEK_SET 0
#define SEEK_CUR 1
#define SEEK_END 2
