/* Errors as values (see fail.h). */
#include "fail.h"

#include <stdarg.h>
#include <stdio.h>

int ic_fail(char *err, size_t errlen, int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    if (err && errlen) vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return code;
}

int ic_fail_json(char *err, size_t errlen, int code, const char *where, const json_error_t *e) {
    if (e->line < 1) return ic_fail(err, errlen, code, "%s: %s", where, e->text);
    return ic_fail(err, errlen, code, "%s:%d:%d: %s", where, e->line, e->column, e->text);
}
