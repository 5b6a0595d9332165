/* The fleet's tasks: jobs.tsv, the tasks' .meta files and what Slurm says of them (fleet.h). */
#define _GNU_SOURCE
#include "fleet.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fail.h"
#include "input.h"
#include "instance.h"
#include "tempfiles.h"

extern char **environ;

int ic_fleet_partition_valid(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n >= IC_FLEET_PART_MAX || !isalnum((unsigned char)s[0])) return 0;
    for (const char *p = s; *p; p++)
        if (!(isalnum((unsigned char)*p) || *p == '.' || *p == '_' || *p == '-')) return 0;
    return 1;
}

void ic_fleet_sysfs_var(const char *partition, char *out, size_t len) {
    size_t k = (size_t)snprintf(out, len, "%s", IC_FLEET_SYSFS_PREFIX);
    for (const char *p = partition; *p && k + 1 < len; p++)
        out[k++] = isalnum((unsigned char)*p) ? (char)toupper((unsigned char)*p) : '_';
    if (k < len) out[k] = '\0';
}

/* ---- running a client command ---- */

int ic_fleet_spawn(char *const argv[], char **out, int *status, char *errline, size_t errlen) {
    int po[2], pe[2];
    *out = NULL;
    errline[0] = '\0';
    if (pipe2(po, O_CLOEXEC) != 0) {
        snprintf(errline, errlen, "%s: pipe: %s", argv[0], strerror(errno));
        return -1;
    }
    if (pipe2(pe, O_CLOEXEC) != 0) {
        snprintf(errline, errlen, "%s: pipe: %s", argv[0], strerror(errno));
        close(po[0]);
        close(po[1]);
        return -1;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, po[1], 1);
    posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(po[1]);
    close(pe[1]);
    if (rc != 0) {
        snprintf(errline, errlen, "%s: %s", argv[0],
                 rc == ENOENT ? "not found in PATH (is Slurm's client installed?)" : strerror(rc));
        close(po[0]);
        close(pe[0]);
        return -1;
    }
    size_t cap = 4096, n = 0, en = 0;
    char *buf = malloc(cap), ebuf[1024];
    struct pollfd fds[2] = {{po[0], POLLIN, 0}, {pe[0], POLLIN, 0}};
    int open_fds = 2;
    while (open_fds > 0) {
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        for (int i = 0; i < 2; i++) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            char tmp[4096];
            ssize_t r = read(fds[i].fd, tmp, sizeof tmp);
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) {
                close(fds[i].fd);
                fds[i].fd = -1;
                open_fds--;
                continue;
            }
            if (i == 1) { /* keep stderr's tail: the last line says what failed */
                size_t keep = sizeof ebuf - 1;
                if ((size_t)r >= keep) {
                    memcpy(ebuf, tmp + (size_t)r - keep, keep);
                    en = keep;
                } else {
                    if (en + (size_t)r > keep) {
                        size_t drop = en + (size_t)r - keep;
                        memmove(ebuf, ebuf + drop, en - drop);
                        en -= drop;
                    }
                    memcpy(ebuf + en, tmp, (size_t)r);
                    en += (size_t)r;
                }
                continue;
            }
            if (buf && n + (size_t)r + 1 > cap && n + (size_t)r + 1 <= (16u << 20)) {
                size_t nc = cap;
                while (nc < n + (size_t)r + 1) nc *= 2;
                char *nb = realloc(buf, nc);
                if (nb) {
                    buf = nb;
                    cap = nc;
                }
            }
            if (buf && n + (size_t)r + 1 <= cap) {
                memcpy(buf + n, tmp, (size_t)r);
                n += (size_t)r;
            }
        }
    }
    for (int i = 0; i < 2; i++)
        if (fds[i].fd >= 0) close(fds[i].fd);
    while (waitpid(pid, status, 0) < 0 && errno == EINTR) {
    }
    ebuf[en] = '\0';
    while (en && (ebuf[en - 1] == '\n' || ebuf[en - 1] == '\r')) ebuf[--en] = '\0';
    const char *last = strrchr(ebuf, '\n');
    snprintf(errline, errlen, "%s", last ? last + 1 : ebuf);
    if (buf) buf[n] = '\0';
    *out = buf;
    return 0;
}

/* ---- the task list ---- */

