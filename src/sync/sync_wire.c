/* sync_wire.c - one question on kiosk-sync's socket: the request goes out
 * on a fresh connection, one reply line comes back and is checked (JSON,
 * status words, holder names) before anything of it reaches a result.
 * Runs on the worker thread; sync_client.c decides what to ask and when.
 */
#include "sync/sync_int.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "util/log.h"
#include "util/secure.h"
#include "util/text.h"

#define SYNC_BACKLOG_RETRY_MS 10 /* connect() found the listener's backlog full */

/* The status words a reply may carry; "unreachable" is ours, not the wire's. */
static const struct {
    const char *word;
    sync_status status;
} sync_wire_statuses[] = {
    { "active", SYNC_ST_ACTIVE },
    { "lost", SYNC_ST_LOST },
    { "frozen", SYNC_ST_FROZEN },
    { "cancelled", SYNC_ST_CANCELLED },
    { "unknown", SYNC_ST_UNKNOWN },
};

/* Code points a holder name may not carry: C0 and C1 controls, DEL, and the
   invisible direction and line marks that could make a name on screen say
   something else than its bytes. */
static const struct {
    uint32_t lo, hi;
} sync_holder_banned[] = {
    { 0x0000, 0x001F }, { 0x007F, 0x009F }, { 0x200E, 0x200F },
    { 0x2028, 0x202E }, { 0x2066, 0x2069 }, { 0xFEFF, 0xFEFF },
};

/* ---- holder names --------------------------------------------------- */

/* Length of the well-formed UTF-8 character at s (n bytes available), with
   its code point in *cp; 0 when the bytes are not one (overlong forms,
   surrogates and values past U+10FFFF included). */
static size_t utf8_char(const unsigned char *s, size_t n, uint32_t *cp)
{
    static const uint32_t min_for_len[5] = { 0, 0, 0x80, 0x800, 0x10000 };
    size_t len;
    uint32_t v;

    if (n == 0)
        return 0;
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    } else if ((s[0] & 0xE0) == 0xC0) {
        len = 2;
        v = s[0] & 0x1F;
    } else if ((s[0] & 0xF0) == 0xE0) {
        len = 3;
        v = s[0] & 0x0F;
    } else if ((s[0] & 0xF8) == 0xF0) {
        len = 4;
        v = s[0] & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    if (v < min_for_len[len] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return len;
}

static bool holder_char_allowed(uint32_t cp)
{
    for (size_t i = 0; i < sizeof sync_holder_banned / sizeof sync_holder_banned[0]; i++)
        if (cp >= sync_holder_banned[i].lo && cp <= sync_holder_banned[i].hi)
            return false;
    return true;
}

/* Copies a checked holder name into out, cut on a character boundary to fit.
   An invalid name gives "" and false: the status still stands without it. */
static bool holder_copy(const char *in, char out[SYNC_HOLDER_MAX])
{
    const unsigned char *s = (const unsigned char *)in;
    size_t n = strlen(in), i = 0, keep = 0, len;
    uint32_t cp;

    out[0] = '\0';
    while (i < n) {
        len = utf8_char(s + i, n - i, &cp);
        if (len == 0 || !holder_char_allowed(cp))
            return false;
        i += len;
        if (i < SYNC_HOLDER_MAX)
            keep = i;
    }
    memcpy(out, in, keep);
    out[keep] = '\0';
    return true;
}

/* ---- one exchange ---------------------------------------------------- */

/* Waits for `events` on fd until the deadline. 1: ready; 0: timed out;
   -1: stopping (the wake fd fired) or poll failed. */
static int wait_for(const sync_client *c, int fd, short events, long long deadline)
{
    struct pollfd pfd[2];
    nfds_t n = 0, w;
    long long left;
    int rc;

    if (fd >= 0)
        pfd[n++] = (struct pollfd){ .fd = fd, .events = events };
    w = n;
    pfd[n++] = (struct pollfd){ .fd = c->wake_fd, .events = POLLIN };
    for (;;) {
        left = deadline - sync_now_ms();
        if (left <= 0)
            return 0;
        rc = poll(pfd, n, (int)left);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc < 0 || pfd[w].revents)
            return -1;
        if (rc == 0 || fd < 0)
            continue; /* re-check the clock */
        return 1;
    }
}

