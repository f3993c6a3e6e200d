/* test_config_file.c - kiosk.conf as a file: what config_load_file reads
 * and refuses (anything but a regular file, without blocking; unreadable
 * files; NUL bytes), and that a loaded config names its file. The keys and
 * values are test_config.c's. */
#include "t.h"
#include "config/config.h"

#include <grp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char err[512];

/* Writes the `len` bytes of `text` as the file `path`. */
static void write_file(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "w");

    T_CHECK(f != NULL);
    if (f != NULL) {
        T_EQ_INT(fwrite(text, 1, len, f), len);
        T_CHECK(fclose(f) == 0);
    }
}

#define WRITE_TEXT(path, text) write_file(path, text, strlen(text))

T_TEST(file_errors)
{
    char dir[] = "/tmp/test_config.XXXXXX", path[64];
    kiosk_config c;

    T_CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/missing.conf", dir);
    err[0] = '\0';
    T_CHECK(!config_load_file(&c, path, err, sizeof err));
    T_CHECK(strncmp(err, path, strlen(path)) == 0);
    T_CHECK(strstr(err, ": cannot open: No such file or directory") != NULL);

    snprintf(path, sizeof path, "%s/bad.conf", dir);
    WRITE_TEXT(path, "[ui]\nlanguage = en\n\n[display]\nwidth = wide\n");
    T_CHECK(!config_load_file(&c, path, err, sizeof err));
    {
        char want[128];
        snprintf(want, sizeof want, "%s:5: width: 'wide' is not a whole number", path);
        T_EQ_STR(err, want);
    }

    write_file(path, "[ui]\nlanguage = en\x00\n", 19);
    T_CHECK(!config_load_file(&c, path, err, sizeof err));
    {
        char want[128];
        snprintf(want, sizeof want, "%s:2: NUL byte: not a text file", path);
        T_EQ_STR(err, want);
    }
    unlink(path);

    /* A directory is not a config file (only_regular_files_are_read has
     * the other kinds). */
    T_CHECK(!config_load_file(&c, dir, err, sizeof err));
    {
        char want[128];
        snprintf(want, sizeof want, "%s: not a regular file (a directory)", dir);
        T_EQ_STR(err, want);
    }
    rmdir(dir);

    /* A short buffer is truncated, not overrun. */
    {
        char small[8];
        memset(small, 'x', sizeof small);
        T_CHECK(!config_load_string(&c, "[nope]\n", "t.conf", small, sizeof small));
        T_EQ_STR(small, "t.conf:");
        T_CHECK(!config_load_string(&c, "[nope]\n", "t.conf", NULL, 0));
        T_CHECK(!config_load_string(&c, NULL, "t.conf", small, sizeof small));
    }
}

/* ---- files that are not config files ---------------------------------- */

/* A load that has not returned after this long is taken as blocked. */
#define LOAD_LIMIT_S 3
#define NOBODY 65534

typedef struct {
    bool ok;        /* the load succeeded */
    bool blocked;   /* killed at LOAD_LIMIT_S: it would have hung the program */
    double ms;      /* how long it took */
} file_load;

/* Loads `path` in a child process, as user `uid` unless it is (uid_t)-1.
 * In a child, so that a load that blocks (opening a FIFO for reading waits
 * for a writer, for ever) fails the test instead of hanging it, and so that
 * root can see what a user without read permission sees. The message is in
 * err. */
