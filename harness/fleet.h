/* A fleet run on Slurm: the tasks `infercost fleet plan` scripted and `fleet submit` queued, what
 * each left in the results directory, and what Slurm says of it. The names and the two files
 * live here, read and written by one module:
 *   DIR/<type>-<partition>-<array job>_<task>.json   the task's result (written by infercost run)
 *   DIR/<same>.meta       key<TAB>value lines the task writes when it starts (partition, type,
 *                         array_job_id, task_id, job_id, node, log, result, started_utc) and again
 *                         when it ends (ended_utc, exit: "exit N" or "signal TERM")
 *   DIR/jobs.tsv          one line per submission: job id, partition, type, tasks, job name,
 *                         script, submitted (UTC)
 *   DIR/logs/<job name>-<array job>_<task>.log   the task's output (sbatch --output)
 * Slurm is asked through its client commands (squeue, sacct) found in PATH. */
#ifndef IC_FLEET_H
#define IC_FLEET_H

#include <stddef.h>

#define IC_FLEET_JOBS_FILE    "jobs.tsv"
#define IC_FLEET_PATH_MAX     1536 /* a result, log or .meta path */
#define IC_FLEET_DIR_MAX      768
#define IC_FLEET_PART_MAX     64 /* a Slurm partition name, [A-Za-z0-9._-] */
#define IC_FLEET_JOBNAME_MAX  160
#define IC_FLEET_MAX_PARTS    64
#define IC_FLEET_MAX_SPECS    256
#define IC_FLEET_SYSFS_PREFIX "IC_FLEET_SYSFS_ROOT_"

/* 1 when s can name a partition here: 1 to 63 of [A-Za-z0-9._-], starting with a letter or digit.
 */
int ic_fleet_partition_valid(const char *s);

/* The environment variable a task reads as its sysfs root (a test's stand-in DMI):
 * IC_FLEET_SYSFS_ROOT_ and the partition upper-cased, every other character than [A-Z0-9] as '_'.
 */
void ic_fleet_sysfs_var(const char *partition, char *out, size_t len);

/* One array task, as submitted and as found. */
typedef struct ic_fleet_task {
    char partition[IC_FLEET_PART_MAX];
    char type[48]; /* the instance type the partition promises */
    char job_name[IC_FLEET_JOBNAME_MAX];
    char array_job[24]; /* Slurm's array job id */
    long task_id;
    char name[256];                 /* <type>-<partition>-<array job>_<task> */
    char result[IC_FLEET_PATH_MAX]; /* DIR/<name>.json */
    char log[IC_FLEET_PATH_MAX];    /* "" when a hand-made .meta names none */
    int has_meta;                   /* the task started (it wrote its .meta) */
    char node[128];
    char exit[48];       /* "exit 0", "signal TERM"; "" when it never ended */
    char state[48];      /* Slurm's state (PENDING, RUNNING, COMPLETED, FAILED,
                            CANCELLED, TIMEOUT...) or UNKNOWN */
    char state_from[24]; /* "squeue", "sacct", "task's .meta" or "" (UNKNOWN) */
} ic_fleet_task;

typedef struct ic_fleet {
    char dir[IC_FLEET_DIR_MAX]; /* at most IC_FLEET_DIR_MAX - 1 bytes (plan checks) */
    ic_fleet_task *tasks;
    size_t n, cap;
    char slurm_note[512]; /* why squeue (or sacct) could not answer, for the report; "" if it did */
} ic_fleet;

/* Reads DIR/jobs.tsv (when present) and every .meta file in DIR: the tasks submitted, and those
 * that started (a hand-submitted task appears through its .meta alone), ordered by job and task.
 * Returns 0; 2 when DIR is not a directory, a file is malformed (named with its line) or nothing
 * was submitted there; 1 on a read error. Free with ic_fleet_free. */
int ic_fleet_load(ic_fleet *f, const char *dir, char *err, size_t errlen);

void ic_fleet_free(ic_fleet *f);

/* Fills each task's state: squeue -t all first (queued, running and recently ended jobs), then
 * sacct for those it no longer knows (where accounting is stored), then the exit the task wrote in
 * its .meta; UNKNOWN when none knows it. Never fails: what could not be asked is in slurm_note. */
void ic_fleet_states(ic_fleet *f);

/* 1 when the state is final and successful (COMPLETED), 2 when still queued or running, 0 when
 * the task failed, was cancelled or is unknown. */
int ic_fleet_state_class(const char *state);

/* Appends a submission to DIR/jobs.tsv (rewritten atomically). 0, or an exit code with err. */
int ic_fleet_record_job(const char *dir, const char *job_id, const char *partition,
                        const char *type, long tasks, const char *job_name, const char *script,
                        char *err, size_t errlen);

/* Runs argv[0] (looked up in PATH) with stdin from /dev/null, collecting its stdout into *out
 * (malloc'd, terminated; at most 16 MiB kept) and the last line of its stderr into errline.
 * Returns 0 with *status from waitpid, or -1 when it could not be started (errline says why). */
int ic_fleet_spawn(char *const argv[], char **out, int *status, char *errline, size_t errlen);

#endif
