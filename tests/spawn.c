/* spawn: execve exactly what a test asks for, which Python cannot express.
 *
 *   spawn REQUEST
 *
 * REQUEST is a file of NUL-terminated fields:
 *   rmdir\0 file\0  argc\0 argv[0]\0 ... argv[argc-1]\0  envc\0 env[0]\0 ... env[envc-1]\0
 *
 * rmdir, if not empty, is a directory removed just before execve: with the working
 * directory itself, it leaves the new program in a deleted cwd (getcwd fails, ENOENT).
 *
 * It allows what os.execve and subprocess refuse: argc == 0, an empty argv[0],
 * environment entries without '=', duplicate names, any order, and an execve
 * path (the new program's AT_EXECFN) independent of argv[0]. The request is read
 * from a file, not from spawn's own argv, so argv/env near the kernel's limits fit.
 * The working directory is inherited (relative files resolve against it).
 *
 * If execve fails, spawn writes "spawn: execve errno N\n" to stderr and exits
 * with SPAWN_FAILED (200), a status no launcher or probe uses: the tests use it
 * to ask the kernel what execve does with a given file, argv and environment.
 *
 * Built with `gcc -static -O2` by tests/conftest.py, once per session.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SPAWN_FAILED 200

static char *data, *end, *cur;

static char *field(void)
{
    char *s = cur;
    char *z = memchr(cur, 0, (size_t)(end - cur));
    if (!z) {
        fprintf(stderr, "spawn: truncated request\n");
        exit(2);
    }
    cur = z + 1;
    return s;
}

static char **list(void)
{
    long n = strtol(field(), NULL, 10);
    char **v = calloc((size_t)n + 1, sizeof *v);
    if (!v)
        exit(3);
    for (long i = 0; i < n; i++)
        v[i] = field();
    return v;
}

int main(int argc, char **argv)
{
    struct stat st;
    int fd;

    if (argc != 2) {
        fprintf(stderr, "usage: spawn REQUEST\n");
        return 2;
    }
    fd = open(argv[1], O_RDONLY);
    if (fd < 0 || fstat(fd, &st) < 0) {
        perror("spawn: open request");
        return 2;
    }
    data = malloc((size_t)st.st_size + 1);
    for (off_t got = 0; got < st.st_size;) {
        ssize_t r = read(fd, data + got, (size_t)(st.st_size - got));
        if (r <= 0) {
            perror("spawn: read request");
            return 2;
        }
        got += r;
    }
    close(fd);
    cur = data;
    end = data + st.st_size;

    char *gone = field();
    char *file = field();
    char **args = list();
    char **env = list();
    if (*gone && rmdir(gone) < 0) {
        perror("spawn: rmdir");
        return 2;
    }
    execve(file, args, env);
    fprintf(stderr, "spawn: execve errno %d\n", errno);
    return SPAWN_FAILED;
}
