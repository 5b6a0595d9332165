/* The registry of temporary files in flight and the signal handler that removes them. Slots are
 * fixed arrays written before they are marked in use, so the handler reads only whole paths and
 * calls only unlink, sigaction and raise (async-signal-safe). */
#define _GNU_SOURCE
#include "tempfiles.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#define IC_TEMPFILE_SLOTS 8

static char g_paths[IC_TEMPFILE_SLOTS][PATH_MAX + 32];
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
