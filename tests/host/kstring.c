// The kernel's kernel/memword.c and kernel/string.c built for the host under other names
// (kstr_memset, ...), so tests/host/test_string.c can compare it with the
// C library's functions in the same program.
#define memset kstr_memset
#define memmove kstr_memmove
#define memcpy kstr_memcpy
#define memcmp kstr_memcmp
#define strlen kstr_strlen
#define strcmp kstr_strcmp
#define strncmp kstr_strncmp
#define strncpy kstr_strncpy
#define strlcpy kstr_strlcpy
#define strchr kstr_strchr
#include "kernel/memword.c"
#include "kernel/string.c"
