// Open files (struct file) as seen outside the file system.
#pragma once
#include "kernel/types.h"

struct file;
struct file *filedup(struct file *f);
void fileclose(struct file *f);