/* Reads a reply line into r. Returns the reason it could not, or NULL. */
static const char *parse_reply(const char *line, size_t len, const char *masked, sync_result *r)
{
    const char *why = NULL, *end = NULL;
    const cJSON *ok, *status, *holder, *error;
    cJSON *root = NULL;

    if (memchr(line, '\0', len) || text_json_has_nul_escape(line, len)) {
        why = "NUL byte in reply";
        goto out;
    }
    root = cJSON_ParseWithLengthOpts(line, len, &end, 0);
    if (root == NULL || end == NULL || !text_only_whitespace(end, line + len) || !cJSON_IsObject(root)) {
        why = "reply is not one JSON object";
        goto out;
    }
    ok = cJSON_GetObjectItemCaseSensitive(root, "ok");
    if (!cJSON_IsBool(ok)) {
        why = "reply without \"ok\"";
        goto out;
    }
    if (!cJSON_IsTrue(ok)) {
        error = cJSON_GetObjectItemCaseSensitive(root, "error");
        why = (cJSON_IsString(error) && strcmp(error->valuestring, "bureau_unreachable") == 0)
                  ? "kiosk-sync cannot reach the bureau"
                  : "kiosk-sync answered an error";
        goto out;
    }
    status = cJSON_GetObjectItemCaseSensitive(root, "status");
    if (!cJSON_IsString(status)) {
        why = "reply without a status";
        goto out;
    }
    why = "unexpected status word";
    for (size_t i = 0; i < sizeof sync_wire_statuses / sizeof sync_wire_statuses[0]; i++) {
        if (strcmp(status->valuestring, sync_wire_statuses[i].word) == 0) {
            r->status = sync_wire_statuses[i].status;
            why = NULL;
            break;
        }
    }
    if (why)
        goto out;
    holder = cJSON_GetObjectItemCaseSensitive(root, "holder");
    if (holder && !cJSON_IsNull(holder) &&
        !(cJSON_IsString(holder) && holder_copy(holder->valuestring, r->holder)))
        log_warn("sync", "card %s: holder name is not clean UTF-8 text; not shown", masked);

out:
    cJSON_Delete(root);
    return why;
}

/* See sync_int.h. The socket is closed on every path. */
const char *sync_wire_exchange(const sync_client *c, const char *req, size_t req_len,
                               long long deadline, char *buf, size_t *line_len, char *wipe)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    size_t sent = 0, got = 0;
    const char *why = NULL;
    char *nl = NULL;
    socklen_t slen;
    ssize_t n;
    int fd = -1, rc, soerr;

    memcpy(sa.sun_path, c->path, strlen(c->path) + 1);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        why = "no socket";
        goto out;
    }
    for (;;) {
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
            break;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN) {
            /* The listener's backlog is full: try again shortly. */
            rc = wait_for(c, -1, 0, deadline < sync_now_ms() + SYNC_BACKLOG_RETRY_MS
                                        ? deadline
                                        : sync_now_ms() + SYNC_BACKLOG_RETRY_MS);
            if (rc < 0 || sync_now_ms() >= deadline) {
                why = rc < 0 ? "stopping" : "kiosk-sync is not accepting connections";
                goto out;
            }
            continue;
        }
        if (errno != EINPROGRESS) {
            why = errno == ENOENT ? "no kiosk-sync socket" : "connect refused";
            goto out;
        }
        rc = wait_for(c, fd, POLLOUT, deadline);
        if (rc != 1) {
            why = rc < 0 ? "stopping" : "connect timed out";
            goto out;
        }
        soerr = 0;
        slen = sizeof soerr;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &slen) < 0 || soerr != 0) {
            why = "connect failed";
            goto out;
        }
        break;
    }

    while (sent < req_len) {
        n = send(fd, req + sent, req_len - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            sent += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            rc = wait_for(c, fd, POLLOUT, deadline);
            if (rc != 1) {
                why = rc < 0 ? "stopping" : "send timed out";
                goto out;
            }
        } else {
            why = "send failed";
            goto out;
        }
    }
    /* Sent: a secret line has done its work (the kernel has its copy). */
    if (wipe)
        secure_wipe(wipe, req_len);

    while (nl == NULL) {
        if (got == SYNC_REPLY_MAX + 1) {
            why = "reply too long";
            goto out;
        }
        n = recv(fd, buf + got, SYNC_REPLY_MAX + 1 - got, MSG_DONTWAIT);
        if (n > 0) {
            nl = memchr(buf + got, '\n', (size_t)n);
            got += (size_t)n;
        } else if (n == 0) {
            /* Closed without a newline: what came is the whole reply. */
            if (got == 0) {
                why = "connection closed without a reply";
                goto out;
            }
            nl = buf + got;
        } else if (errno == EINTR) {
            continue;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            rc = wait_for(c, fd, POLLIN, deadline);
            if (rc != 1) {
                why = rc < 0 ? "stopping" : "no reply in time";
                goto out;
            }
        } else {
            why = "recv failed";
            goto out;
        }
    }
    *line_len = (size_t)(nl - buf);

