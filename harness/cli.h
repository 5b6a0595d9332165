/* Shared command-line plumbing: the subcommand table, usage errors and exit codes. */
#ifndef IC_CLI_H
#define IC_CLI_H

#include <stddef.h>
#include <stdio.h>

/* Exit codes: 0 success, 1 runtime failure (I/O, a measurement that failed), 2 bad usage or
 * input that cannot be run (unknown option, malformed file, a shape that does not fit). */
enum { IC_EXIT_OK = 0, IC_EXIT_FAIL = 1, IC_EXIT_USAGE = 2 };

#define IC_COMMAND(name, summary) int ic_cmd_##name(int argc, char **argv);
#include "commands.inc"
#undef IC_COMMAND

/* Prints "infercost <cmd>: <message>" and the command's usage to stderr; returns IC_EXIT_USAGE. */
int ic_usage_error(const char *cmd, const char *usage, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

struct option;

/* The usage error for the option getopt_long just refused (argv[optind - 1]): "option '--x' needs
 * a value" when opts names it with a required argument, otherwise "unknown option '--x'". */
int ic_option_error(const char *cmd, const char *usage, const struct option *opts,
                    char *const *argv, int optind_);

struct json_t;
struct ic_catalog;

/* infercost econ after the scenario file is read: checks the scenario document root (path names it
 * and anchors a relative result file), computes its economics and prints them (as_json: one JSON
 * object) to stdout. The catalog is cat when given, else loaded from catdir (NULL: the default)
 * when the scenario needs one. Returns an exit code with err filled; prints nothing on error. */
int ic_econ_report(struct json_t *root, const char *path, const char *catdir,
                   const struct ic_catalog *cat, int as_json, char *err, size_t errlen);

/* Prints "infercost: <message>" to stderr. */
void ic_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Validates IC_ISA before a command selects kernels; prints the error and returns IC_EXIT_USAGE
 * when it names no valid level, else 0. */
int ic_cli_check_isa(void);

#endif
