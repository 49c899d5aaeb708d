/* The last two steps of a container process: chdir into process.cwd (refusing
 * a cwd that is not reachable from the container's "/", the leaked-fd attack
 * of CVE-2024-21626) and exec process.args with PATH taken from process.env. */
#include "linux/process.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HULL_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

int hull_process_chdir(const struct hull_process *p, struct hull_err *err) {
    const char *cwd = (p->cwd && p->cwd[0]) ? p->cwd : "/";
    if (chdir(cwd) < 0) return hull_err_sys(err, "chdir \"%s\"", cwd);
    /* A directory outside the current root (reached through an inherited fd,
     * e.g. cwd "/proc/self/fd/7") has no path from "/": getcwd() then fails
     * with ENOENT (glibc refuses the kernel's "(unreachable)" answer). */
    char buf[PATH_MAX];
    if (!getcwd(buf, sizeof buf)) {
        if (errno == ENOENT)
            return hull_err_set(err, EPERM, "chdir \"%s\": the directory is outside the container "
                                            "root (not reachable from /)", cwd);
        return hull_err_sys(err, "getcwd after chdir \"%s\"", cwd);
    }
    if (buf[0] != '/')
        return hull_err_set(err, EPERM, "chdir \"%s\": the directory is outside the container root "
                                        "(getcwd says \"%s\")", cwd, buf);
    /* The path getcwd names must lead, from "/", to the very directory we are
     * in; anything else means the cwd is not what the root shows. */
    struct stat here, there;
    if (stat(".", &here) < 0) return hull_err_sys(err, "stat cwd \"%s\"", cwd);
    if (stat(buf, &there) < 0) return hull_err_sys(err, "stat \"%s\" (cwd \"%s\")", buf, cwd);
    if (here.st_dev != there.st_dev || here.st_ino != there.st_ino)
        return hull_err_set(err, EPERM, "chdir \"%s\": \"%s\" from / is not the working directory",
                            cwd, buf);
    return 0;
}

static const char *env_path(char **env) {
    if (env)
        for (char **e = env; *e; e++)
            if (strncmp(*e, "PATH=", 5) == 0) return *e + 5;
    return HULL_DEFAULT_PATH;
}

int hull_process_exec(const struct hull_process *p, struct hull_err *err) {
    if (!p->args || !p->args[0] || !p->args[0][0])
        return hull_err_set(err, EINVAL, "exec: process.args is empty");
    const char *file = p->args[0];
    static char *empty_env[] = { NULL };
    char **envp = p->env ? p->env : empty_env;

    if (strchr(file, '/')) {
        execve(file, p->args, envp);
        return hull_err_sys(err, "exec \"%s\"", file);
    }

    /* PATH lookup as execvpe does it, but with the container's PATH, not
     * hull's: ENOENT/ENOTDIR go on to the next entry, EACCES is remembered
     * and reported if nothing else works, any other error stops. */
    const char *path = env_path(p->env);
    size_t flen = strlen(file);
    int first_eacces = 0;
    for (const char *s = path;; ) {
        const char *colon = strchrnul(s, ':');
        size_t dlen = (size_t)(colon - s);
        char cand[PATH_MAX];
        if (dlen + 1 + flen + 1 <= sizeof cand) {
            if (dlen == 0) {            /* an empty entry means the cwd */
                memcpy(cand, file, flen + 1);
            } else {
                memcpy(cand, s, dlen);
                cand[dlen] = '/';
                memcpy(cand + dlen + 1, file, flen + 1);
            }
            execve(cand, p->args, envp);
            switch (errno) {
            case ENOENT: case ENOTDIR: case ESTALE: case ENODEV: case ETIMEDOUT: case ELOOP:
                break;
            case EACCES:
                first_eacces = 1;
                break;
            default:
                return hull_err_sys(err, "exec \"%s\" (%s)", file, cand);
            }
        }
        if (!*colon) break;
        s = colon + 1;
    }
    if (first_eacces) return hull_err_set(err, EACCES, "exec \"%s\": %s", file, strerror(EACCES));
    return hull_err_set(err, ENOENT, "exec \"%s\": %s (not found in $PATH \"%s\")", file,
                        strerror(ENOENT), path);
}