out:
    if (wipe)
        secure_wipe(wipe, req_len);
    if (fd >= 0)
        close(fd);
    return why;
}

/* One card question: the request, the exchange, the reply read into r. */
const char *sync_wire_ask_card(const sync_client *c, const sync_question *q, const char *masked,
                               sync_result *r)
{
    char req[96], buf[SYNC_REPLY_MAX + 1];
    size_t len = 0;
    const char *why = NULL;
    /* The card number is checked to be letters and digits: no escaping. */
    int rc = snprintf(req, sizeof req, "{\"cmd\":\"card_status\",\"card_number\":\"%s\"}\n", q->card);
    if (rc < 0 || (size_t)rc >= sizeof req)
        why = "request too long";
    else if (!(why = sync_wire_exchange(c, req, (size_t)rc, q->deadline_ms, buf, &len, NULL)))
        why = parse_reply(buf, len, masked, r);
    return why;
}

/* kiosk-sync's {"cmd":"status"}: what it last heard from the bureau. */
void sync_wire_ask_bureau_status(const sync_client *c, sync_bureau_info *info)
{
    static const char *const words[] = { [SYNC_BUREAU_NOT_KNOWN] = "unknown",
                                         [SYNC_BUREAU_OK] = "reachable",
                                         [SYNC_BUREAU_DOWN] = "unreachable" };
    static const char req[] = "{\"cmd\":\"status\"}\n";
    char buf[SYNC_REPLY_MAX + 1];
    size_t len = 0;
    cJSON *root = NULL;
    const char *why = sync_wire_exchange(c, req, sizeof req - 1, sync_now_ms() + c->timeout_ms, buf, &len, NULL);

    memset(info, 0, sizeof *info);
    if (!why && (memchr(buf, '\0', len) || text_json_has_nul_escape(buf, len)))
        why = "a NUL in the answer";
    if (!why) {
        root = cJSON_ParseWithLength(buf, len);
        const cJSON *ok = cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, "ok") : NULL;
        const cJSON *b = cJSON_IsTrue(ok) ? cJSON_GetObjectItemCaseSensitive(root, "bureau") : NULL;
        const cJSON *e = cJSON_IsTrue(ok) ? cJSON_GetObjectItemCaseSensitive(root, "last_error") : NULL;
        const cJSON *u = cJSON_IsTrue(ok) ? cJSON_GetObjectItemCaseSensitive(root, "unmovable") : NULL;
        why = "an answer that is not a status";
        for (size_t i = 0; cJSON_IsString(b) && why && i < sizeof words / sizeof words[0]; i++)
            if (strcmp(b->valuestring, words[i]) == 0) {
                info->bureau = (sync_bureau)i;
                why = NULL;
            }
        /* Shown on the screen: printable ASCII only, cut to fit. */
        if (!why && cJSON_IsString(e)) {
            snprintf(info->last_error, sizeof info->last_error, "%s", e->valuestring);
            for (char *p = info->last_error; *p; p++)
                *p = *p < 0x20 || *p > 0x7e ? '?' : *p;
        }
        /* A count, or nothing: an older kiosk-sync does not send it. */
        if (!why && cJSON_IsNumber(u) && u->valuedouble >= 0 && u->valuedouble <= 1e9)
            info->unmovable = (long)u->valuedouble;
    }
    if (why) {
        info->bureau = SYNC_BUREAU_NOT_KNOWN;
        snprintf(info->last_error, sizeof info->last_error, "kiosk-sync: %s", why);
    }
    cJSON_Delete(root);
}

/* Tells kiosk-sync the reader's state for its heartbeat. True if it said ok. */
bool sync_wire_report_reader(const sync_client *c, const char *word)
{
    char req[64], buf[SYNC_REPLY_MAX + 1];
    size_t len = 0;
    const char *why = NULL;
    cJSON *root = NULL;
    int rc = snprintf(req, sizeof req, "{\"cmd\":\"reader\",\"state\":\"%s\"}\n", word);
    if (rc < 0 || (size_t)rc >= sizeof req)
        why = "request too long";
    else
        why = sync_wire_exchange(c, req, (size_t)rc, sync_now_ms() + c->timeout_ms, buf, &len, NULL);
    if (!why) {
        root = cJSON_ParseWithLength(buf, len);
        if (!cJSON_IsTrue(cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, "ok") : NULL))
            why = "not acknowledged";
    }
    /* Debug only: with kiosk-sync down this fails every few seconds, and
     * the card questions already say so loudly. */
    if (why)
        log_debug("sync", "reader state %s not reported: %s", word, why);
    cJSON_Delete(root);
    return why == NULL;
}
