/* recvtty SOCKET OUTFILE [INPUT] — a console-socket receiver for tests.
 * Listens on the unix socket SOCKET, then forks into the background (the
 * foreground process exits 0 once the socket is listening, so a test can
 * start the runtime right after). The background process accepts one
 * connection, receives the pty master sent with SCM_RIGHTS, records the
 * name of the fd's target in OUTFILE.name, copies everything the container writes to OUTFILE until the
 * pty hangs up (EIO) or 30 s pass. Built on the fly by tests/lib/fixtures.sh. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

static void die(const char *what) { perror(what); exit(1); }

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: %s SOCKET OUTFILE [INPUT]\n", argv[0]); return 2; }
    int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (ls < 0) die("socket");
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(argv[1]) >= sizeof sa.sun_path) { fprintf(stderr, "socket path too long\n"); return 2; }
    strcpy(sa.sun_path, argv[1]);
    unlink(argv[1]);
    if (bind(ls, (struct sockaddr *)&sa, sizeof sa) < 0) die("bind");
    if (listen(ls, 1) < 0) die("listen");
    int out = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0) die("open OUTFILE");
    fflush(stdout);
    pid_t p = fork();
    if (p < 0) die("fork");
    if (p > 0) return 0;
    setsid();
    int nul = open("/dev/null", O_RDWR);
    if (nul >= 0) { dup2(nul, 0); dup2(nul, 1); }
    alarm(30);
    int cs = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
    if (cs < 0) die("accept");
    char buf[4096], cbuf[CMSG_SPACE(sizeof(int))];
    struct iovec iov = { .iov_base = buf, .iov_len = sizeof buf };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
    ssize_t n = recvmsg(cs, &mh, MSG_CMSG_CLOEXEC);
    if (n < 0) die("recvmsg");
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) { fprintf(stderr, "no fd received\n"); return 1; }
    int master;
    memcpy(&master, CMSG_DATA(c), sizeof master);
    close(cs);
    close(ls);
    /* Record what was received: the link target (/dev/pts/ptmx or /dev/ptmx) and the message payload. */
    char name[512], target[256] = "";
    snprintf(name, sizeof name, "/proc/self/fd/%d", master);
    ssize_t tl = readlink(name, target, sizeof target - 1);
    if (tl > 0) target[tl] = 0;
    snprintf(name, sizeof name, "%s.name", argv[2]);
    FILE *f = fopen(name, "w");
    if (f) {
        fprintf(f, "fd=%s isatty=%d payload=%.*s\n", target, isatty(master), (int)n, buf);
        fclose(f);
    }
    /* INPUT is written once the container has printed something (so the runtime has
     * finished setting the terminal up and the process is running). */
    int sent = argc <= 3;
    for (;;) {
        ssize_t r = read(master, buf, sizeof buf);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        if (write(out, buf, r) != r) die("write OUTFILE");
        if (!sent) {
            const char *in = argv[3];
            size_t len = strlen(in);
            if (write(master, in, len) != (ssize_t)len) die("write master");
            sent = 1;
        }
    }
    return 0;
}
