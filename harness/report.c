/* Report formats: aligned text, Markdown and CSV tables, and JSON (see report.h). */
#include "report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct ic_table {
    int ncols;
    char **heads;
    char *align;
    char **cells; /* rows x ncols */
    size_t nrows, cap;
};

int ic_format_parse(const char *s, ic_format *out) {
    static const char *const names[] = {"table", "md", "csv", "json"};
    for (int i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = (ic_format)i;
            return 0;
        }
    return -1;
}

void ic_escape_controls(const char *s, char *out, size_t len) {
    size_t o = 0;
    if (len == 0) return;
    for (; s && *s && o + 1 < len; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch < 0x20 || ch == 0x7f) {
            if (o + 5 >= len) break;
            snprintf(out + o, len - o, "\\x%02x", ch);
            o += 4;
        } else {
            out[o++] = (char)ch;
        }
    }
    out[o] = '\0';
}

static char *dup_escaped(const char *s) {
    size_t n = s ? strlen(s) * 4 + 1 : 1;
    char *d = malloc(n);
    if (d) ic_escape_controls(s ? s : "", d, n);
    return d;
}

ic_table *ic_table_new(int ncols, const char *const *heads, const char *align) {
    ic_table *t = calloc(1, sizeof *t);
    if (t == NULL) return NULL;
    t->ncols = ncols;
    t->heads = calloc((size_t)ncols, sizeof *t->heads);
    t->align = calloc((size_t)ncols + 1, 1);
    if (t->heads == NULL || t->align == NULL) {
        ic_table_free(t);
        return NULL;
    }
    for (int c = 0; c < ncols; c++) {
        t->heads[c] = dup_escaped(heads[c]);
        t->align[c] = align && align[c] == 'r' ? 'r' : 'l';
        if (t->heads[c] == NULL) {
            ic_table_free(t);
            return NULL;
        }
    }
    return t;
}

int ic_table_add(ic_table *t, const char *const *cells) {
    if (t->nrows == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        char **nc = realloc(t->cells, cap * (size_t)t->ncols * sizeof *nc);
        if (nc == NULL) return -1;
        t->cells = nc;
        t->cap = cap;
    }
    char **row = t->cells + t->nrows * (size_t)t->ncols;
    for (int c = 0; c < t->ncols; c++) {
        row[c] = dup_escaped(cells[c]);
        if (row[c] == NULL) {
            for (int j = 0; j < c; j++) free(row[j]);
            return -1;
        }
    }
    t->nrows++;
    return 0;
}

size_t ic_table_rows(const ic_table *t) {
    return t->nrows;
}

static const char *cell(const ic_table *t, size_t r, int c) {
    return t->cells[r * (size_t)t->ncols + c];
}

static void print_text(const ic_table *t, FILE *out) {
    size_t *w = calloc((size_t)t->ncols, sizeof *w);
    if (w == NULL) return;
    for (int c = 0; c < t->ncols; c++) {
        w[c] = strlen(t->heads[c]);
        for (size_t r = 0; r < t->nrows; r++)
            if (strlen(cell(t, r, c)) > w[c]) w[c] = strlen(cell(t, r, c));
    }
    for (size_t r = 0; r <= t->nrows; r++) {
        for (int c = 0; c < t->ncols; c++) {
            const char *s = r == 0 ? t->heads[c] : cell(t, r - 1, c);
            int last = c == t->ncols - 1;
            if (t->align[c] == 'r')
                fprintf(out, "%*s%s", (int)w[c], s, last ? "" : "  ");
            else
                fprintf(out, "%-*s%s", last ? 0 : (int)w[c], s, last ? "" : "  ");
        }
        fputc('\n', out);
    }
    free(w);
}

static void md_cell(const char *s, FILE *out) {
    fputc(' ', out);
    for (; *s; s++) {
        if (*s == '|') fputc('\\', out);
        fputc(*s, out);
    }
    fputs(" |", out);
}

static void print_md(const ic_table *t, FILE *out) {
    fputc('|', out);
    for (int c = 0; c < t->ncols; c++) md_cell(t->heads[c], out);
    fputs("\n|", out);
    for (int c = 0; c < t->ncols; c++) fputs(t->align[c] == 'r' ? " ---: |" : " --- |", out);
    fputc('\n', out);
    for (size_t r = 0; r < t->nrows; r++) {
        fputc('|', out);
        for (int c = 0; c < t->ncols; c++) md_cell(cell(t, r, c), out);
        fputc('\n', out);
    }
}

static void csv_cell(const char *s, int last, FILE *out) {
    if (strpbrk(s, ",\"\n\r") != NULL) {
        fputc('"', out);
        for (; *s; s++) {
            if (*s == '"') fputc('"', out);
            fputc(*s, out);
        }
        fputc('"', out);
    } else {
        fputs(s, out);
    }
    fputs(last ? "\r\n" : ",", out);
}

static void print_csv(const ic_table *t, FILE *out) {
    for (int c = 0; c < t->ncols; c++) csv_cell(t->heads[c], c == t->ncols - 1, out);
    for (size_t r = 0; r < t->nrows; r++)
        for (int c = 0; c < t->ncols; c++) csv_cell(cell(t, r, c), c == t->ncols - 1, out);
}

void ic_table_print(const ic_table *t, ic_format fmt, FILE *out) {
    if (fmt == IC_FMT_TABLE) print_text(t, out);
    if (fmt == IC_FMT_MD) print_md(t, out);
    if (fmt == IC_FMT_CSV) print_csv(t, out);
}

void ic_table_free(ic_table *t) {
    if (t == NULL) return;
    for (size_t i = 0; i < t->nrows * (size_t)t->ncols; i++) free(t->cells[i]);
    for (int c = 0; t->heads && c < t->ncols; c++) free(t->heads[c]);
    free(t->cells);
    free(t->heads);
    free(t->align);
    free(t);
}

json_t *ic_json_number(double v) {
    return isfinite(v) ? json_real(v) : json_null();
}

int ic_report_json(const json_t *root, FILE *out) {
    if (root == NULL || json_dumpf(root, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0) return -1;
    fputc('\n', out);
    return ferror(out) ? -1 : 0;
}

static int has_control(const char *s) {
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f) return 1;
    return 0;
}

int ic_json_find_control(const json_t *v, char *where, size_t len) {
    if (json_is_string(v)) {
        if (!has_control(json_string_value(v))) return 0;
        if (len && where[0] == '\0') snprintf(where, len, "(the document)");
        return 1;
    }
    size_t n = strlen(where);
    if (json_is_object(v)) {
        const char *key;
        json_t *x;
        json_object_foreach((json_t *)v, key, x) {
            snprintf(where + n, len - n, "%s%s", n ? "." : "", key);
            if (ic_json_find_control(x, where, len)) return 1;
        }
    } else if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++) {
            snprintf(where + n, len - n, "[%zu]", i);
            if (ic_json_find_control(json_array_get(v, i), where, len)) return 1;
        }
    }
    if (n < len) where[n] = '\0';
    return 0;
}
