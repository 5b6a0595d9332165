/* Errors are values: a function that can fail writes one line naming what was wrong into the
 * caller's buffer and returns an exit code (cli.h: 1 runtime failure, 2 bad input). ic_fail does
 * both, so that every module words and returns its errors the same way. */
#ifndef IC_FAIL_H
#define IC_FAIL_H

#include <stddef.h>

#include <jansson.h>

/* Formats the message into err (errlen bytes, always terminated) and returns code. */
int ic_fail(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* A JSON load that failed, as "WHERE:LINE:COLUMN: what", or "WHERE: what" when jansson had no
 * position (it reports line -1 when the file could not be opened or read); returns code. */
int ic_fail_json(char *err, size_t errlen, int code, const char *where, const json_error_t *e);

#endif
