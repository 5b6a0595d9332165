/* Atomic output files and the registry of temporary files in flight (see tempfiles.h). Registry
 * slots are fixed arrays written before they are marked in use, so the signal handler reads only
 * whole paths and calls only unlink and raise (async-signal-safe). */
#define _GNU_SOURCE
#include "tempfiles.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fail.h"

#define IC_TEMPFILE_SLOTS 8

static char g_paths[IC_TEMPFILE_SLOTS][IC_OUT_PATH_MAX + 32];
static atomic_int g_used[IC_TEMPFILE_SLOTS];
static atomic_int g_installed;

static const int k_signals[] = {SIGINT, SIGTERM, SIGHUP};

static void on_signal(int sig) {
    int saved = errno;
    for (int i = 0; i < IC_TEMPFILE_SLOTS; i++)
        if (atomic_load(&g_used[i]) == 2) unlink(g_paths[i]);
    /* SA_RESETHAND restored the default action: the signal, raised again, ends the process once
     * this handler returns, with the status a caller expects of it. */
    raise(sig);
    errno = saved;
}

void ic_tempfiles_install(void) {
    if (atomic_exchange(&g_installed, 1)) return;
    for (size_t i = 0; i < sizeof k_signals / sizeof k_signals[0]; i++) {
        struct sigaction old, sa;
        if (sigaction(k_signals[i], NULL, &old) != 0 || old.sa_handler == SIG_IGN) continue;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sa.sa_flags = SA_RESETHAND;
        sigfillset(&sa.sa_mask);
        sigaction(k_signals[i], &sa, NULL);
    }
}

int ic_tempfile_add(const char *path) {
    size_t n = strlen(path);
    if (n >= sizeof g_paths[0]) return -1;
    for (int i = 0; i < IC_TEMPFILE_SLOTS; i++) {
        int expected = 0;
        /* 1 reserves the slot while the path is copied; 2 makes it visible to the handler. */
        if (!atomic_compare_exchange_strong(&g_used[i], &expected, 1)) continue;
        memcpy(g_paths[i], path, n + 1);
        atomic_store(&g_used[i], 2);
        return i;
    }
    return -1;
}

void ic_tempfile_done(int slot) {
    if (slot >= 0 && slot < IC_TEMPFILE_SLOTS) atomic_store(&g_used[slot], 0);
}

/* ---- output files ---- */

/* Why a file of mode m cannot be an output (a regular file or a character device can), worded as
 * input.h words inputs. */
static const char *not_output(mode_t m) {
    if (S_ISDIR(m)) return "is a directory";
    if (S_ISFIFO(m)) return "not a regular file (a FIFO)";
    if (S_ISSOCK(m)) return "not a regular file (a socket)";
    if (S_ISBLK(m)) return "not a regular file (a device)";
    return S_ISREG(m) || S_ISCHR(m) ? NULL : "not a regular file";
}

