/* Error and log reporting: "hull: <msg>" on stderr, and the --log file
 * (text or --log-format json). The only place hull prints failures. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "base/state.h"

static void json_escape(FILE *f, const char *s) {
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
}

void cli_log(const char *level, const char *msg) {
    /* --debug without --log: debug lines go to stderr, like runc's */
    if (!g_opts.log_path && g_opts.debug && strcmp(level, "debug") == 0) {
        fprintf(stderr, "hull: debug: %s\n", msg);
        return;
    }
    if (!g_opts.log_path) return;
    int fd = open(g_opts.log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return;
    FILE *f = fdopen(fd, "a");
    if (!f) { close(fd); return; }
    char ts[64];
    hull_now_rfc3339(ts, sizeof ts);
    if (g_opts.log_json) {
        fprintf(f, "{\"level\":\"%s\",\"msg\":\"", level);
        json_escape(f, msg);
        fprintf(f, "\",\"time\":\"%s\"}\n", ts);
    } else {
        fprintf(f, "time=\"%s\" level=%s msg=\"%s\"\n", ts, level, msg);
    }
    fclose(f);
}

int cli_fail(const struct hull_err *err) {
    const char *msg = err && err->msg[0] ? err->msg : "unknown error";
    fprintf(stderr, "hull: %s\n", msg);
    cli_log("error", msg);
    return 1;
}

int cli_usage_error(const char *verb, const char *fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    fprintf(stderr, "hull: %s%s%s\n", verb ? verb : "", verb ? ": " : "", buf);
    cli_log("error", buf);
    return verb ? 1 : 2;
}
