/* Test support for base/console: the receiving end of hull_send_fd (hull only sends). */
#ifndef HULL_TESTS_LIB_CONSOLE_TESTLIB_H
#define HULL_TESTS_LIB_CONSOLE_TESTLIB_H

#include "base/error.h"

int hull_recv_fd(int sock, int *fd, struct hull_err *err);

#endif
