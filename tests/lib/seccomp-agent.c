/* A tiny seccomp listener for tests: binds a unix socket, accepts one
 * connection from the runtime, writes the JSON it receives to a file, takes
 * the notify fd from SCM_RIGHTS and answers every notification with errno
 * EACCES ("decided by the agent"), until the fd closes.
 * usage: seccomp-agent SOCKET JSON_OUT */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: %s SOCKET JSON_OUT\n", argv[0]); return 2; }
    int ls = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", argv[1]);
    unlink(argv[1]);
    if (bind(ls, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(ls, 1) < 0) { perror("bind"); return 1; }
    printf("ready\n");
    fflush(stdout);
    int c = accept(ls, NULL, NULL);
    if (c < 0) { perror("accept"); return 1; }
    char buf[65536];
    union { char b[CMSG_SPACE(sizeof(int))]; struct cmsghdr a; } u;
    struct iovec iov = {.iov_base = buf, .iov_len = sizeof buf - 1};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof u.b};
    ssize_t n = recvmsg(c, &mh, 0);
    if (n <= 0) { perror("recvmsg"); return 1; }
    size_t len = (size_t)n;
    ssize_t more;
    while (len < sizeof buf - 1 && (more = read(c, buf + len, sizeof buf - 1 - len)) > 0) len += (size_t)more;
    buf[len] = '\0';
    FILE *f = fopen(argv[2], "w");
    if (f) { fputs(buf, f); fclose(f); }
    int fd = -1;
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
    if (cm && cm->cmsg_type == SCM_RIGHTS) memcpy(&fd, CMSG_DATA(cm), sizeof fd);
    if (fd < 0) { fprintf(stderr, "no fd\n"); return 1; }
    struct seccomp_notif *req;
    struct seccomp_notif_resp *resp;
    if (seccomp_notify_alloc(&req, &resp) < 0) return 1;
    for (;;) {
        memset(req, 0, sizeof *req);
        if (seccomp_notify_receive(fd, req) < 0) break;   /* the filter is gone */
        memset(resp, 0, sizeof *resp);
        resp->id = req->id;
        resp->error = -EACCES;
        seccomp_notify_respond(fd, resp);
    }
    return 0;
}