int ic_out_check(const char *path, char *err, size_t errlen) {
    struct stat st;
    if (path[0] == '\0') return ic_fail(err, errlen, 2, "an empty file name");
    char dir[IC_OUT_PATH_MAX];
    if (stat(path, &st) == 0) {
        const char *why = not_output(st.st_mode);
        if (why) return ic_fail(err, errlen, 2, "%s: %s", path, why);
        if (S_ISCHR(st.st_mode)) return 0;
        /* The temporary file goes beside the file a symbolic link names. */
        if (realpath(path, dir) == NULL) snprintf(dir, sizeof dir, "%s", path);
    } else {
        snprintf(dir, sizeof dir, "%s", path);
    }
    char *slash = strrchr(dir, '/');
    if (slash == NULL)
        snprintf(dir, sizeof dir, ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return ic_fail(err, errlen, 2, "%s: the directory %s does not exist", path, dir);
    if (access(dir, W_OK | X_OK) != 0)
        return ic_fail(err, errlen, 2, "%s: the directory %s is not writable (%s)", path, dir,
                       strerror(errno));
    return 0;
}

int ic_out_open(ic_out *o, const char *path, char *err, size_t errlen) {
    o->fd = o->slot = -1;
    o->in_place = o->error = 0;
    o->mode = 0644;
    o->tmp[0] = '\0';
    if (snprintf(o->path, sizeof o->path, "%s", path) >= (int)sizeof o->path)
        return ic_fail(err, errlen, 2, "%.200s...: path too long", path);
    snprintf(o->dst, sizeof o->dst, "%s", path);
    struct stat st;
    if (lstat(path, &st) == 0) {
        /* Renaming over a symbolic link would replace the link: write to its target instead. */
        if (S_ISLNK(st.st_mode) && (!realpath(path, o->dst) || stat(o->dst, &st) != 0))
            return ic_fail(err, errlen, 1, "%s: cannot follow the symbolic link: %s", path,
                           strerror(errno));
        const char *why = not_output(st.st_mode);
        if (why) return ic_fail(err, errlen, 2, "%s: %s", path, why);
        if (S_ISCHR(st.st_mode)) {
            o->fd = open(o->dst, O_WRONLY | O_NOCTTY | O_CLOEXEC);
            if (o->fd < 0) return ic_fail(err, errlen, 1, "%s: %s", path, strerror(errno));
            o->in_place = 1;
            return 0;
        }
        o->mode = st.st_mode & 07777;
    } else if (errno != ENOENT) {
        return ic_fail(err, errlen, 1, "%s: %s", path, strerror(errno));
    }
    if (snprintf(o->tmp, sizeof o->tmp, "%s.tmp.XXXXXX", o->dst) >= (int)sizeof o->tmp)
        return ic_fail(err, errlen, 2, "%s: path too long", path);
    /* No signal may come between creating the file and registering it: it would stay behind. */
    sigset_t block, old;
    sigemptyset(&block);
    for (size_t i = 0; i < sizeof k_signals / sizeof k_signals[0]; i++)
        sigaddset(&block, k_signals[i]);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    o->fd = mkostemp(o->tmp, O_CLOEXEC);
    int e = errno;
    if (o->fd >= 0) o->slot = ic_tempfile_add(o->tmp);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (o->fd < 0)
        return ic_fail(err, errlen, 1, "%s: cannot create a temporary file: %s", path, strerror(e));
    return 0;
}

void ic_out_write(ic_out *o, const void *data, size_t len) {
    const char *p = data;
    while (len > 0 && o->error == 0) {
        ssize_t w = write(o->fd, p, len);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            o->error = w < 0 ? errno : EIO;
            break;
        }
        p += w;
        len -= (size_t)w;
    }
}

void ic_out_abort(ic_out *o) {
    if (o->fd >= 0) close(o->fd);
    o->fd = -1;
    if (!o->in_place && o->tmp[0]) unlink(o->tmp);
    ic_tempfile_done(o->slot);
    o->slot = -1;
}

int ic_out_commit(ic_out *o, char *err, size_t errlen) {
    int e = o->error;
    const char *what = "write failed";
    if (e == 0 && !o->in_place && (fchmod(o->fd, o->mode) != 0 || fsync(o->fd) != 0)) {
        e = errno;
        what = "cannot sync to disk";
    }
    int closed = close(o->fd);
    o->fd = -1;
    if (e == 0 && closed != 0) {
        e = errno;
        what = "close failed";
    }
    if (e == 0 && !o->in_place && rename(o->tmp, o->dst) != 0) {
        e = errno;
        what = "cannot replace";
    }
    if (e != 0) {
        ic_out_abort(o);
        return ic_fail(err, errlen, 1, "%s: %s: %s", o->path, what, strerror(e));
    }
    ic_tempfile_done(o->slot);
    o->slot = -1;
    return 0;
}

int ic_write_file_atomic(const char *path, const char *data, size_t len, char *err, size_t errlen) {
    ic_out o;
    int rc = ic_out_open(&o, path, err, errlen);
    if (rc) return rc;
    ic_out_write(&o, data, len);
    return ic_out_commit(&o, err, errlen);
}