static void task_paths(const ic_fleet *f, ic_fleet_task *t) {
    snprintf(t->name, sizeof t->name, "%s-%s-%s_%ld", t->type, t->partition, t->array_job,
             t->task_id);
    snprintf(t->result, sizeof t->result, "%s/%s.json", f->dir, t->name);
    if (!t->log[0] && t->job_name[0])
        snprintf(t->log, sizeof t->log, "%s/logs/%s-%s_%ld.log", f->dir, t->job_name, t->array_job,
                 t->task_id);
}

/* A task is its partition, array job and task: two clusters (an x86 one and a Graviton one, as
 * ParallelCluster requires) may write into one results directory and hand out the same job ids. */
static ic_fleet_task *find_task(ic_fleet *f, const char *partition, const char *array_job,
                                long task_id) {
    for (size_t i = 0; i < f->n; i++)
        if (f->tasks[i].task_id == task_id && strcmp(f->tasks[i].array_job, array_job) == 0 &&
            strcmp(f->tasks[i].partition, partition) == 0)
            return &f->tasks[i];
    return NULL;
}

static ic_fleet_task *new_task(ic_fleet *f) {
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 16;
        ic_fleet_task *nt = realloc(f->tasks, cap * sizeof *nt);
        if (!nt) return NULL;
        f->tasks = nt;
        f->cap = cap;
    }
    ic_fleet_task *t = &f->tasks[f->n++];
    memset(t, 0, sizeof *t);
    return t;
}

static int job_id_valid(const char *s) {
    return s[0] && strlen(s) < 24 && strspn(s, "0123456789") == strlen(s);
}

static int has_controls(const char *s) {
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f) return 1;
    return 0;
}

/* Splits a line at tabs into at most max fields (in place); returns how many. */
static int split_tabs(char *line, char **fields, int max) {
    int n = 0;
    char *p = line;
    while (n < max) {
        fields[n++] = p;
        char *tab = strchr(p, '\t');
        if (!tab) break;
        *tab = '\0';
        p = tab + 1;
    }
    return n;
}

static int parse_count(const char *s, long lo, long hi, long *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno || v < lo || v > hi || !isdigit((unsigned char)s[0])) return -1;
    *out = v;
    return 0;
}

