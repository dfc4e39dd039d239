/* spawn_loop: posix_spawn commands many times, interleaved, and report what each cost.
 *
 *   spawn_loop N WARMUP STATUS ARGC PATH [ARG...]  [N WARMUP STATUS ARGC PATH [ARG...]]...
 *
 * One group of five or more words per command: N timed spawns, WARMUP untimed ones first,
 * the exit status every child must have (anything else aborts: a launcher that fails is
 * fast and would otherwise look good), ARGC words of argv (argv[0] = PATH, not searched
 * in PATH). Each child gets this process's environment, stdout on /dev/null, stdin and
 * stderr inherited; it is waited for before the next one starts.
 *
 * The timed spawns of all commands are interleaved: N_max slots, and in each slot every
 * command whose turn it is (command c runs in N_c of the N_max slots, spread evenly)
 * runs once. So A and B measured together see the same machine, a few hundred
 * microseconds apart, and their ratio is not skewed by load that comes and goes.
 *
 * Prints one line per command, in order, of key=value pairs:
 *   n            timed spawns
 *   mean_ns      mean wall time (CLOCK_MONOTONIC) from before posix_spawn to after wait4
 *   median_ns    median of the same
 *   p10_ns       10th percentile of the same (nearest rank): what a spawn costs when
 *                nothing else on the machine gets in its way
 *   min_ns       the fastest spawn
 *   maxrss_kb    the largest ru_maxrss among its timed children (wait4's rusage: the child,
 *                the image(s) it replaced by execve, and the descendants it waited for)
 *   utime_ns, stime_ns, minflt, majflt, nvcsw, nivcsw   means per child, from wait4
 * and a last line self_maxrss_kb=: this process's own peak RSS. posix_spawn uses
 * CLONE_VM|CLONE_VFORK, so a child's ru_maxrss starts from this process's RSS at the
 * time of the spawn: that is the floor under every maxrss_kb.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

struct command {
    long n, warmup;
    int status;
    char **argv;                 /* NULL-terminated copy */
    long long *times;            /* n per-spawn wall times */
    long done;
    long long utime, stime, minflt, majflt, nvcsw, nivcsw;
    long maxrss;
};

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long long tv_ns(struct timeval tv) { return tv.tv_sec * 1000000000LL + tv.tv_usec * 1000LL; }

static void run_one(struct command *c, posix_spawn_file_actions_t *actions, struct rusage *usage) {
    pid_t pid;
    int error = posix_spawn(&pid, c->argv[0], actions, NULL, c->argv, environ);
    if (error) {
        fprintf(stderr, "spawn_loop: posix_spawn %s: %s\n", c->argv[0], strerror(error));
        exit(2);
    }
    int status;
    while (wait4(pid, &status, 0, usage) < 0) {
        if (errno != EINTR) {
            perror("spawn_loop: wait4");
            exit(2);
        }
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != c->status) {
        if (WIFEXITED(status))
            fprintf(stderr, "spawn_loop: %s exited %d, expected %d\n", c->argv[0], WEXITSTATUS(status), c->status);
        else
            fprintf(stderr, "spawn_loop: %s killed by signal %d\n", c->argv[0], WTERMSIG(status));
        exit(3);
    }
}

static int compare(const void *a, const void *b) {
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

static void usage_error(const char *why) {
    fprintf(stderr, "spawn_loop: %s\nusage: spawn_loop N WARMUP STATUS ARGC PATH [ARG...] [N WARMUP STATUS ARGC PATH...]...\n", why);
    exit(2);
}

int main(int argc, char **argv) {
    struct command *commands = calloc(argc, sizeof *commands);
    int count = 0;
    for (int i = 1; i < argc; count++) {
        if (argc - i < 5)
            usage_error("incomplete command");
        struct command *c = &commands[count];
        c->n = atol(argv[i]);
        c->warmup = atol(argv[i + 1]);
        c->status = atoi(argv[i + 2]);
        int words = atoi(argv[i + 3]);
        i += 4;
        if (c->n < 1 || c->warmup < 0 || words < 1 || words > argc - i)
            usage_error("bad N, WARMUP or ARGC");
        c->argv = calloc(words + 1, sizeof *c->argv);
        memcpy(c->argv, argv + i, words * sizeof *c->argv);
        i += words;
        c->times = calloc(c->n, sizeof *c->times);
        if (!c->argv || !c->times)
            usage_error("out of memory");
    }
    if (count == 0)
        usage_error("no command");

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);

    struct rusage usage;
    long n_max = 0;
    for (int k = 0; k < count; k++) {
        for (long i = 0; i < commands[k].warmup; i++)
            run_one(&commands[k], &actions, &usage);
        if (commands[k].n > n_max)
            n_max = commands[k].n;
    }

    for (long slot = 0; slot < n_max; slot++) {
        for (int k = 0; k < count; k++) {
            struct command *c = &commands[k];
            /* c's turn when floor((slot+1) * n / n_max) steps up: exactly n turns, evenly spread */
            if ((slot + 1) * c->n / n_max == slot * c->n / n_max)
                continue;
            long long start = now_ns();
            run_one(c, &actions, &usage);
            c->times[c->done++] = now_ns() - start;
            c->utime += tv_ns(usage.ru_utime);
            c->stime += tv_ns(usage.ru_stime);
            c->minflt += usage.ru_minflt;
            c->majflt += usage.ru_majflt;
            c->nvcsw += usage.ru_nvcsw;
            c->nivcsw += usage.ru_nivcsw;
            if (usage.ru_maxrss > c->maxrss)
                c->maxrss = usage.ru_maxrss;
        }
    }

    for (int k = 0; k < count; k++) {
        struct command *c = &commands[k];
        long long total = 0;
        for (long i = 0; i < c->done; i++)
            total += c->times[i];
        qsort(c->times, c->done, sizeof *c->times, compare);
        double n = (double)c->done;
        double median = c->done % 2 ? c->times[c->done / 2]
                                    : (c->times[c->done / 2 - 1] + c->times[c->done / 2]) / 2.0;
        long p10 = (c->done * 10 + 99) / 100 - 1;          /* nearest rank, 0-based */
        printf("n=%ld mean_ns=%.1f median_ns=%.1f p10_ns=%lld min_ns=%lld maxrss_kb=%ld utime_ns=%.1f stime_ns=%.1f minflt=%.2f "
               "majflt=%.2f nvcsw=%.2f nivcsw=%.2f\n",
               c->done, total / n, median, c->times[p10 < 0 ? 0 : p10], c->times[0], c->maxrss, c->utime / n, c->stime / n, c->minflt / n,
               c->majflt / n, c->nvcsw / n, c->nivcsw / n);
    }
    struct rusage self;
    getrusage(RUSAGE_SELF, &self);
    printf("self_maxrss_kb=%ld\n", self.ru_maxrss);
    posix_spawn_file_actions_destroy(&actions);
    return 0;
}
