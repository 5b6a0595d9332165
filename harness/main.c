/* infercost: what does one generated token cost on this chip? Entry point and subcommand table. */
#include "cli.h"
#include "ic_config.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ic_dispatch.h"
#include "report.h"
#include "tempfiles.h"

static const struct {
    const char *name;
    const char *summary;
    int (*fn)(int, char **);
} g_commands[] = {
#define IC_COMMAND(name, summary) {#name, summary, ic_cmd_##name},
#include "commands.inc"
#undef IC_COMMAND
};

/* A command's CLI name: its C identifier with '_' as '-' ("compare_chips" -> "compare-chips"). */
static const char *cli_name(const char *id, char *buf, size_t len) {
    size_t i = 0;
    for (; id[i] && i + 1 < len; i++) buf[i] = id[i] == '_' ? '-' : id[i];
    buf[i] = '\0';
    return buf;
}

static void usage(FILE *out) {
    fprintf(out, "usage: infercost <command> [options]\n"
                 "       infercost --help | --version\n\n"
                 "Measures what one generated token costs on this machine.\n\ncommands:\n");
    for (size_t i = 0; i < sizeof g_commands / sizeof g_commands[0]; i++) {
        char name[64];
        fprintf(out, "  %-14s %s\n", cli_name(g_commands[i].name, name, sizeof name),
                g_commands[i].summary);
    }
    fprintf(out, "\n'infercost <command> --help' describes a command's options.\n"
                 "environment: IC_ISA=<level> caps the kernel ISA (e.g. avx2, ref); "
                 "IC_DEBUG=1 logs each kernel choice.\n");
}

/* Prints prefix, the message and a newline to stderr as one line. Messages quote file contents and
 * arguments (keys, names, tokens), so every control character in them is escaped here, the one
 * place every error passes: a hostile file cannot drive the terminal. */
__attribute__((format(printf, 2, 0))) static void print_message(const char *prefix, const char *fmt,
                                                                va_list ap) {
    char msg[4096], esc[4 * sizeof msg];
    vsnprintf(msg, sizeof msg, fmt, ap);
    ic_escape_controls(msg, esc, sizeof esc);
    fprintf(stderr, "%s%s\n", prefix, esc);
}

void ic_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    print_message("infercost: ", fmt, ap);
    va_end(ap);
}

int ic_usage_error(const char *cmd, const char *usage_text, const char *fmt, ...) {
    char prefix[96];
    snprintf(prefix, sizeof prefix, "infercost %s: ", cmd);
    va_list ap;
    va_start(ap, fmt);
    print_message(prefix, fmt, ap);
    va_end(ap);
    fputs(usage_text, stderr);
    return IC_EXIT_USAGE;
}

int ic_option_error(const char *cmd, const char *usage, const struct option *opts,
                    char *const *argv, int optind_) {
    const char *arg = optind_ > 0 ? argv[optind_ - 1] : "";
    if (strncmp(arg, "--", 2) == 0) {
        size_t len = strcspn(arg + 2, "=");
        for (const struct option *o = opts; o->name; o++)
            if (o->has_arg == required_argument && strlen(o->name) == len &&
                strncmp(o->name, arg + 2, len) == 0)
                return ic_usage_error(cmd, usage, "option '%s' needs a value", arg);
    }
    return ic_usage_error(cmd, usage, "unknown option '%s'", arg);
}

int ic_cli_check_isa(void) {
    char err[512];
    if (ic_dispatch_init(err, sizeof err) != 0) {
        ic_error("%s", err);
        return IC_EXIT_USAGE;
    }
    return 0;
}

int main(int argc, char **argv) {
    ic_tempfiles_install(); /* a killed writer removes its temporary file */
    if (argc < 2) {
        usage(stderr);
        return IC_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return IC_EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("infercost %s (commit %s)\n", IC_VERSION, IC_GIT_COMMIT);
        return IC_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof g_commands / sizeof g_commands[0]; i++) {
        char name[64];
        if (strcmp(cmd, cli_name(g_commands[i].name, name, sizeof name)) == 0)
            return g_commands[i].fn(argc - 1, argv + 1);
    }
    if (cmd[0] == '-')
        ic_error("unknown option '%s'", cmd);
    else
        ic_error("unknown command '%s'", cmd);
    usage(stderr);
    return IC_EXIT_USAGE;
}
