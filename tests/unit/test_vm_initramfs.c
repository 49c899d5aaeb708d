/* The guest initramfs: modules.dep resolution (synthetic trees with cycles,
 * missing and builtin modules, softdeps through aliases; and the installed
 * guest kernel's real files), the cpio writer read back with Debian's cpio,
 * compressed modules, and the cache (hit, miss on a new agent, stale removal). */
#include "tap.h"
#include "vm/proto/agent_proto.h"
#include "vm/guest/initramfs.h"
#include "vm/executor/container.h"
#include "vm/guest/modules_dep.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmp[64];
static struct hull_err err;

static void put_file(const char *dir, const char *name, const char *text) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    char *slash = strrchr(p, '/');
    *slash = '\0';
    char cmd[700];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", p);
    if (system(cmd) != 0) abort();
    *slash = '/';
    FILE *f = fopen(p, "w");
    if (!f) abort();
    fputs(text, f);
    fclose(f);
}

/* "a b c" from a resolved list, '?' before optional ones. */
static char *order(const struct hull_kmod_list *l) {
    static char buf[2048];
    buf[0] = '\0';
    for (size_t i = 0; i < l->n; i++) {
        strcat(buf, i ? " " : "");
        if (l->v[i].optional) strcat(buf, "?");
        strcat(buf, l->v[i].name);
    }
    return buf;
}

static int resolve(const char *dir, const char *const *names, size_t n, struct hull_kmod_list *l) {
    hull_err_clear(&err);
    return hull_modules_resolve(dir, names, n, l, &err);
}

static void test_synthetic(void) {
    char d[128];
    snprintf(d, sizeof d, "%s/mods", tmp);
    put_file(d, "modules.dep",
             "kernel/a.ko: kernel/b.ko kernel/c-x.ko\n"
             "kernel/b.ko: kernel/c-x.ko\n"
             "kernel/c-x.ko:\n"
             "kernel/fs/e.ko.xz: kernel/lib/f.ko.zst\n"
             "kernel/lib/f.ko.zst:\n"
             "kernel/crypto/g_generic.ko:\n"
             "kernel/crypto/g-intel.ko:\n"
             "kernel/uses_builtin.ko: kernel/bi.ko\n");
    put_file(d, "modules.builtin", "kernel/bi.ko\nkernel/lib/crc32.ko\n");
    put_file(d, "modules.softdep", "# comment\nsoftdep e pre: crypto-g post: a\nsoftdep nosuch pre: a\n");
    put_file(d, "modules.alias", "alias crypto-g g_intel\nalias crypto-g g_generic\nalias crypto-gx b\n");
    struct hull_kmod_list l;

    const char *n1[] = {"a"};
    is_int(resolve(d, n1, 1, &l), 0, "resolve a");
    is_str(order(&l), "c_x b a", "dependencies first, '-' normalised to '_'");
    is_str(l.v[0].path, "kernel/c-x.ko", "the path stays as written");
    hull_kmod_list_free(&l);

    const char *n2[] = {"e", "c_x"};
    is_int(resolve(d, n2, 2, &l), 0, "resolve e (softdep through an alias) and c_x");
    is_str(order(&l), "?g_intel ?g_generic f e c_x", "every alias provider, optional, before the module");
    is_str(l.v[2].path, "kernel/lib/f.ko.zst", "compressed module paths kept");
    hull_kmod_list_free(&l);

    const char *n3[] = {"e", "g-generic"};
    is_int(resolve(d, n3, 2, &l), 0, "a softdep provider that is also requested");
    is_str(order(&l), "?g_intel g_generic f e", "becomes required, keeps its place");
    hull_kmod_list_free(&l);

    const char *n4[] = {"crc32", "bi", "uses_builtin"};
    is_int(resolve(d, n4, 3, &l), 0, "builtin modules");
    is_str(order(&l), "uses_builtin", "builtin requests and deps are skipped");
    hull_kmod_list_free(&l);

    const char *n5[] = {"a", "virtio_nope"};
    ok(resolve(d, n5, 2, &l) == -ENOENT && l.n == 0, "a missing module fails, nothing returned");
    like(err.msg, "no module virtio_nope", "the message names it");
    const char *n6[] = {"?virtio_nope", "b"};
    is_int(resolve(d, n6, 2, &l), 0, "'?name' is skipped when absent");
    is_str(order(&l), "c_x b", "only the present ones");
    hull_kmod_list_free(&l);

    char c[128];
    snprintf(c, sizeof c, "%s/cycle", tmp);
    put_file(c, "modules.dep", "k/x.ko: k/y.ko\nk/y.ko: k/z.ko\nk/z.ko: k/x.ko\n");
    const char *n7[] = {"x"};
    is_int(resolve(c, n7, 1, &l), -ELOOP, "a dependency cycle fails");
    like(err.msg, "cycle: x -> y -> z -> x", "the message shows the cycle");

    put_file(c, "modules.dep", "k/x.ko: k/gone.ko\n");
    is_int(resolve(c, n7, 1, &l), -ENOENT, "a dependency without an entry fails");
    like(err.msg, "x depends on gone", "the message names both");

    put_file(c, "modules.dep", "../../etc/x.ko:\n");
    ok(resolve(c, n7, 1, &l) < 0, "a path with .. is refused");
    like(err.msg, "bad module path", "as a bad module path");
    put_file(c, "modules.dep", "/abs/x.ko:\n");
    ok(resolve(c, n7, 1, &l) < 0, "an absolute path is refused");
    put_file(c, "modules.dep", "k/x.ko k/y.ko\n");
    ok(resolve(c, n7, 1, &l) < 0 && strstr(err.msg, "modules.dep:1: no ':'"), "a line without ':' names the line");
    put_file(c, "modules.dep", "k/x.ko:\nk2/x.ko:\n");
    ok(resolve(c, n7, 1, &l) < 0 && strstr(err.msg, "listed twice"), "a duplicate module is refused");
    snprintf(c, sizeof c, "%s/empty", tmp);
    mkdir(c, 0755);
    ok(resolve(c, n7, 1, &l) < 0 && strstr(err.msg, "modules.dep"), "no modules.dep: clear error (%s)", err.msg);

    char name[64];
    ok(hull_kmod_name_from_path("kernel/drivers/char/hw_random/virtio-rng.ko.xz", name, sizeof name) &&
       !strcmp(name, "virtio_rng"), "name from a compressed path");
    ok(!hull_kmod_name_from_path("kernel/README", name, sizeof name), "not a module file");
}

