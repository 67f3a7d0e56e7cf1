// Write-ahead log of the file system (see log.c). begin_op()/end_op(), the
// bracket around every file-system system call, are declared in fs.h.
#pragma once
#include "kernel/types.h"

struct buf;
struct superblock;

void initlog(uint dev, const struct superblock *sb);
// Record that the caller changed b in the current transaction; use instead
// of bwrite(). Caller holds b->b_lock and is inside begin_op()/end_op().
void log_write(struct buf *b);
