/* faultfs.c - an LD_PRELOAD library for tests: makes writes into one
 * directory fail as a full or failing disk does, switched at run time.
 *
 *   FAULTFS_DIR=/path/outbox FAULTFS_FLAG=/path/flag LD_PRELOAD=libfaultfs.so kiosk ...
 *
 * While the file FAULTFS_FLAG exists, write(), pwrite(), fsync() and
 * fdatasync() on a file descriptor whose file lies directly in FAULTFS_DIR
 * fail with the errno the flag names: its first line is "ENOSPC" (the
 * default: an empty flag file), "EIO", or "EIO fsync" (only fsync and
 * fdatasync fail, as a disk that takes the data and then cannot make it
 * durable). Remove the flag and the disk "recovers". Everything else passes
 * straight through. Tests only: never installed.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

typedef ssize_t (*write_fn)(int, const void *, size_t);
typedef ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);
typedef int (*sync_fn)(int);

/* The errno to fail `fd` with for a write (sync false) or a sync, or 0.
 * The real read()/open() are used here, never our own interceptions. */
static int faultfs_errno(int fd, bool sync)
{
    const char *dir = getenv("FAULTFS_DIR"), *flag = getenv("FAULTFS_FLAG");
    char link[64], path[PATH_MAX], mode[32] = "";
    size_t dl;
    ssize_t n;
    int ffd, e = 0;

    if (!dir || !flag || fd < 0)
        return 0;
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    n = readlink(link, path, sizeof path - 1);
    dl = strlen(dir);
    while (dl > 1 && dir[dl - 1] == '/')
        dl--;
    if (n <= 0 || (size_t)n <= dl + 1 || strncmp(path, dir, dl) != 0 || path[dl] != '/')
        return 0;
    path[n] = '\0';
    if (strchr(path + dl + 1, '/'))
        return 0; /* a subdirectory: not the outbox itself */
    ffd = open(flag, O_RDONLY | O_CLOEXEC);
    if (ffd < 0)
        return 0;
    n = read(ffd, mode, sizeof mode - 1);
    close(ffd);
    mode[n > 0 ? n : 0] = '\0';
    if (strncmp(mode, "EIO fsync", 9) == 0)
        e = sync ? EIO : 0;
    else if (strncmp(mode, "EIO", 3) == 0)
        e = EIO;
    else
        e = ENOSPC;
    return e;
}

ssize_t write(int fd, const void *buf, size_t len)
{
    static write_fn real;
    int e = faultfs_errno(fd, false);
    if (!real)
        real = (write_fn)dlsym(RTLD_NEXT, "write");
    if (e) {
        errno = e;
        return -1;
    }
    return real(fd, buf, len);
}

ssize_t pwrite(int fd, const void *buf, size_t len, off_t off)
{
    static pwrite_fn real;
    int e = faultfs_errno(fd, false);
    if (!real)
        real = (pwrite_fn)dlsym(RTLD_NEXT, "pwrite");
    if (e) {
        errno = e;
        return -1;
    }
    return real(fd, buf, len, off);
}

int fsync(int fd)
{
    static sync_fn real;
    int e = faultfs_errno(fd, true);
    if (!real)
        real = (sync_fn)dlsym(RTLD_NEXT, "fsync");
    if (e) {
        errno = e;
        return -1;
    }
    return real(fd);
}

int fdatasync(int fd)
{
    static sync_fn real;
    int e = faultfs_errno(fd, true);
    if (!real)
        real = (sync_fn)dlsym(RTLD_NEXT, "fdatasync");
    if (e) {
        errno = e;
        return -1;
    }
    return real(fd);
}
