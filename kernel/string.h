// Kernel string and memory helpers (no libc in the kernel).
#pragma once
#include "kernel/types.h"

void *memset(void *dst, int c, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *p, const char *q);
int strncmp(const char *p, const char *q, size_t n);
char *strncpy(char *s, const char *t, size_t n);
size_t strlcpy(char *dst, const char *src, size_t n);
char *strchr(const char *s, int c);
