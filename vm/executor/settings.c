/* microVM settings: each HULL_VM_* (and HULL_VMM, HULL_AGENT) comes from the
 * environment, else from the settings file — /etc/hull/vm.conf, or the file
 * HULL_VM_CONFIG names. The file exists because the clients that pick the VM
 * mode per container do not pass their caller's environment down: podman
 * starts conmon, and conmon the runtime, with an environment of their own.
 *
 * Format: NAME=VALUE lines, the names of the environment variables; blank
 * lines and lines starting with # are skipped; no quoting (a value runs to
 * the end of its line, spaces kept). An unknown name or a line without '='
 * is an error that names the file and line: a typo must not silently fall
 * back to a default kernel. */
#include "vm/executor/container.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VM_SETTINGS_DEFAULT "/etc/hull/vm.conf"

static const char *const known[] = {
    "HULL_VM_KERNEL", "HULL_VM_INITRD", "HULL_VM_CMDLINE", "HULL_VM_BOOT_TIMEOUT", "HULL_VM_UPPER_SIZE",
    "HULL_VM_CONSOLE", "HULL_VM_ALLOW_SLOW_KVM", "HULL_VMM", "HULL_AGENT",
};
#define N_KNOWN (sizeof known / sizeof *known)

static struct {
    bool loaded;
    char *value[N_KNOWN];   /* from the file; NULL: not set there */
} file;

static int known_index(const char *name, size_t len) {
    for (size_t i = 0; i < N_KNOWN; i++)
        if (strlen(known[i]) == len && strncmp(known[i], name, len) == 0) return (int)i;
    return -1;
}

void vm_settings_reset(void) {
    for (size_t i = 0; i < N_KNOWN; i++) {
        free(file.value[i]);
        file.value[i] = NULL;
    }
    file.loaded = false;
}

int vm_settings_load(struct hull_err *err) {
    if (file.loaded) return 0;
    const char *path = getenv("HULL_VM_CONFIG");
    bool named = path && *path;
    if (!named) path = VM_SETTINGS_DEFAULT;
    FILE *f = fopen(path, "re");
    if (!f) {
        if (errno == ENOENT && !named) {   /* no file: the environment and the defaults */
            file.loaded = true;
            return 0;
        }
        return hull_err_sys(err, "microVM settings %s", path);
    }
    char line[4096];
    unsigned no = 0;
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        no++;
        size_t len = strlen(line);
        if (len == sizeof line - 1 && line[len - 1] != '\n') {
            rc = hull_err_set(err, EINVAL, "%s:%u: line too long", path, no);
            break;
        }
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = '\0';
        const char *s = line + strspn(line, " \t");
        if (!*s || *s == '#') continue;
        const char *eq = strchr(s, '=');
        if (!eq) {
            rc = hull_err_set(err, EINVAL, "%s:%u: expected NAME=VALUE, got \"%s\"", path, no, s);
            break;
        }
        size_t nl = (size_t)(eq - s);
        while (nl && (s[nl - 1] == ' ' || s[nl - 1] == '\t')) nl--;
        int k = known_index(s, nl);
        if (k < 0) {
            rc = hull_err_set(err, EINVAL, "%s:%u: unknown setting \"%.*s\" (known: HULL_VM_KERNEL, HULL_VM_INITRD, "
                                           "HULL_VM_CMDLINE, HULL_VM_BOOT_TIMEOUT, HULL_VM_UPPER_SIZE, HULL_VM_CONSOLE, "
                                           "HULL_VM_ALLOW_SLOW_KVM, HULL_VMM, HULL_AGENT)",
                              path, no, (int)nl, s);
            break;
        }
        const char *v = eq + 1 + strspn(eq + 1, " \t");
        free(file.value[k]);
        if (!(file.value[k] = strdup(v))) rc = hull_err_set(err, ENOMEM, "%s: out of memory", path);
    }
    fclose(f);
    if (rc < 0) {
        vm_settings_reset();
        return rc;
    }
    file.loaded = true;
    return 0;
}

const char *vm_setting(const char *name) {
    const char *v = getenv(name);
    if (v && *v) return v;
    if (!file.loaded) {
        struct hull_err ignored;   /* vm_opts_load reported it already, or will */
        if (vm_settings_load(&ignored) < 0) return NULL;
    }
    int k = known_index(name, strlen(name));
    return k >= 0 && file.value[k] && *file.value[k] ? file.value[k] : NULL;
}
