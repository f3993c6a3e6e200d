/* outbox_scan.c - see outbox_scan.h. */
#include "syncd/outbox_scan.h"

#include "util/evname.h"
#include "util/log.h"
#include "util/text.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define WHERE "outbox"


bool oscan_parse_name(const char *name, uint64_t *seq)
{
    return evname_parse(name, seq);
}

static int by_seq(const void *a, const void *b)
{
    uint64_t x = ((const oscan_entry *)a)->seq, y = ((const oscan_entry *)b)->seq;
    return (x > y) - (x < y);
}

bool oscan_list(const char *dir, oscan_entry **out, size_t *n)
{
    bool ok = false;
    oscan_entry *v = NULL;
    size_t count = 0, room = 0;
    DIR *d = opendir(dir);
    *out = NULL;
    *n = 0;
    if (!d) {
        log_err(WHERE, "cannot open %s: %s", dir, strerror(errno));
        goto out;
    }
    for (;;) {
        errno = 0;
        struct dirent *e = readdir(d);
        if (!e) {
            if (errno) {
                log_err(WHERE, "cannot read %s: %s", dir, strerror(errno));
                goto out;
            }
            break;
        }
        uint64_t seq;
        if (!oscan_parse_name(e->d_name, &seq))
            continue;
        if (count == room) {
            size_t nroom = room ? room * 2 : 16;
            oscan_entry *nv = realloc(v, nroom * sizeof *nv);
            if (!nv) {
                log_err(WHERE, "out of memory listing %s", dir);
                goto out;
            }
            v = nv;
            room = nroom;
        }
        v[count].seq = seq;
        memcpy(v[count].name, e->d_name, OSCAN_NAME_LEN); /* length checked by parse_name */
        count++;
    }
    if (count)
        qsort(v, count, sizeof *v, by_seq);
    ok = true;
out:
    if (d)
        closedir(d);
    if (ok) {
        *out = count ? v : NULL;
        *n = count;
        if (!count)
            free(v);
    } else {
        free(v);
    }
    return ok;
}

/* How many names in `dir` are events (or, with `dead`, dead letters). */
static long count_names(const char *dir, bool dead)
{
    long n = 0;
    struct dirent *e;
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    for (errno = 0; (e = readdir(d)) != NULL; errno = 0)
        n += dead ? evname_parse_dead(e->d_name, NULL, NULL) : evname_parse(e->d_name, NULL);
    int err = errno;
    closedir(d);
    errno = err;
    return err ? -1 : n;
}

long oscan_count(const char *dir)
{
    long n = count_names(dir, false);
    if (n < 0)
        log_err(WHERE, "cannot read %s: %s", dir, strerror(errno));
    return n;
}

long oscan_dead_count(const char *dir)
{
    char dead[OSCAN_PATH_MAX];
    long n = -1;
    errno = ENAMETOOLONG;
    if (oscan_dead_dir(dir, dead, sizeof dead))
        n = count_names(dead, true);
    /* No folder yet: nothing was ever set aside (and nothing to log). A
     * file in its place holds no dead letter either; what could not be
     * moved for it is counted by the caller (heartbeat.h). */
    if (n < 0 && (errno == ENOENT || errno == ENOTDIR))
        n = 0;
    else if (n < 0)
        log_err(WHERE, "cannot count the dead letters beside %s: %s", dir, strerror(errno));
    return n;
}

static bool join(char *out, size_t outlen, const char *dir, const char *name)
{
    int k = snprintf(out, outlen, "%s/%s", dir, name);
    return k > 0 && (size_t)k < outlen;
}

