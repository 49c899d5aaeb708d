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

/* Waits until the slave has something readable, then a little longer: the
 * pty's line discipline takes what the master writes asynchronously. */
static void settle(int slave) {
    struct pollfd p = {.fd = slave, .events = POLLIN};
    poll(&p, 1, 2000);
    usleep(100 * 1000);
}

/* Reads what fd has within 200 ms (non-blocking reads): its length, -1 on none. */
static ssize_t read_some(int fd, char *buf, size_t len) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 200) <= 0 || !(p.revents & POLLIN)) return -1;
    return read(fd, buf, len);
}

/* The caller's terminal of `exec -t`/`run -t` going raw while script(1) (or
 * a user) already sent a line and an EOF in canonical mode: they reach the
 * proxy's master as "ls\n" and ^D, and no NUL byte appears (a plain
 * tcsetattr turns the queued EOF into one). */
static void test_make_raw_keeps_pending_eof(void) {
    struct hull_err err = {0};
    int master = -1;
    char path[128];
    if (hull_console_open(0, 0, &master, path, sizeof path, &err) < 0) {
        for (int i = 0; i < 5; i++) skip("no pty");
        return;
    }
    int slave = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
    int pp[2] = {-1, -1};
    struct termios cooked, raw;
    if (slave < 0 || pipe2(pp, O_CLOEXEC | O_NONBLOCK) < 0 || tcgetattr(slave, &cooked) < 0) {
        for (int i = 0; i < 5; i++) skip("slave/pipe set-up failed");
        goto out;
    }
    cooked.c_lflag &= (tcflag_t)~ECHO;   /* the master then reads back nothing of ours */
    tcsetattr(slave, TCSANOW, &cooked);
    ssize_t w = write(master, "ls\n\x04", 4);   /* a line, then EOF, while canonical */
    (void)w;
    settle(slave);
    raw = cooked;
    cfmakeraw(&raw);
    int rc = hull_console_make_raw(slave, &raw, pp[1], &err);
    if (!ok(rc == 0, "make_raw of a canonical pty with a line and an EOF queued")) diag("%s", err.msg);
    char buf[64];
    ssize_t n = read_some(pp[0], buf, sizeof buf);
    ok(n == 4 && memcmp(buf, "ls\n\x04", 4) == 0, "what was queued is forwarded: the line, and the EOF as ^D (%zd bytes)", n);
    n = read_some(slave, buf, sizeof buf);
    ok(n < 0, "the raw terminal holds nothing more: no NUL in place of the EOF (%zd bytes, first 0x%02x)", n,
       n > 0 ? (unsigned char)buf[0] : 0);
    struct termios now;
    tcgetattr(slave, &now);
    ok(!(now.c_lflag & ICANON) && now.c_cc[VEOF] == cooked.c_cc[VEOF], "the terminal is raw, VEOF as given");
    w = write(master, "\x04x", 2);   /* after the switch, ^D is an ordinary byte */
    n = read_some(slave, buf, sizeof buf);
    ok(n == 2 && buf[0] == 4 && buf[1] == 'x', "a ^D typed after the switch is read raw as 0x04");
out:
    if (pp[0] >= 0) close(pp[0]);
    if (pp[1] >= 0) close(pp[1]);
    if (slave >= 0) close(slave);
    close(master);
}

static void test_make_raw_not_a_tty(void) {
    struct hull_err err = {0};
    int pp[2];
    if (pipe2(pp, O_CLOEXEC) < 0) {
        skip("pipe");
        return;
    }
    struct termios raw = {0};
    int rc = hull_console_make_raw(pp[0], &raw, pp[1], &err);
    ok(rc == -ENOTTY, "make_raw of a pipe: -ENOTTY (%d: %s)", rc, err.msg);
    close(pp[0]);
    close(pp[1]);
}

int main(void) {
    if (access("/dev/ptmx", R_OK | W_OK) != 0) plan_skip_all("no /dev/ptmx");
    test_pty_and_socketpair();
    test_console_socket();
    test_make_raw_keeps_pending_eof();
    test_make_raw_not_a_tty();
    return done_testing();
}
