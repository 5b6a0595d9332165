/* Output files written whole or not at all, and the temporary files in flight. Every file the CLI
 * writes (results, the catalog's prices, --benchmark_out) goes through ic_out: it is written to a
 * temporary name beside it, fsync'd and renamed, and every write, fsync and close is checked, so a
 * failed write leaves the earlier file as it was. A temporary name is registered while it exists:
 * a SIGINT, SIGTERM or SIGHUP unlinks it, then ends the process with the same signal, so a killed
 * run leaves no FILE.tmp.* behind either. One rule for where an output may go: a regular file (or
 * a new one), written through a symbolic link to its target; a character device (/dev/null,
 * /dev/full, a terminal) is written in place, since it cannot be renamed over; a directory, FIFO,
 * socket or block device is refused (exit 2). */
#ifndef IC_TEMPFILES_H
#define IC_TEMPFILES_H

#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Installs the SIGINT/SIGTERM/SIGHUP handler (once; a signal the process was started with
 * ignored stays ignored). The handler only unlinks and re-raises: it is async-signal-safe. */
void ic_tempfiles_install(void);

/* Registers path (copied) as in flight. Returns a slot for ic_tempfile_done, or -1 when the path
 * is too long or every slot is taken (the write goes on, without cleanup on a signal). */
int ic_tempfile_add(const char *path);

/* Forgets a slot from ic_tempfile_add (after the rename, or after unlinking the file); -1 is a
 * no-op. */
void ic_tempfile_done(int slot);

/* Longest output path (Linux's PATH_MAX, which strict C11 does not declare). */
#define IC_OUT_PATH_MAX 4096

/* One output file being written. */
typedef struct ic_out {
    int fd;
    int slot;                   /* the temporary file's registry slot; -1 when none */
    int in_place;               /* a character device, written directly */
    int error;                  /* errno of the first write that failed, else 0 */
    mode_t mode;                /* the file's mode to keep (0644 for a new file) */
    char path[IC_OUT_PATH_MAX]; /* as given, for messages */
    char dst[IC_OUT_PATH_MAX];  /* where it lands: path, or a symbolic link's target */
    char tmp[IC_OUT_PATH_MAX + 16];
} ic_out;

/* Checks, before any work, that path can be an output: not empty, not a directory, FIFO, socket
 * or block device, in a directory that exists and is writable. Returns 0, or 2 with a message
 * naming path. */
int ic_out_check(const char *path, char *err, size_t errlen);

/* Starts writing path: creates the registered temporary file beside it (or opens the device).
 * Returns 0; 2 when path is a directory or another file that cannot be an output; 1 when the
 * temporary file cannot be created or a link not followed. The message names path. */
int ic_out_open(ic_out *o, const char *path, char *err, size_t errlen);

/* Appends len bytes; a failure is kept for ic_out_commit (later writes are skipped). */
void ic_out_write(ic_out *o, const void *data, size_t len);

/* Finishes: fsync, close and rename (a device: close). Returns 0, or 1 with a message naming
 * path and the reason (ENOSPC, EFBIG...); the temporary file is removed and the earlier file is
 * left as it was. */
int ic_out_commit(ic_out *o, char *err, size_t errlen);

/* Gives up: closes and removes the temporary file; the earlier file stays. */
void ic_out_abort(ic_out *o);

/* Writes data (len bytes) to path atomically (ic_out_open, ic_out_write, ic_out_commit): a
 * symbolic link is written through to its target, an existing file keeps its mode (a new one gets
 * 0644). Returns 0, or an exit code (1 a failed write, 2 an output that cannot be one) with a
 * message. */
int ic_write_file_atomic(const char *path, const char *data, size_t len, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