/* What a file that is not a regular one is, for the reason logged. */
static const char *type_name(mode_t m)
{
    static const struct { mode_t type; const char *name; } types[] = {
        { S_IFSOCK, "a socket" },       { S_IFIFO, "a FIFO" },
        { S_IFDIR, "a directory" },     { S_IFLNK, "a symbolic link" },
        { S_IFCHR, "a character device" }, { S_IFBLK, "a block device" },
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if ((m & S_IFMT) == types[i].type)
            return types[i].name;
    return "not a file";
}

oscan_read_result oscan_read(const char *dir, const char *name, char *buf, size_t cap,
                             size_t *len, char *why, size_t whylen)
{
    oscan_read_result r = OSCAN_READ_UNREADABLE;
    char path[OSCAN_PATH_MAX];
    int fd = -1;
    size_t got = 0;
    char extra;
    struct stat st;

    *len = 0;
    text_errf(why, whylen, "%s", "");
    if (cap > OSCAN_FILE_MAX)
        cap = OSCAN_FILE_MAX;
    if (!join(path, sizeof path, dir, name)) {
        text_errf(why, whylen, "path too long");
        goto out;
    }
    /* Looked at before it is opened: a device is never opened at all. */
    if (lstat(path, &st) != 0) {
        r = errno == ENOENT ? OSCAN_READ_GONE : OSCAN_READ_UNREADABLE;
        text_errf(why, whylen, "cannot stat: %s", strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        text_errf(why, whylen, "%s, not a regular file", type_name(st.st_mode));
        goto out;
    }
    /* O_NOFOLLOW|O_NONBLOCK: what was swapped in since the lstat (a symlink,
     * a FIFO) must neither redirect us nor hang us. */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) {
        r = errno == ENOENT ? OSCAN_READ_GONE : OSCAN_READ_UNREADABLE;
        text_errf(why, whylen, "cannot open: %s", strerror(errno));
        goto out;
    }
    if (fstat(fd, &st) != 0) {
        text_errf(why, whylen, "cannot stat: %s", strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        text_errf(why, whylen, "%s, not a regular file", type_name(st.st_mode));
        goto out;
    }
    if ((uint64_t)st.st_size > cap) {
        text_errf(why, whylen, "larger than %zu bytes", cap);
        r = OSCAN_READ_BAD;
        goto out;
    }
    while (got < cap) {
        ssize_t k = read(fd, buf + got, cap - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            text_errf(why, whylen, "cannot read: %s", strerror(errno));
            goto out;
        }
        if (k == 0)
            break;
        got += (size_t)k;
    }
    /* The size may have changed since fstat: one more byte says "too big". */
    if (got == cap && read(fd, &extra, 1) > 0) {
        text_errf(why, whylen, "larger than %zu bytes", cap);
        r = OSCAN_READ_BAD;
        goto out;
    }
    *len = got;
    r = OSCAN_READ_OK;
out:
    if (fd >= 0)
        close(fd);
    return r;
}

static bool fsync_dir(const char *dir)
{
    bool ok = false;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0)
        log_err(WHERE, "cannot fsync %s: %s", dir, strerror(errno));
    else
        ok = true;
    if (fd >= 0)
        close(fd);
    return ok;
}

bool oscan_dead_dir(const char *dir, char *out, size_t outlen)
{
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        n--;
    int k = snprintf(out, outlen, "%.*s.dead", (int)n, dir);
    return n > 0 && !(n == 1 && dir[0] == '/') && k > 0 && (size_t)k < outlen;
}

/* The parent of `path` (for fsync after mkdir), "." when it has none. */
static void parent_of(const char *path, char *out, size_t outlen)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(out, outlen, ".");
    else if (slash == path)
        snprintf(out, outlen, "/");
    else
        snprintf(out, outlen, "%.*s", (int)(slash - path), path);
}

static bool ensure_dir(const char *dead, char *why, size_t whylen)
{
    bool ok = false;
    char parent[OSCAN_PATH_MAX];
    struct stat st;
    if (mkdir(dead, 0700) == 0) {
        parent_of(dead, parent, sizeof parent);
        ok = fsync_dir(parent); /* the new folder's name must survive power loss too */
        if (!ok)
            text_errf(why, whylen, "cannot fsync %s", parent);
    } else if (errno == EEXIST && lstat(dead, &st) == 0 && S_ISDIR(st.st_mode)) {
        ok = true;
    } else {
        text_errf(why, whylen, "cannot create the dead-letter folder %s: %s", dead,
                  errno == EEXIST ? "something that is not a folder has its name" : strerror(errno));
    }
    return ok;
}

/* rename() that never replaces: 0, or -1 with errno (EEXIST: the name is
 * taken). Falls back to link+unlink where the file system lacks it. */
static int move_noreplace(const char *from, const char *to)
{
    int r = renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE);
    if (r != 0 && (errno == EINVAL || errno == ENOSYS)) {
        r = link(from, to);
        if (r == 0)
            r = unlink(from);
    }
    return r;
}

bool oscan_dead_letter(const char *dir, const char *name, char dest[EVNAME_DEAD_LEN], char *why,
                       size_t whylen)
{
    char dead[OSCAN_PATH_MAX], from[OSCAN_PATH_MAX], to[OSCAN_PATH_MAX];
    uint64_t seq;
    bool moved = false;
    int err = 0;

    dest[0] = '\0';
    if (!oscan_parse_name(name, &seq) || !oscan_dead_dir(dir, dead, sizeof dead)
        || !join(from, sizeof from, dir, name)) {
        text_errf(why, whylen, "not an event's name, or a path too long");
        return false;
    }
    if (!ensure_dir(dead, why, whylen))
        return false;
    /* An older dead letter of the same name is evidence too: never destroy
     * it; the newcomer takes the first free copy number instead. */
    for (unsigned copy = 0; !moved && copy <= EVNAME_COPY_MAX; copy++) {
        evname_dead(dest, seq, copy);
        if (!join(to, sizeof to, dead, dest)) {
            err = ENAMETOOLONG;
            break;
        }
        moved = move_noreplace(from, to) == 0;
        err = moved ? 0 : errno;
        if (err && err != EEXIST)
            break;
    }
    if (!moved) {
        text_errf(why, whylen, "cannot move it into %s: %s", dead,
                  err == EEXIST ? "every copy name is taken" : strerror(err));
        dest[0] = '\0';
        return false;
    }
    /* The name has changed; a failed fsync (logged) only means a power cut
     * could undo it, and then it is set aside again. */
    fsync_dir(dead);
    fsync_dir(dir);
    return true;
}

bool oscan_delete(const char *dir, const char *name)
{
    bool ok = false;
    char path[OSCAN_PATH_MAX];
    if (!join(path, sizeof path, dir, name)) {
        log_err(WHERE, "path too long: %s/%s", dir, name);
        goto out;
    }
    if (unlink(path) != 0 && errno != ENOENT) {
        log_err(WHERE, "cannot remove %s: %s", name, strerror(errno));
        goto out;
    }
    ok = fsync_dir(dir);
out:
    return ok;
}
