/* Input files are regular files: a directory, a FIFO or a device named as a model, scenario,
 * offer, result or catalog file is refused with a message that says what it is, before anything
 * opens it (opening a FIFO waits for a writer that never comes). */
#ifndef IC_INPUT_H
#define IC_INPUT_H

#include <stddef.h>

/* 0 when path is a regular file or does not exist (the opener reports that); else 2 with
 * "<name>: not a regular file (a directory)" and the like. name defaults to path. */
int ic_input_check(const char *path, const char *name, char *err, size_t errlen);

#endif