/* The newest /boot/vmlinuz-* with modules installed: the guest kernel. */
static bool guest_kernel(char *release, size_t n, char *bz, size_t bn) {
    DIR *d = opendir("/boot");
    bool found = false;
    if (!d) return false;
    for (struct dirent *e; (e = readdir(d));) {
        if (strncmp(e->d_name, "vmlinuz-", 8)) continue;
        char md[512];
        snprintf(md, sizeof md, "/lib/modules/%s/modules.dep", e->d_name + 8);
        if (access(md, R_OK) < 0) continue;
        if (!found || strverscmp(e->d_name + 8, release) > 0) {
            snprintf(release, n, "%s", e->d_name + 8);
            snprintf(bz, bn, "/boot/%s", e->d_name);
            found = true;
        }
    }
    closedir(d);
    return found;
}

static int index_of(const struct hull_kmod_list *l, const char *name) {
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->v[i].name, name)) return (int)i;
    return -1;
}

static char *run(const char *cmd) {
    static char out[65536];
    FILE *p = popen(cmd, "r");
    size_t n = p ? fread(out, 1, sizeof out - 1, p) : 0;
    out[n] = '\0';
    if (p) pclose(p);
    return out;
}

static bool same_file(const char *a, const char *b) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "cmp -s '%s' '%s'", a, b);
    return system(cmd) == 0;
}

