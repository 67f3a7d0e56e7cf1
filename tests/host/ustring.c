// The user library's user/lib/string.c built for the host under other
// names (ustr_strlen, ...), so it is compiled and warned about on the
// host too (its mem* functions are kernel/memword.c, tested by kstring.c).
#define strlen ustr_strlen
#define strcmp ustr_strcmp
#define strncmp ustr_strncmp
#define strcpy ustr_strcpy
#define strncpy ustr_strncpy
#define strcat ustr_strcat
#define strchr ustr_strchr
#define strrchr ustr_strrchr
#define strstr ustr_strstr
#define strdup ustr_strdup
// user.h declares these with a file descriptor, unlike the C library.
#define fprintf ustr_fprintf
#define vfprintf ustr_vfprintf
#include "user/lib/string.c"