static int load_jobs(ic_fleet *f, char *err, size_t errlen) {
    char path[IC_FLEET_PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/%s", f->dir, IC_FLEET_JOBS_FILE);
    int rc = ic_input_check(path, NULL, err, errlen);
    if (rc) return rc;
    FILE *in = fopen(path, "r");
    if (!in) return errno == ENOENT ? 0 : ic_fail(err, errlen, 1, "%s: %s", path, strerror(errno));
    char line[4096];
    long lineno = 0;
    rc = 0;
    while (rc == 0 && fgets(line, sizeof line, in)) {
        lineno++;
        size_t len = strlen(line);
        if (len && line[len - 1] == '\n') line[--len] = '\0';
        if (line[0] == '#' || line[0] == '\0') continue;
        char *fl[8];
        long ntasks;
        if (has_controls(line) && !strchr(line, '\t')) {
            rc = ic_fail(err, errlen, 2, "%s:%ld: not a jobs.tsv line", path, lineno);
            break;
        }
        int nf = split_tabs(line, fl, 8);
        if (nf != 7 || !job_id_valid(fl[0]) || !ic_fleet_partition_valid(fl[1]) ||
            !ic_instance_type_valid(fl[2]) || parse_count(fl[3], 1, IC_FLEET_MAX_SPECS, &ntasks) ||
            !fl[4][0] || strlen(fl[4]) >= IC_FLEET_JOBNAME_MAX || strchr(fl[4], '/') ||
            has_controls(fl[4])) {
            rc = ic_fail(err, errlen, 2,
                         "%s:%ld: expected job id, partition, instance type, task count, job "
                         "name, script and time, tab-separated",
                         path, lineno);
            break;
        }
        for (long t = 0; t < ntasks; t++) {
            if (find_task(f, fl[1], fl[0], t)) continue;
            ic_fleet_task *k = new_task(f);
            if (!k) {
                rc = ic_fail(err, errlen, 1, "out of memory");
                break;
            }
            snprintf(k->partition, sizeof k->partition, "%s", fl[1]);
            snprintf(k->type, sizeof k->type, "%s", fl[2]);
            snprintf(k->job_name, sizeof k->job_name, "%s", fl[4]);
            snprintf(k->array_job, sizeof k->array_job, "%s", fl[0]);
            k->task_id = t;
            task_paths(f, k);
        }
    }
    if (rc == 0 && ferror(in)) rc = ic_fail(err, errlen, 1, "%s: read failed", path);
    fclose(in);
    return rc;
}

/* One .meta file: the task it names, merged into the list (added when jobs.tsv lacks it). */
static int load_meta(ic_fleet *f, const char *path, char *err, size_t errlen) {
    int rc = ic_input_check(path, NULL, err, errlen);
    if (rc) return rc;
    FILE *in = fopen(path, "r");
    if (!in) return ic_fail(err, errlen, 1, "%s: %s", path, strerror(errno));
    ic_fleet_task m;
    memset(&m, 0, sizeof m);
    m.task_id = -1;
    char line[IC_FLEET_PATH_MAX + 64];
    long lineno = 0;
    while (rc == 0 && fgets(line, sizeof line, in)) {
        lineno++;
        size_t len = strlen(line);
        if (len && line[len - 1] == '\n') line[--len] = '\0';
        char *fl[3];
        if (split_tabs(line, fl, 3) != 2 || has_controls(fl[1])) {
            rc = ic_fail(err, errlen, 2, "%s:%ld: expected key<TAB>value", path, lineno);
            break;
        }
        const char *k = fl[0], *v = fl[1];
        if (strcmp(k, "partition") == 0)
            snprintf(m.partition, sizeof m.partition, "%s", v);
        else if (strcmp(k, "type") == 0)
            snprintf(m.type, sizeof m.type, "%s", v);
        else if (strcmp(k, "array_job_id") == 0)
            snprintf(m.array_job, sizeof m.array_job, "%s", v);
        else if (strcmp(k, "task_id") == 0) {
            if (parse_count(v, 0, 100000000, &m.task_id))
                rc = ic_fail(err, errlen, 2, "%s:%ld: task_id '%s' is not a task number", path,
                             lineno, v);
        } else if (strcmp(k, "job_name") == 0)
            snprintf(m.job_name, sizeof m.job_name, "%s", v);
        else if (strcmp(k, "node") == 0)
            snprintf(m.node, sizeof m.node, "%s", v);
        else if (strcmp(k, "log") == 0)
            snprintf(m.log, sizeof m.log, "%s", v);
        else if (strcmp(k, "exit") == 0)
            snprintf(m.exit, sizeof m.exit, "%s", v);
        /* other keys (job_id, result, started_utc, ended_utc) are for people */
    }
    if (rc == 0 && ferror(in)) rc = ic_fail(err, errlen, 1, "%s: read failed", path);
    fclose(in);
    if (rc) return rc;
    if (!ic_fleet_partition_valid(m.partition) || !ic_instance_type_valid(m.type) ||
        !job_id_valid(m.array_job) || m.task_id < 0)
        return ic_fail(err, errlen, 2,
                       "%s: needs a valid partition, type, array_job_id and task_id", path);
    ic_fleet_task *t = find_task(f, m.partition, m.array_job, m.task_id);
    if (!t) {
        if ((t = new_task(f)) == NULL) return ic_fail(err, errlen, 1, "out of memory");
        *t = m;
    } else {
        /* The task's own record of where it ran and logged wins over what submit expected. */
        if (m.log[0]) snprintf(t->log, sizeof t->log, "%s", m.log);
        snprintf(t->node, sizeof t->node, "%s", m.node);
        snprintf(t->exit, sizeof t->exit, "%s", m.exit);
    }
    t->has_meta = 1;
    task_paths(f, t);
    return 0;
}

static int by_job_task(const void *a, const void *b) {
    const ic_fleet_task *x = a, *y = b;
    size_t lx = strlen(x->array_job), ly = strlen(y->array_job);
    if (lx != ly) return lx < ly ? -1 : 1; /* numeric order of decimal ids */
    int c = strcmp(x->array_job, y->array_job);
    if (c) return c;
    return x->task_id < y->task_id ? -1 : x->task_id > y->task_id;
}

int ic_fleet_load(ic_fleet *f, const char *dir, char *err, size_t errlen) {
    memset(f, 0, sizeof *f);
    struct stat st;
    if (strlen(dir) >= IC_FLEET_DIR_MAX)
        return ic_fail(err, errlen, 2, "%.64s...: results directory path too long", dir);
    if (stat(dir, &st) != 0) return ic_fail(err, errlen, 2, "%s: %s", dir, strerror(errno));
    if (!S_ISDIR(st.st_mode)) return ic_fail(err, errlen, 2, "%s: not a directory", dir);
    snprintf(f->dir, sizeof f->dir, "%s", dir);
    size_t dl = strlen(f->dir);
    while (dl > 1 && f->dir[dl - 1] == '/') f->dir[--dl] = '\0';
    int rc = load_jobs(f, err, errlen);
    DIR *d = rc == 0 ? opendir(f->dir) : NULL;
    if (rc == 0 && !d) rc = ic_fail(err, errlen, 1, "%s: %s", f->dir, strerror(errno));
    struct dirent *e;
    while (rc == 0 && d && (e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n < 6 || strcmp(e->d_name + n - 5, ".meta") != 0) continue;
        char path[IC_FLEET_PATH_MAX + 256];
        snprintf(path, sizeof path, "%s/%s", f->dir, e->d_name);
        rc = load_meta(f, path, err, errlen);
    }
    if (d) closedir(d);
    if (rc == 0 && f->n == 0)
        rc = ic_fail(err, errlen, 2,
                     "%s: nothing was submitted here (no %s, no task's .meta file); run "
                     "infercost fleet submit",
                     f->dir, IC_FLEET_JOBS_FILE);
    if (rc) {
        ic_fleet_free(f);
        return rc;
    }
    qsort(f->tasks, f->n, sizeof *f->tasks, by_job_task);
    return 0;
}

void ic_fleet_free(ic_fleet *f) {
    free(f->tasks);
    f->tasks = NULL;
    f->n = f->cap = 0;
}

/* ---- Slurm's view ---- */

static void set_state(ic_fleet_task *t, const char *state, size_t len, const char *from) {
    if (len >= sizeof t->state) len = sizeof t->state - 1;
    memcpy(t->state, state, len);
    t->state[len] = '\0';
    snprintf(t->state_from, sizeof t->state_from, "%s", from);
}

/* Appends "what: why; " to the fleet's note on Slurm. */
static void note(ic_fleet *f, const char *what, const char *why) {
    size_t k = strlen(f->slurm_note);
    snprintf(f->slurm_note + k, sizeof f->slurm_note - k, "%s%s%s", k ? "; " : "", what, why);
}

/* Splits line in place at '|' into exactly n fields; 0, or -1 when it has another count. */
static int split_bars(char *line, char **fields, int n) {
    int k = 0;
    for (char *p = line;; p++) {
        if (k == n) return -1;
        fields[k++] = p;
        p = strchr(p, '|');
        if (!p) break;
        *p = '\0';
    }
    return k == n ? 0 : -1;
}

/* Runs a Slurm client; its stdout, or NULL with the reason noted. */
static char *slurm_client(ic_fleet *f, char *const argv[]) {
    char *out, errline[512];
    int status;
    if (ic_fleet_spawn(argv, &out, &status, errline, sizeof errline) != 0) {
        note(f, errline, "");
        return NULL;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !out) {
        char what[64];
        snprintf(what, sizeof what, "%s failed: ", argv[0]);
        note(f, what, errline[0] ? errline : "no message");
        free(out);
        return NULL;
    }
    return out;
}

/* squeue -t all, one line per array task: "<array job>|<task>|<partition>|<state>". */
static void from_squeue(ic_fleet *f) {
    char *argv[] = {"squeue", "-h", "-r", "-t", "all", "-o", "%F|%K|%P|%T", NULL};
    char *out = slurm_client(f, argv);
    for (char *line = out, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = '\0';
        char *fl[4];
        long task;
        if (split_bars(line, fl, 4)) continue;
        if (parse_count(fl[1], 0, 100000000, &task)) continue; /* N/A: not an array task */
        ic_fleet_task *t = find_task(f, fl[2], fl[0], task);
        if (t) set_state(t, fl[3], strlen(fl[3]), "squeue");
    }
    free(out);
}

/* sacct for the tasks squeue no longer knows; where accounting is not stored (no slurmdbd) it
 * says so, and the tasks' own .meta is all there is. */
static void from_sacct(ic_fleet *f) {
    char ids[4096] = "";
    size_t k = 0;
    for (size_t i = 0; i < f->n; i++) {
        if (f->tasks[i].state[0]) continue;
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++)
            seen =
                !f->tasks[j].state[0] && strcmp(f->tasks[j].array_job, f->tasks[i].array_job) == 0;
        if (seen) continue;
        int w = snprintf(ids + k, sizeof ids - k, "%s%s", k ? "," : "", f->tasks[i].array_job);
        if (w < 0 || (size_t)w >= sizeof ids - k) break;
        k += (size_t)w;
    }
    if (!k) return;
    char *argv[] = {"sacct", "-n", "-P", "-X", "-o", "JobID,Partition,State", "-j", ids, NULL};
    char *out = slurm_client(f, argv);
    for (char *line = out, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = '\0';
        char *fl[3], *us;
        long task;
        if (split_bars(line, fl, 3) || (us = strchr(fl[0], '_')) == NULL) continue;
        *us = '\0';
        if (parse_count(us + 1, 0, 100000000, &task)) continue;
        ic_fleet_task *t = find_task(f, fl[1], fl[0], task);
        if (t) set_state(t, fl[2], strcspn(fl[2], " "), "sacct"); /* "CANCELLED by 0" */
    }
    free(out);
}

