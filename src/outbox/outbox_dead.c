/* outbox_dead.c - reading the outbox back for the service screen: how many
 * events wait, the dead letters kiosk-sync set aside (counted, and moved
 * back into the outbox on request), and whether the disk would take a
 * record now. Files -> figures; only the requeue moves anything.
 */
#include "outbox/outbox_int.h"

#include "util/evname.h"
#include "util/log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

int outbox_depth(outbox *o)
{
    DIR *d;
    struct dirent *e;
    int n = 0;
    size_t len;

    if (o == NULL)
        return -1;
    d = ob_opendir(o);
    if (d == NULL)
        return -1;
    for (errno = 0; (e = readdir(d)) != NULL; errno = 0) {
        len = strlen(e->d_name);
        if (strncmp(e->d_name, "evt-", 4) == 0 && len >= 9 && strcmp(e->d_name + len - 5, ".json") == 0)
            n++;
    }
    if (errno != 0) {
        log_err(OB_WHERE, "read %s: %s", o->dir, strerror(errno));
        n = -1;
    }
    closedir(d);
    return n;
}

/* A dead letter: an event's name, or one with a copy number when kiosk-sync
 * found the plain name taken (util/evname.h); both count. */
static bool ob_is_dead_name(const char *name)
{
    return evname_parse_dead(name, NULL, NULL);
}

/* The dead-letter folder kiosk-sync keeps beside the outbox, opened; -1 if
 * there is none (errno ENOENT: nothing was ever refused). */
static int ob_open_dead(const outbox *o)
{
    char path[PATH_MAX + 8];
    int k = snprintf(path, sizeof path, "%s.dead", o->dir);
    if (k < 0 || (size_t)k >= sizeof path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
}

long outbox_dead_count(outbox *o)
{
    DIR *d = NULL;
    struct dirent *e;
    long n = -1;
    int fd = o ? ob_open_dead(o) : -1;

    if (fd < 0) {
        n = o && errno == ENOENT ? 0 : -1;
        goto out;
    }
    if ((d = fdopendir(fd)) == NULL)
        goto out;
    fd = -1;
    n = 0;
    for (errno = 0; (e = readdir(d)) != NULL; errno = 0)
        n += ob_is_dead_name(e->d_name);
    if (errno != 0)
        n = -1;
out:
    if (d)
        closedir(d);
    if (fd >= 0)
        close(fd);
    return n;
}

long outbox_requeue_dead(outbox *o)
{
    DIR *d = NULL;
    struct dirent *e;
    long moved = -1, clashes = 0;
    int fd = o ? ob_open_dead(o) : -1, dfd = -1;

    if (fd < 0) {
        moved = o && errno == ENOENT ? 0 : -1;
        if (moved < 0 && o)
            log_err(OB_WHERE, "cannot open the dead letters of %s: %s", o->dir, strerror(errno));
        goto out;
    }
    dfd = dup(fd);
    if (dfd < 0 || (d = fdopendir(fd)) == NULL)
        goto out;
    fd = -1;
    moved = 0;
    for (errno = 0; (e = readdir(d)) != NULL; errno = 0) {
        uint64_t seq;
        char back[OB_NAME_MAX];
        if (!evname_parse_dead(e->d_name, &seq, NULL))
            continue;
        /* A copy goes back under its event's plain name, and never over an
         * event of that name (a seq is never reused, so that would be a
         * second copy): it stays a dead letter. */
        ob_name(back, "evt-", seq);
        if (renameat2(dfd, e->d_name, o->dirfd, back, RENAME_NOREPLACE) == 0) {
            moved++;
        } else {
            clashes++;
            log_err(OB_WHERE, "dead letter %s stays: %s", e->d_name, strerror(errno));
        }
    }
    if (moved > 0 && (fsync(dfd) != 0 || !ob_fsync_dir(o)))
        log_err(OB_WHERE, "fsync after moving dead letters back: %s", strerror(errno));
    log_notice(OB_WHERE, "%ld dead letter(s) moved back into %s%s", moved, o->dir,
               clashes ? " (some stayed: see above)" : "");
out:
    if (d)
        closedir(d);
    if (fd >= 0)
        close(fd);
    if (dfd >= 0)
        close(dfd);
    return moved;
}

bool outbox_probe(outbox *o, uint64_t min_free, char *why, size_t whylen)
{
    static const char name[] = OB_TMP_PREFIX "probe";
    char block[512];
    struct statvfs vs;
    uint64_t avail;
    bool ok = false, made = false;
    int fd = -1;
    const char *step = "statvfs";

    /* A record is ~200 bytes; the rest of this much is headroom for the
     * seq file, temp files and the intent of a change under way. */
    if (fstatvfs(o->dirfd, &vs) != 0)
        goto out;
    avail = (uint64_t)vs.f_bavail * (uint64_t)vs.f_frsize;
    if (avail < min_free) {
        snprintf(why, whylen, "only %" PRIu64 " KiB free in %s (%" PRIu64 " KiB needed)",
                 avail / 1024, o->dir, min_free / 1024);
        step = NULL; /* said */
        goto out;
    }
    step = "create";
    fd = openat(o->dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        goto out;
    made = true;
    memset(block, 'p', sizeof block);
    step = "write";
    if (!ob_write_all(fd, block, sizeof block))
        goto out;
    step = "fsync";
    if (fsync(fd) != 0)
        goto out;
    ok = true;
out:
    if (!ok && step)
        snprintf(why, whylen, "%s %s/%s: %s", step, o->dir, name, strerror(errno));
    if (fd >= 0)
        close(fd);
    if (made && unlinkat(o->dirfd, name, 0) != 0 && ok) {
        snprintf(why, whylen, "unlink %s/%s: %s", o->dir, name, strerror(errno));
        ok = false;
    }
    return ok;
}
