/* vm/executor/settings.c: microVM settings from the environment, else from the
 * settings file (HULL_VM_CONFIG, default /etc/hull/vm.conf) — what podman and
 * containerd, which do not pass their caller's environment down, rely on —
 * and vm_opts_load over both; a malformed file is an error naming its line. */
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vm/executor/container.h"

/* a settings file as an administrator would write it: a comment, a blank line, spaces, a CR */
#define GOOD                                    \
    "# the guest for microVM containers\n"      \
    "\n"                                        \
    "HULL_VM_KERNEL=/opt/guest/vmlinuz\n"       \
    "  HULL_VM_CMDLINE = quiet  loglevel=1\r\n" \
    "HULL_VM_BOOT_TIMEOUT=30\n"                 \
    "HULL_VM_UPPER_SIZE=64M\n"                  \
    "HULL_VM_CONSOLE=1\n"

static char dir[64], conf[128];
static struct hull_err err;

static void write_conf(const char *text) {
    FILE *f = fopen(conf, "w");
    fputs(text, f);
    fclose(f);
    vm_settings_reset();
    memset(&err, 0, sizeof err);
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/hull-vmset.XXXXXX");
    if (!mkdtemp(dir)) bail_out("mkdtemp %s: %s", dir, strerror(errno));
    snprintf(conf, sizeof conf, "%s/vm.conf", dir);
    static const char *const vars[] = {"HULL_VM_KERNEL", "HULL_VM_INITRD", "HULL_VM_CMDLINE", "HULL_VM_BOOT_TIMEOUT",
                                       "HULL_VM_UPPER_SIZE", "HULL_VM_CONSOLE", "HULL_VM_ALLOW_SLOW_KVM", "HULL_VMM",
                                       "HULL_AGENT", "HULL_VM_TEST_AGENT"};
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++) unsetenv(vars[i]);
    setenv("HULL_VM_CONFIG", conf, 1);

    write_conf(GOOD "HULL_VM_TEST_AGENT=1\n");
    ok(vm_settings_load(&err) == -EINVAL && strstr(err.msg, "vm.conf:8: unknown setting \"HULL_VM_TEST_AGENT\""),
       "a name it does not know is an error with file and line (the test hook is environment-only): %s", err.msg);
    ok(vm_setting("HULL_VM_KERNEL") == NULL, "and nothing of that file is used");

    write_conf(GOOD);
    is_int(vm_settings_load(&err), 0, "a settings file: %s", err.msg);
    is_str(vm_setting("HULL_VM_KERNEL"), "/opt/guest/vmlinuz", "a value from the file");
    is_str(vm_setting("HULL_VM_CMDLINE"), "quiet  loglevel=1", "spaces around '=' and the CR dropped, inner spaces kept");
    ok(vm_setting("HULL_VM_INITRD") == NULL, "unset in both: NULL");
    setenv("HULL_VM_KERNEL", "/env/bzImage", 1);
    is_str(vm_setting("HULL_VM_KERNEL"), "/env/bzImage", "the environment wins over the file");
    setenv("HULL_VM_KERNEL", "", 1);
    is_str(vm_setting("HULL_VM_KERNEL"), "/opt/guest/vmlinuz", "an empty environment variable does not");
    unsetenv("HULL_VM_KERNEL");
    struct vm_opts o;
    is_int(vm_opts_load(&o, &err), 0, "vm_opts_load over the file: %s", err.msg);
    ok(o.boot_timeout_ms == 30000 && o.upper_bytes == 64ull << 20 && o.console && !o.allow_slow &&
       !strcmp(o.cmdline_extra, "quiet  loglevel=1"), "boot timeout, upper size, console and command line from it");

    write_conf("HULL_VM_BOOT_TIMEOUT=0\n");
    ok(vm_opts_load(&o, &err) == -EINVAL && strstr(err.msg, "HULL_VM_BOOT_TIMEOUT=0"),
       "a bad value in the file is refused like one in the environment: %s", err.msg);
    write_conf("HULL_VM_KERNEL /opt/k\n");
    ok(vm_opts_load(&o, &err) == -EINVAL && strstr(err.msg, "vm.conf:1: expected NAME=VALUE"),
       "a line without '=': %s", err.msg);
    char longline[6000];
    memset(longline, 'x', sizeof longline - 2);
    memcpy(longline, "HULL_VM_CMDLINE=", 16);
    longline[sizeof longline - 2] = '\n';
    longline[sizeof longline - 1] = '\0';
    write_conf(longline);
    ok(vm_settings_load(&err) == -EINVAL && strstr(err.msg, "line too long"), "an overlong line: %s", err.msg);

    setenv("HULL_VM_CONFIG", "/nonexistent/vm.conf", 1);
    vm_settings_reset();
    ok(vm_settings_load(&err) == -ENOENT && strstr(err.msg, "/nonexistent/vm.conf"),
       "HULL_VM_CONFIG naming a missing file is an error: %s", err.msg);
    unsetenv("HULL_VM_CONFIG");
    vm_settings_reset();
    if (access("/etc/hull/vm.conf", F_OK) < 0)
        is_int(vm_settings_load(&err), 0, "no /etc/hull/vm.conf: the environment and the defaults");
    else
        skip("this host has an /etc/hull/vm.conf");
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) diag("could not remove %s", dir);
    return done_testing();
}
