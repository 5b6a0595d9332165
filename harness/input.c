/* Input files are regular files (see input.h). */
#define _POSIX_C_SOURCE 200809L
#include "input.h"

#include <sys/stat.h>

#include "fail.h"

int ic_input_check(const char *path, const char *name, char *err, size_t errlen) {
    struct stat st;
    if (stat(path, &st) != 0 || S_ISREG(st.st_mode)) return 0;
    const char *what = S_ISDIR(st.st_mode)                          ? "a directory"
                       : S_ISFIFO(st.st_mode)                       ? "a FIFO"
                       : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device"
                       : S_ISSOCK(st.st_mode)                       ? "a socket"
                                                                    : "not a file";
    return ic_fail(err, errlen, 2, "%s: not a regular file (%s)", name ? name : path, what);
}