void ic_fleet_states(ic_fleet *f) {
    f->slurm_note[0] = '\0';
    for (size_t i = 0; i < f->n; i++) f->tasks[i].state[0] = f->tasks[i].state_from[0] = '\0';
    from_squeue(f);
    int unknown = 0;
    for (size_t i = 0; i < f->n; i++) unknown += !f->tasks[i].state[0];
    if (unknown) from_sacct(f);
    for (size_t i = 0; i < f->n; i++) {
        ic_fleet_task *t = &f->tasks[i];
        if (t->state[0]) continue;
        if (strcmp(t->exit, "exit 0") == 0)
            set_state(t, "COMPLETED", 9, "task's .meta");
        else if (strncmp(t->exit, "exit ", 5) == 0)
            set_state(t, "FAILED", 6, "task's .meta");
        else if (strncmp(t->exit, "signal ", 7) == 0)
            set_state(t, "SIGNALLED", 9, "task's .meta");
        else
            set_state(t, "UNKNOWN", 7, "");
    }
}

int ic_fleet_state_class(const char *state) {
    if (strcmp(state, "COMPLETED") == 0) return 1;
    static const char *const live[] = {"PENDING",     "RUNNING",      "CONFIGURING", "COMPLETING",
                                       "REQUEUED",    "RESIZING",     "SUSPENDED",   "STOPPED",
                                       "REQUEUE_FED", "REQUEUE_HOLD", "SIGNALING",   "STAGE_OUT"};
    for (size_t i = 0; i < sizeof live / sizeof live[0]; i++)
        if (strcmp(state, live[i]) == 0) return 2;
    return 0;
}

