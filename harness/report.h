/* Report formats: every command that prints figures builds one ic_table and renders it as an
 * aligned text table, a Markdown table (a PR comment, a report) or CSV (RFC 4180); JSON output
 * is the command's own record, printed by ic_report_json. Cells from files are printed with
 * control characters escaped, so a hostile file cannot drive the terminal. */
#ifndef IC_REPORT_H
#define IC_REPORT_H

#include <stdio.h>

#include <jansson.h>

typedef enum ic_format { IC_FMT_TABLE, IC_FMT_MD, IC_FMT_CSV, IC_FMT_JSON } ic_format;

/* Parses "table", "md", "csv" or "json"; 0, or -1. */
int ic_format_parse(const char *s, ic_format *out);

/* The usage line of --format, in one wording for every command. */
#define IC_FORMAT_USAGE "  --format F          table (default), md, csv or json (JSON to stdout)\n"

typedef struct ic_table ic_table;

/* A table of ncols columns. heads are the column names; align holds one 'l' or 'r' per column.
 * Both are copied. NULL when out of memory. */
ic_table *ic_table_new(int ncols, const char *const *heads, const char *align);

/* Appends a row of ncols cells (copied; NULL is an empty cell). 0, or -1 when out of memory. */
int ic_table_add(ic_table *t, const char *const *cells);

size_t ic_table_rows(const ic_table *t);

/* Renders the table: aligned columns under their heads (IC_FMT_TABLE), a Markdown table, or CSV
 * with a header row. IC_FMT_JSON prints nothing: JSON output comes from the command's record. */
void ic_table_print(const ic_table *t, ic_format fmt, FILE *out);

void ic_table_free(ic_table *t);

/* Copies s into out with every control character (and DEL) written as \xHH. */
void ic_escape_controls(const char *s, char *out, size_t len);

/* 1 when a string value anywhere under v holds a control character (tab and newline included),
 * with its path written to where ("selling_price.source", "claims[2].unit"); else 0. Readers
 * refuse such text rather than print it. */
int ic_json_find_control(const json_t *v, char *where, size_t len);

/* v as a JSON number, or null when it is not finite: jansson refuses NaN and infinities, and a
 * key set to a refused value silently disappears. */
json_t *ic_json_number(double v);

/* Prints root as indented JSON and a newline; 0, or -1 when it cannot be written. */
int ic_report_json(const json_t *root, FILE *out);

#endif
