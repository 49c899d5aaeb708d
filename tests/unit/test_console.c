/* base/console.c: pty pair, SCM_RIGHTS fd passing (socketpair and the
 * --console-socket path), and the slave as controlling terminal. */
#include "base/console.h"
#include "tests/lib/console_testlib.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "tap.h"

/* Reads from fd until needle shows up or 2 s pass. */
static int read_until(int fd, const char *needle, char *buf, size_t len) {
    size_t got = 0;
    buf[0] = '\0';
    while (got < len - 1) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (poll(&p, 1, 2000) <= 0) break;
        ssize_t n = read(fd, buf + got, len - 1 - got);
        if (n <= 0) break;
        got += (size_t)n;
        buf[got] = '\0';
        if (strstr(buf, needle)) return 1;
    }
    return 0;
}

static void test_pty_and_socketpair(void) {
    struct hull_err err = {0};
    int master = -1;
    char slave[128];
    int rc = hull_console_open(24, 80, &master, slave, sizeof slave, &err);
    if (!ok(rc == 0, "console_open opens a pty pair")) {
        diag("%s", err.msg);
        for (int i = 0; i < 6; i++) skip("no pty");
        return;
    }
    like(slave, "/dev/pts/", "slave path is under /dev/pts (%s)", slave);
    struct winsize ws = {0};
    ioctl(master, TIOCGWINSZ, &ws);
    ok(ws.ws_row == 24 && ws.ws_col == 80, "window size 24x80 set on the pty");

    int sp[2];
    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp);
    ok(hull_send_fd(sp[0], master, "/dev/ptmx", &err) == 0, "send the master over a socketpair");
    int got = -1;
    ok(hull_recv_fd(sp[1], &got, &err) == 0 && got >= 0 && got != master, "receive it as a new fd");

    int sfd = open(slave, O_RDWR | O_NOCTTY);
    ssize_t w = write(sfd, "hello through the pty\n", 22);
    (void)w;
    char buf[256];
    ok(read_until(got, "hello through the pty", buf, sizeof buf), "what the slave writes is read from the received master");

    /* A message with no fd is an error, not fd 0. */
    w = write(sp[0], "x", 1);
    int none = 123;
    rc = hull_recv_fd(sp[1], &none, &err);
    ok(rc == -EBADMSG && none == -1, "recv_fd on a message without an fd fails");
    like(err.msg, "carried no fd", "... saying so");

    close(sfd);
    close(got);
    close(sp[0]);
    close(sp[1]);
    close(master);
}

static void test_console_socket(void) {
    char dir[] = "/tmp/hull-console-XXXXXX";
    if (!mkdtemp(dir)) bail_out("mkdtemp %s: %s", dir, strerror(errno));
    char path[100];
    snprintf(path, sizeof path, "%s/console.sock", dir);
    int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    memcpy(a.sun_path, path, sizeof path);
    bind(l, (struct sockaddr *)&a, sizeof a);
    listen(l, 1);

    struct hull_err err = {0};
    int master = -1;
    char slave[128];
    hull_console_open(0, 0, &master, slave, sizeof slave, &err);
    /* A stream connect to a listening socket completes before accept, so one
     * process can both send and receive. */
    int rc = hull_console_send(path, master, &err);
    if (!ok(rc == 0, "console_send to the --console-socket path")) diag("%s", err.msg);
    int c = accept4(l, NULL, NULL, SOCK_CLOEXEC), got = -1;
    ok(c >= 0 && hull_recv_fd(c, &got, &err) == 0, "the listener receives an fd");
    struct stat s1, s2;
    fstat(master, &s1);
    ok(got >= 0 && fstat(got, &s2) == 0 && s1.st_rdev == s2.st_rdev && s1.st_ino == s2.st_ino,
       "... and it is the pty master");

    rc = hull_console_send("/nonexistent/sock", master, &err);
    ok(rc < 0, "console_send to a missing socket fails");
    like(err.msg, "console socket: connect /nonexistent/sock: No such file or directory", "... naming the path");

    /* setup_slave in a child: it becomes the ctty and stdio. */
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        struct hull_err e = {0};
        if (hull_console_setup_slave(slave, &e) < 0) _exit(1);
        int tty = open("/dev/tty", O_RDWR);          /* works only with a controlling terminal */
        printf("ctty=%d isatty=%d%d%d sid=%d\n", tty >= 0, isatty(0), isatty(1), isatty(2),
               tcgetsid(0) == getpid());
        fflush(stdout);
        _exit(0);
    }
    char buf[512];
    read_until(master, "sid=", buf, sizeof buf);
    read_until(master, "\n", buf + strlen(buf), sizeof buf - strlen(buf));
    int st;
    waitpid(pid, &st, 0);
    like(buf, "ctty=1 isatty=111 sid=1", "setup_slave: new session, slave is the controlling tty and stdio");

    if (got >= 0) close(got);
    if (c >= 0) close(c);
    close(master);
    close(l);
    unlink(path);
    rmdir(dir);
}

int main(void) {
    if (access("/dev/ptmx", R_OK | W_OK) != 0) plan_skip_all("no /dev/ptmx");
    test_pty_and_socketpair();
    test_console_socket();
    return done_testing();
}