/* ---- jobs.tsv ---- */

int ic_fleet_record_job(const char *dir, const char *job_id, const char *partition,
                        const char *type, long tasks, const char *job_name, const char *script,
                        char *err, size_t errlen) {
    char path[IC_FLEET_PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/%s", dir, IC_FLEET_JOBS_FILE);
    int rc = ic_input_check(path, NULL, err, errlen);
    if (rc) return rc;
    char *old = NULL;
    size_t n = 0;
    FILE *in = fopen(path, "r");
    if (!in && errno != ENOENT) return ic_fail(err, errlen, 1, "%s: %s", path, strerror(errno));
    if (in) {
        size_t cap = 0;
        char chunk[4096];
        size_t r;
        while ((r = fread(chunk, 1, sizeof chunk, in)) > 0) {
            if (n + r + 1 > cap) {
                cap = (n + r + 1) * 2;
                char *nb = realloc(old, cap);
                if (!nb) {
                    free(old);
                    fclose(in);
                    return ic_fail(err, errlen, 1, "out of memory");
                }
                old = nb;
            }
            memcpy(old + n, chunk, r);
            n += r;
        }
        int bad = ferror(in);
        fclose(in);
        if (bad) {
            free(old);
            return ic_fail(err, errlen, 1, "%s: read failed", path);
        }
    }
    char when[32];
    time_t now = time(NULL);
    struct tm tm;
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
    char line[IC_FLEET_PATH_MAX + 512];
    int w = snprintf(line, sizeof line, "%s%s\t%s\t%s\t%ld\t%s\t%s\t%s\n",
                     n ? "" : "#job_id\tpartition\ttype\ttasks\tjob_name\tscript\tsubmitted_utc\n",
                     job_id, partition, type, tasks, job_name, script, when);
    if (w < 0 || (size_t)w >= sizeof line) {
        free(old);
        return ic_fail(err, errlen, 2, "%s: script path too long", script);
    }
    char *all = malloc(n + (size_t)w + 2);
    if (!all) {
        free(old);
        return ic_fail(err, errlen, 1, "out of memory");
    }
    if (n) memcpy(all, old, n);
    if (n && all[n - 1] != '\n') all[n++] = '\n';
    memcpy(all + n, line, (size_t)w);
    free(old);
    rc = ic_write_file_atomic(path, all, n + (size_t)w, err, errlen);
    free(all);
    return rc;
}
