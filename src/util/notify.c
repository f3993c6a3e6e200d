/* notify.c - see notify.h. */
#include "util/notify.h"

#include "util/log.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int notify_fd = -1;
static struct sockaddr_un notify_addr;
static socklen_t notify_len;
static uint64_t notify_wd_ms;

/* $WATCHDOG_USEC applies to us only if $WATCHDOG_PID is unset or ours
 * (a child started by the service must not ping for it). */
static uint64_t watchdog_from_env(void)
{
    const char *usec = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
    char *end = NULL;
    unsigned long long v = 0;
    uint64_t ms = 0;
    if (usec && *usec) {
        errno = 0;
        v = strtoull(usec, &end, 10);
        if (errno == 0 && end && *end == '\0' && v >= 1000)
            ms = v / 1000;
    }
    if (ms && pid && *pid && strtol(pid, NULL, 10) != (long)getpid())
        ms = 0;
    return ms;
}

bool notify_init(void)
{
    const char *path = getenv("NOTIFY_SOCKET");
    size_t n = path ? strlen(path) : 0;
    bool ok = false;

    notify_close();
    if (n == 0)
        goto out;
    if (n >= sizeof notify_addr.sun_path || (path[0] != '/' && path[0] != '@')) {
        log_warn("notify", "NOTIFY_SOCKET is not a usable socket path: not notifying systemd");
        goto out;
    }
    memset(&notify_addr, 0, sizeof notify_addr);
    notify_addr.sun_family = AF_UNIX;
    memcpy(notify_addr.sun_path, path, n);
    if (path[0] == '@')
        notify_addr.sun_path[0] = '\0'; /* abstract namespace */
    notify_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
    notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (notify_fd < 0) {
        log_warn("notify", "socket: %s: not notifying systemd", strerror(errno));
        goto out;
    }
    notify_wd_ms = watchdog_from_env();
    ok = true;
out:
    return ok;
}

bool notify_send(const char *state)
{
    bool ok = false;
    if (notify_fd >= 0 && state) {
        ssize_t r = sendto(notify_fd, state, strlen(state), MSG_NOSIGNAL,
                           (const struct sockaddr *)&notify_addr, notify_len);
        ok = r == (ssize_t)strlen(state);
        /* Debug only: a missed ping shows as systemd restarting us, and a
         * stream of warnings would fill the journal if the socket vanished. */
        if (!ok)
            log_debug("notify", "send %.16s: %s", state, r < 0 ? strerror(errno) : "short");
    }
    return ok;
}

uint64_t notify_watchdog_ms(void)
{
    return notify_fd >= 0 ? notify_wd_ms : 0;
}

void notify_close(void)
{
    if (notify_fd >= 0)
        close(notify_fd);
    notify_fd = -1;
    notify_wd_ms = 0;
}
