/* Fuzzes the option parsers of cost, compare, history, compare-chips and prices by calling the
 * commands with a fuzzed argv. The first byte picks the command; the rest, split at newlines,
 * is its arguments. So that nothing is written and no file of the machine is read, the target
 * runs in an empty directory of its own, every '/' is taken out of the arguments (every path is
 * then a missing file there), and history's "add" and prices' "import" become "list" and "show".
 * The catalog is the source tree's, compiled in. Run it with -close_fd_mask=3: the commands
 * print their usage errors. */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "fuzz.h"

#define MAX_ARGS 32

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    char dir[] = "/tmp/ic-fuzz-cli-XXXXXX";
    if (!mkdtemp(dir) || chdir(dir) != 0 || rmdir(dir) != 0) {
        perror("fuzz_cli: an empty working directory");
        exit(1);
    }
    /* The directory is gone: nothing can be created in it either. */
    if (!freopen("/dev/null", "w", stdout)) exit(1);
    return 0;
}

/* getopt keeps a pointer into the previous argv when a parse stopped inside "-xyz"; optind = 0
 * makes glibc forget it before the next command parses. */
static void reset_getopt(void) {
    static char arg0[] = "x";
    char *none[] = {arg0, NULL};
    optind = 0;
    opterr = 0;
    (void)getopt(1, none, "");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } cmds[] = {{"cost", ic_cmd_cost},
                {"compare", ic_cmd_compare},
                {"history", ic_cmd_history},
                {"compare-chips", ic_cmd_compare_chips},
                {"prices", ic_cmd_prices}};
    if (size < 1 || size > 4096) return 0;
    size_t c = data[0] % (sizeof cmds / sizeof cmds[0]);
    char *buf = malloc(size + strlen(cmds[c].name) + 2);
    if (!buf) return 0;
    char *argv[MAX_ARGS + 2];
    int argc = 0;
    size_t n = 0;
    strcpy(buf, cmds[c].name);
    argv[argc++] = buf;
    n = strlen(buf) + 1;
    char *arg = buf + n;
    for (size_t i = 1; i < size; i++) {
        char ch = (char)data[i];
        if (ch == '/') continue;
        if (ch == '\n' || ch == '\0') {
            buf[n++] = '\0';
            if (argc < MAX_ARGS) argv[argc++] = arg;
            arg = buf + n;
            continue;
        }
        buf[n++] = ch;
    }
    buf[n] = '\0';
    if (arg[0] && argc < MAX_ARGS) argv[argc++] = arg;
    argv[argc] = NULL;
    for (int i = 1; i < argc; i++) {
        static char list[] = "list", show[] = "show";
        if (strcmp(argv[i], "add") == 0) argv[i] = list;
        if (strcmp(argv[i], "import") == 0) argv[i] = show;
    }
    reset_getopt();
    (void)cmds[c].fn(argc, argv);
    free(buf);
    return 0;
}
