/* Where the catalog is found (ic_catalog_find): --catalog, then $IC_PLATFORMS_DIR, then
 * share/infercost/platforms beside the running binary, then the source tree's platforms/. This test
 * is built with its own copy of catalog.c whose source-tree path (IC_PLATFORMS_DIR_DEFAULT) is a
 * directory the test makes and removes, so every step, the error included, can be reached. The
 * installed step runs a copy of this binary from a fake prefix ("where" prints what it found).
 */
#define _GNU_SOURCE
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog.h"
#include "ic_test.h"

static char g_tmp[256];

__attribute__((format(printf, 1, 2))) static int sh(const char *fmt, ...) {
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    return system(cmd);
}

/* The "where" child: one line, "ORIGIN\tDIR" or "error\tMESSAGE". */
static int where(void) {
    char dir[1024], err[2048];
    ic_catalog_origin origin;
    if (ic_catalog_find(NULL, dir, sizeof dir, &origin, err, sizeof err) == 0)
        printf("%s\t%s\n", ic_catalog_origin_name(origin), dir);
    else
        printf("error\t%s\n", err);
    return 0;
}

/* Runs exe "where" from / and returns its line (without the newline) in out. */
static void run_where(const char *exe, char *out, size_t len) {
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "cd / && '%s' where", exe);
    out[0] = '\0';
    FILE *p = popen(cmd, "r");
    if (!p) return;
    if (!fgets(out, (int)len, p)) out[0] = '\0';
    pclose(p);
    out[strcspn(out, "\n")] = '\0';
}

static void test_order(void) {
    char dir[1024], err[2048], env[512], given[512];
    ic_catalog_origin origin;
    const char *src = IC_PLATFORMS_DIR_DEFAULT;
    unsetenv("IC_PLATFORMS_DIR");
    sh("rm -rf '%s'", src);

    int rc = ic_catalog_find(NULL, dir, sizeof dir, &origin, err, sizeof err);
    CHECK(rc == 2 && strstr(err, "--catalog (not given)") &&
              strstr(err, "$IC_PLATFORMS_DIR (unset)") &&
              strstr(err, "/share/infercost/platforms (installed beside the binary)") &&
              strstr(err, src),
          "none found: every place named: %s", err);

    sh("mkdir -p '%s'", src);
    rc = ic_catalog_find(NULL, dir, sizeof dir, &origin, err, sizeof err);
    CHECK(rc == 0 && origin == IC_CATALOG_SOURCE && strcmp(dir, src) == 0, "source tree: %s",
          rc ? err : dir);

    snprintf(env, sizeof env, "%s/env", g_tmp);
    snprintf(given, sizeof given, "%s/given", g_tmp);
    setenv("IC_PLATFORMS_DIR", env, 1);
    rc = ic_catalog_find(NULL, dir, sizeof dir, &origin, err, sizeof err);
    CHECK(rc == 2 && strstr(err, "/env' does not exist (given by $IC_PLATFORMS_DIR"),
          "a missing $IC_PLATFORMS_DIR is an error, not a fall-through: %s", err);
    sh("mkdir -p '%s' '%s'", env, given);
    rc = ic_catalog_find(NULL, dir, sizeof dir, &origin, err, sizeof err);
    CHECK(rc == 0 && origin == IC_CATALOG_ENV && strcmp(dir, env) == 0, "env: %s", rc ? err : dir);
    rc = ic_catalog_find(given, dir, sizeof dir, &origin, err, sizeof err);
    CHECK(rc == 0 && origin == IC_CATALOG_GIVEN && strcmp(dir, given) == 0,
          "--catalog before env: %s", rc ? err : dir);
    setenv("IC_PLATFORMS_DIR", "", 1);
    rc = ic_catalog_find(NULL, dir, sizeof dir, &origin, err, sizeof err);
    CHECK(rc == 0 && origin == IC_CATALOG_SOURCE, "an empty $IC_PLATFORMS_DIR is unset");
    unsetenv("IC_PLATFORMS_DIR");
    snprintf(given, sizeof given, "%s/none", g_tmp);
    rc = ic_catalog_find(given, dir, sizeof dir, &origin, err, sizeof err);
    CHECK(rc == 2 && strstr(err, "/none' does not exist (given by --catalog)"),
          "a missing --catalog: %s", err);
}

static void test_installed(void) {
    char self[PATH_MAX], prefix[512], exe[600], cat[600], real[PATH_MAX], link[600], line[2048],
        want[PATH_MAX + 32];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        CHECK(0, "/proc/self/exe unreadable");
        return;
    }
    self[n] = '\0';
    snprintf(prefix, sizeof prefix, "%s/prefix", g_tmp);
    snprintf(exe, sizeof exe, "%s/bin/test_catalog_find", prefix);
    snprintf(cat, sizeof cat, "%s/share/infercost/platforms", prefix);
    if (sh("mkdir -p '%s/bin'", prefix) != 0 || sh("cp '%s' '%s'", self, exe) != 0 ||
        sh("mkdir -p '%s'", cat) != 0 || !realpath(cat, real)) {
        CHECK(0, "could not make the fake prefix %s", prefix);
        return;
    }
    snprintf(want, sizeof want, "installed\t%s", real);

    run_where(exe, line, sizeof line);
    CHECK(strcmp(line, want) == 0, "installed before the source tree: '%s'", line);
    /* A link to the binary (as /usr/local/bin/infercost -> /opt/...) finds the target's prefix. */
    snprintf(link, sizeof link, "%s/linked", g_tmp);
    sh("ln -sf '%s' '%s'", exe, link);
    run_where(link, line, sizeof line);
    CHECK(strcmp(line, want) == 0, "through a symbolic link: '%s'", line);

    setenv("IC_PLATFORMS_DIR", g_tmp, 1);
    run_where(exe, line, sizeof line);
    CHECK(strncmp(line, "IC_PLATFORMS_DIR\t", 17) == 0, "env before installed: '%s'", line);
    unsetenv("IC_PLATFORMS_DIR");

    /* Without the installed catalog, the source tree; without either, the error names both. */
    sh("rm -rf '%s'", cat);
    run_where(exe, line, sizeof line);
    CHECK(strncmp(line, "source tree\t", 12) == 0, "source tree after installed: '%s'", line);
    sh("rm -rf '%s'", IC_PLATFORMS_DIR_DEFAULT);
    run_where(exe, line, sizeof line);
    CHECK(strncmp(line, "error\t", 6) == 0 && strstr(line, prefix) &&
              strstr(line, IC_PLATFORMS_DIR_DEFAULT),
          "neither: the error names the prefix and the source tree: '%s'", line);
}

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "where") == 0) return where();
    snprintf(g_tmp, sizeof g_tmp, "/tmp/ic_test_catalog_find.XXXXXX");
    if (!mkdtemp(g_tmp)) {
        perror("mkdtemp");
        return 1;
    }
    test_order();
    test_installed();
    sh("rm -rf '%s' '%s'", g_tmp, IC_PLATFORMS_DIR_DEFAULT);
    return ic_test_finish("test_catalog_find");
}
