/* probe: the program a launcher execs in the native scenario tests.
 *
 * Writes to stdout, binary-safe, what the kernel handed it:
 *
 *   "tinylaunch-probe\0"
 *   "argc\0" <decimal>\0  then each argv[i]\0
 *   "envc\0" <decimal>\0  then each environ entry\0
 *   "execfn\0" then 1\0 <AT_EXECFN>\0   or   0\0 when the auxv has none
 *
 * Strings from the kernel never contain NUL, so NUL separation is lossless.
 * No /proc (it does not exist under the chroot test), nothing on stderr (the
 * launcher's stderr is compared byte for byte), exit 0.
 *
 * Built with `gcc -static -O2` by tests/conftest.py, once per session.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

extern char **environ;

static char *buf;
static size_t len, cap;

static void put(const char *s, size_t n)
{
    if (len + n > cap) {
        while (len + n > cap)
            cap = cap ? cap * 2 : 1 << 16;
        buf = realloc(buf, cap);
        if (!buf)
            _exit(99);
    }
    memcpy(buf + len, s, n);
    len += n;
}

static void str(const char *s) { put(s, strlen(s) + 1); }

static void num(unsigned long v)
{
    char tmp[24];
    int i = sizeof tmp;
    tmp[--i] = 0;
    do {
        tmp[--i] = '0' + v % 10;
        v /= 10;
    } while (v);
    str(tmp + i);
}

int main(int argc, char **argv)
{
    unsigned long n = 0;
    const char *execfn = (const char *)getauxval(AT_EXECFN);

    str("tinylaunch-probe");
    str("argc");
    num((unsigned long)argc);
    for (int i = 0; i < argc; i++)
        str(argv[i]);
    for (char **e = environ; e && *e; e++)
        n++;
    str("envc");
    num(n);
    for (char **e = environ; e && *e; e++)
        str(*e);
    str("execfn");
    if (execfn) {
        num(1);
        str(execfn);
    } else {
        num(0);
    }
    for (size_t off = 0; off < len;) {
        ssize_t w = write(1, buf + off, len - off);
        if (w <= 0)
            _exit(98);
        off += (size_t)w;
    }
    return 0;
}