static void test_real_kernel(const char *release, const char *bz) {
    char rel[256];
    is_int(hull_kernel_release(bz, rel, sizeof rel, &err), 0, "release from %s's setup header", bz);
    is_str(rel, release, "matches the file name");
    ok(hull_kernel_release("/bin/busybox", rel, sizeof rel, &err) < 0 && strstr(err.msg, "not a bzImage"),
       "a non-kernel is refused");

    char md[512];
    snprintf(md, sizeof md, "/lib/modules/%s", release);
    struct hull_kmod_list l;
    is_int(resolve(md, hull_guest_modules, hull_guest_modules_count, &l), 0, "resolve the guest modules of %s: %s",
           release, err.msg);
    diag("load order: %s", order(&l));
    int pci = index_of(&l, "virtio_pci"), ring = index_of(&l, "virtio_ring"), vio = index_of(&l, "virtio"),
        modern = index_of(&l, "virtio_pci_modern_dev"), ext4 = index_of(&l, "ext4"), jbd2 = index_of(&l, "jbd2"),
        crc16 = index_of(&l, "crc16"), erofs = index_of(&l, "erofs"), console = index_of(&l, "virtio_console"),
        blk = index_of(&l, "virtio_blk"), ovl = index_of(&l, "overlay");
    ok(pci >= 0 && console >= 0 && blk >= 0 && ovl >= 0, "virtio_pci, virtio_console, virtio_blk, overlay present "
       "(modular in Debian's kernel)");
    ok(ring >= 0 && vio > ring && pci > vio && modern >= 0 && modern < pci, "virtio_ring < virtio < virtio_pci, "
       "virtio_pci_modern_dev before virtio_pci");
    ok(ext4 >= 0 && jbd2 >= 0 && crc16 >= 0 && jbd2 < ext4 && crc16 < ext4, "ext4 after jbd2 and crc16");
    ok(erofs >= 0 && index_of(&l, "libcrc32c") >= 0 && index_of(&l, "libcrc32c") < erofs, "erofs after libcrc32c");
    int crc = index_of(&l, "crc32c_generic");
    ok(crc >= 0 && l.v[crc].optional && crc < ext4, "crc32c (ext4's softdep) in, optional, before ext4");
    hull_kmod_list_free(&l);

    /* Write it and read it back with GNU cpio. */
    char img[128];
    snprintf(img, sizeof img, "%s/initramfs.cpio", tmp);
    int fd = open(img, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    struct hull_initramfs_opts o = {.agent_path = "/bin/busybox", .kernel_release = release};
    is_int(hull_initramfs_write(&o, fd, &err), 0, "write the initramfs: %s", err.msg);
    close(fd);
    struct stat st;
    stat(img, &st);
    diag("initramfs: %lld bytes", (long long)st.st_size);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "cpio -it --quiet < '%s' 2>&1", img);
    const char *list = run(cmd);
    like(list, "\ninit\n", "cpio -t lists /init");
    like(list, "dev/console", "and /dev/console");
    like(list, "lib/modules/hull/ext4.ko", "and ext4.ko");
    like(list, "lib/modules/hull/virtio_console.ko", "and virtio_console.ko");
    like(list, "lib/modules/hull/load.list", "and the load list");
    snprintf(cmd, sizeof cmd, "cpio -itv --quiet < '%s' 2>&1 | grep ' dev/console$'", img);
    like(run(cmd), "crw-------", "dev/console is a char device");
    like(run(cmd), "5,", "major 5");
    snprintf(cmd, sizeof cmd, "cpio -i --quiet --to-stdout lib/modules/hull/load.list < '%s'", img);
    const char *ll = run(cmd);
    like(ll, "virtio_ring.ko\nvirtio.ko\n", "load list in dependency order");
    like(ll, "?crc32c_generic.ko\n", "optional entries marked");
    char ext[128];
    snprintf(ext, sizeof ext, "%s/init.out", tmp);
    snprintf(cmd, sizeof cmd, "cpio -i --quiet --to-stdout init < '%s' > '%s'", img, ext);
    ok(system(cmd) == 0 && same_file(ext, "/bin/busybox"), "/init is the agent, byte for byte");
    snprintf(cmd, sizeof cmd, "cpio -i --quiet --to-stdout lib/modules/hull/ext4.ko < '%s' > '%s'", img, ext);
    snprintf(md, sizeof md, "/lib/modules/%s/kernel/fs/ext4/ext4.ko", release);
    ok(system(cmd) == 0 && (access(md, R_OK) < 0 || same_file(ext, md)), "ext4.ko stored as installed");

    /* Same inputs, same bytes. */
    char img2[128];
    snprintf(img2, sizeof img2, "%s/initramfs2.cpio", tmp);
    fd = open(img2, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    hull_initramfs_write(&o, fd, &err);
    close(fd);
    ok(same_file(img, img2), "reproducible: a second write is identical");

    o.agent_path = "/bin/true";
    fd = open(img2, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ok(hull_initramfs_write(&o, fd, &err) == -ENOEXEC && strstr(err.msg, "dynamically linked"),
       "a dynamic agent is refused: %s", err.msg);
    close(fd);
    o.agent_path = "/bin/busybox";
    o.kernel_release = "0.0.0-none";
    fd = open(img2, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ok(hull_initramfs_write(&o, fd, &err) == -ENOENT && strstr(err.msg, "no modules for kernel 0.0.0-none"),
       "an uninstalled kernel: %s", err.msg);
    close(fd);

    /* The cache: miss, hit, miss on a changed agent (old entry removed). */
    char cache[128], agent[128], p1[4096], p2[4096], p3[4096];
    snprintf(cache, sizeof cache, "%s/cache", tmp);
    snprintf(agent, sizeof agent, "%s/agent", tmp);
    snprintf(cmd, sizeof cmd, "cp /bin/busybox '%s'", agent);
    if (system(cmd) != 0) abort();
    o = (struct hull_initramfs_opts){.agent_path = agent, .kernel_release = release};
    bool built = false;
    is_int(hull_initramfs_get(&o, cache, p1, sizeof p1, &built, &err), 0, "cache: first get: %s", err.msg);
    ok(built, "cache: built on a miss");
    like(p1, "/initramfs-", "cache: named by release");
    like(p1, release, "cache: the name holds the release");
    is_int(hull_initramfs_get(&o, cache, p2, sizeof p2, &built, &err), 0, "cache: second get");
    ok(!built && !strcmp(p1, p2), "cache: hit, same file");
    snprintf(cmd, sizeof cmd, "printf x >> '%s'", agent);   /* a new agent build */
    if (system(cmd) != 0) abort();
    is_int(hull_initramfs_get(&o, cache, p3, sizeof p3, &built, &err), 0, "cache: get after the agent changed");
    ok(built && strcmp(p1, p3), "cache: rebuilt under a new key");
    ok(access(p1, F_OK) < 0 && access(p3, F_OK) == 0, "cache: the stale entry is gone");
    snprintf(cmd, sizeof cmd, "cpio -i --quiet --to-stdout init < '%s' | cmp -s - '%s'", p3, agent);
    ok(system(cmd) == 0, "cache: the new entry carries the new agent");
    snprintf(cmd, sizeof cmd, "ls -A '%s' | wc -l", cache);
    is_str(run(cmd), "1\n", "cache: no temp files left behind");
}

/* .ko.xz / .ko.zst / .ko.gz are stored decompressed. */
static void test_compressed(const char *release) {
    char src[512], d[128], cmd[2048];
    snprintf(src, sizeof src, "/lib/modules/%s/kernel/lib/crc16.ko", release);
    if (access(src, R_OK) < 0) {
        skip("no crc16.ko to compress");
        return;
    }
    const char *tools[][3] = {{"xz", "xz -c", "xz"}, {"zst", "zstd -q -c", "zstd"}, {"gz", "gzip -c", "gzip"}};
    for (int t = 0; t < 3; t++) {
        char which[64];
        snprintf(which, sizeof which, "command -v %s >/dev/null", tools[t][2]);
        if (system(which) != 0) {
            skip("compressor not installed");
            continue;
        }
        snprintf(d, sizeof d, "%s/cmods/%s", tmp, release);
        snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s/k' && %s '%s' > '%s/k/crc16.ko.%s' && "
                 "echo 'k/crc16.ko.%s:' > '%s/modules.dep'", d, d, tools[t][1], src, d, tools[t][0], tools[t][0], d);
        if (system(cmd) != 0) abort();
        char root[128], img[128];
        snprintf(root, sizeof root, "%s/cmods", tmp);
        snprintf(img, sizeof img, "%s/c.cpio", tmp);
        const char *names[] = {"crc16"};
        struct hull_initramfs_opts o = {.agent_path = "/bin/busybox", .kernel_release = release,
                                        .modules_root = root, .modules = names, .n_modules = 1};
        int fd = open(img, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        is_int(hull_initramfs_write(&o, fd, &err), 0, "initramfs with crc16.ko.%s: %s", tools[t][0], err.msg);
        close(fd);
        snprintf(cmd, sizeof cmd, "cpio -i --quiet --to-stdout lib/modules/hull/crc16.ko < '%s' | cmp -s - '%s'", img, src);
        ok(system(cmd) == 0, "crc16.ko.%s stored decompressed, identical to the original", tools[t][0]);
    }
}

int main(void) {
    if (access("/bin/busybox", X_OK) < 0) plan_skip_all("needs busybox-static (a static binary to stand in for the agent)");
    if (system("command -v cpio >/dev/null") != 0) plan_skip_all("needs cpio (GNU cpio reads the archive back)");
    snprintf(tmp, sizeof tmp, "/tmp/hull-initramfs.XXXXXX");
    if (!mkdtemp(tmp)) bail_out("mkdtemp %s: %s", tmp, strerror(errno));
    test_synthetic();
    char release[256] = "", bz[512];
    if (guest_kernel(release, sizeof release, bz, sizeof bz)) {
        diag("guest kernel %s (host runs a different one is fine)", release);
        test_real_kernel(release, bz);
        test_compressed(release);
    } else {
        skip("no /boot/vmlinuz-* with /lib/modules/<release>: install linux-image-amd64 (make deps)");
    }
    char where[4096];
    setenv("HULL_AGENT", "/bin/busybox", 1);
    ok(vm_locate("hull-agent", "HULL_AGENT", where, sizeof where, &err) == 0 && !strcmp(where, "/bin/busybox"), "HULL_AGENT names the agent");
    setenv("HULL_AGENT", "/nonexistent/agent", 1);
    ok(vm_locate("hull-agent", "HULL_AGENT", where, sizeof where, &err) < 0 && strstr(err.msg, "/nonexistent/agent"), "a bad HULL_AGENT is an error");
    unsetenv("HULL_AGENT");
    int lr = vm_locate("hull-agent", "HULL_AGENT", where, sizeof where, &err);
    ok(lr == 0 ? strstr(where, "hull-agent") != NULL : strstr(err.msg, "hull-agent") != NULL,
       "without HULL_AGENT: next to the executable or a clear error (%s)", lr == 0 ? where : err.msg);

    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0) diag("cleanup failed");
    return done_testing();
}