static file_load load_in_child(const char *path, uid_t uid)
{
    file_load r = { false, false, 0.0 };
    char buf[1 + sizeof err];
    struct timespec t0, t1;
    size_t got = 0;
    ssize_t n;
    int fds[2], status = 0;
    pid_t pid;

    err[0] = '\0';
    T_CHECK(pipe(fds) == 0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid = fork();
    if (pid == 0) {
        kiosk_config c;

        close(fds[0]);
        alarm(LOAD_LIMIT_S);
        if (uid != (uid_t)-1 && (setgroups(0, NULL) != 0 || setgid(uid) != 0 || setuid(uid) != 0))
            _exit(3);
        buf[1] = '\0'; /* a load that succeeds writes no message */
        buf[0] = config_load_file(&c, path, buf + 1, sizeof buf - 1) ? '1' : '0';
        (void)!write(fds[1], buf, 1 + strlen(buf + 1) + 1);
        _exit(0);
    }
    close(fds[1]);
    while (pid > 0 && got < sizeof buf && (n = read(fds[0], buf + got, sizeof buf - got)) > 0)
        got += (size_t)n;
    close(fds[0]);
    if (pid > 0)
        waitpid(pid, &status, 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    r.ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    r.blocked = WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM;
    T_CHECK(pid > 0 && (r.blocked || (WIFEXITED(status) && WEXITSTATUS(status) == 0)));
    if (r.blocked)
        snprintf(err, sizeof err, "(still loading after %d s: blocked)", LOAD_LIMIT_S);
    else if (got >= 2 && buf[got - 1] == '\0') {
        r.ok = buf[0] == '1';
        snprintf(err, sizeof err, "%s", buf + 1);
    }
    return r;
}

static bool make_fifo(const char *p) { return mkfifo(p, 0644) == 0; }
static bool make_dir(const char *p) { return mkdir(p, 0755) == 0; }

/* A bound UNIX socket; the path stays after the descriptor is closed. */
static bool make_socket(const char *p)
{
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool ok;

    snprintf(a.sun_path, sizeof a.sun_path, "%s", p);
    ok = fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

/* A link to a FIFO: the link is followed, and what it names is refused. */
static bool make_link_to_fifo(const char *p)
{
    char target[256];

    snprintf(target, sizeof target, "%s.target", p);
    return make_fifo(target) && symlink(target, p) == 0;
}

T_TEST(only_regular_files_are_read)
{
    /* `make` NULL: `name` is an absolute path that exists already. */
    static const struct {
        const char *name;
        bool (*make)(const char *path);
        const char *kind;
    } cases[] = {
        { "fifo.conf", make_fifo, "a FIFO" },
        { "dir.conf", make_dir, "a directory" },
        { "sock.conf", make_socket, "a socket" },
        { "link.conf", make_link_to_fifo, "a FIFO" },
        { "/dev/null", NULL, "a character device" },
    };
    char dir[] = "/tmp/test_config.XXXXXX", path[128], want[256];

    T_CHECK(mkdtemp(dir) != NULL);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        file_load r;

        if (cases[i].make == NULL)
            snprintf(path, sizeof path, "%s", cases[i].name);
        else {
            snprintf(path, sizeof path, "%s/%s", dir, cases[i].name);
            T_CHECK(cases[i].make(path));
        }
        r = load_in_child(path, (uid_t)-1);
        snprintf(want, sizeof want, "%s: not a regular file (%s)", path, cases[i].kind);
        T_CHECK(!r.ok);
        T_CHECK(!r.blocked);
        T_EQ_STR(err, want);
        T_CHECK(r.ms < 1000.0);
    }
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (cases[i].make == NULL)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, cases[i].name);
        if (cases[i].make == make_dir)
            rmdir(path);
        else
            unlink(path);
        if (cases[i].make == make_link_to_fifo) {
            snprintf(path, sizeof path, "%s/%s.target", dir, cases[i].name);
            unlink(path);
        }
    }
    rmdir(dir);
}

T_TEST(unreadable_files)
{
    char dir[] = "/tmp/test_config.XXXXXX", path[128], want[256];
    file_load r;

    T_CHECK(mkdtemp(dir) != NULL);
    /* Only the file's own mode may be in the way: the directory is open. */
    T_CHECK(chmod(dir, 0755) == 0);
    snprintf(path, sizeof path, "%s/secret.conf", dir);
    WRITE_TEXT(path, "[ui]\nlanguage = en\n");
    T_CHECK(chmod(path, 0) == 0);
    snprintf(want, sizeof want, "%s: cannot open: Permission denied", path);
    if (geteuid() == 0) {
        /* Mode bits do not stop root (CAP_DAC_OVERRIDE): root reads it, and
         * the kiosk's user, which is not root, is refused. */
        r = load_in_child(path, (uid_t)-1);
        T_CHECK(r.ok);
        r = load_in_child(path, NOBODY);
    } else {
        r = load_in_child(path, (uid_t)-1);
    }
    T_CHECK(!r.ok);
    T_CHECK(!r.blocked);
    T_EQ_STR(err, want);
    unlink(path);
    rmdir(dir);

    /* A regular file whose read fails, for root too: the kernel answers
     * EIO for the unmapped page at address 0. */
    r = load_in_child("/proc/self/mem", (uid_t)-1);
    T_CHECK(!r.ok);
    T_EQ_STR(err, "/proc/self/mem: cannot read: Input/output error");
}

T_TEST(a_file_names_itself)
{
    char e[256], dir[] = "/tmp/test_config.XXXXXX", path[64], want[160];
    kiosk_config c;

    /* The name as given is where messages about its values point. */
    T_CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/k.conf", dir);
    WRITE_TEXT(path, "[sync]\n\nsocket = /run/x.sock\n");
    T_CHECK(config_load_file(&c, path, err, sizeof err));
    config_errf(&c, "sync", "socket", e, sizeof e, "taken");
    snprintf(want, sizeof want, "%s:3: [sync] socket: taken", path);
    T_EQ_STR(e, want);
    unlink(path);
    rmdir(dir);
}

T_MAIN(T_CASE(file_errors), T_CASE(only_regular_files_are_read), T_CASE(unreadable_files),
       T_CASE(a_file_names_itself))
