/* process.terminal: a pty pair made inside the container (so the slave belongs
 * to the container's devpts) and the master handed to whoever listens on
 * --console-socket, with SCM_RIGHTS, the way runc/crun/containerd expect. */
#ifndef HULL_BASE_CONSOLE_H
#define HULL_BASE_CONSOLE_H

#include <stddef.h>
#include <termios.h>
#include "base/error.h"

/* Opens /dev/ptmx (of the current mount namespace), unlocks it, sets the window
 * size if rows/cols > 0, returns the master fd and writes the slave path. */
int hull_console_open(unsigned rows, unsigned cols, int *master, char *slave_path, size_t len,
                      struct hull_err *err);
/* Makes the slave the controlling terminal and stdin/stdout/stderr (setsid first). */
int hull_console_setup_slave(const char *slave_path, struct hull_err *err);
/* Connects to the AF_UNIX socket at path and sends fd with SCM_RIGHTS. */
int hull_console_send(const char *socket_path, int fd, struct hull_err *err);
/* Switches the terminal fd to `raw` (a termios without ICANON: the caller's
 * terminal while hull proxies a container's pty) without corrupting what its
 * line discipline already holds. In canonical mode an EOF character typed
 * (or sent by script(1) at the end of its input) is queued as a NUL byte
 * flagged "end of file"; leaving canonical mode drops the flag and a read
 * then returns a literal NUL. So first VEOF is disabled (an EOF arriving now
 * stays an ordinary character), the complete lines and EOFs already queued
 * are read in canonical mode and written to forward_to (an EOF as the VEOF
 * character, as a raw terminal would have delivered it), then `raw` is set.
 * What is left (a partial line) is read raw afterwards. On failure the
 * terminal's mode is put back. */
int hull_console_make_raw(int fd, const struct termios *raw, int forward_to, struct hull_err *err);
/* Generic helper: sends one fd over a connected unix socket (tests/lib/console_testlib.h receives it). */
int hull_send_fd(int sock, int fd, const char *tag, struct hull_err *err);

#endif
