// CHECK(cond) of the host tests: fail the current test (the child exits 1)
// with the file and line. Shared by test.h (tests of net/) and the driver
// tests in tests/host/drv, which are built with the kernel's headers and
// so cannot include test.h.
#pragma once
#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                          \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n",         \
				__FILE__, __LINE__, #cond);                  \
			exit(1);                                             \
		}                                                            \
	} while (0)
