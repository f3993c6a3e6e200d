/* ctl_server.h - the control socket: a UNIX stream server on its own thread.
 *
 * One thread polls the listening socket, every client and a wake eventfd, so
 * the UI thread never touches a socket: it gets parsed requests through a
 * callback and answers with ctl_server_send, which only queues bytes and
 * wakes the server thread. Lines that do not parse are answered by the server
 * itself (see ctl_proto.h for the error codes).
 *
 * Limits, all enforced here: CTL_SERVER_MAX_CLIENTS at once (one more is
 * accepted, told {"ok":false,"error":"too_many_clients"} and closed); a line
 * of at most CTL_SERVER_MAX_LINE bytes before its newline (longer: the reply
 * {"ok":false,"error":"line_too_long"} and the connection is closed); at most
 * CTL_SERVER_MAX_OUT bytes waiting to be written to one client (a client that
 * does not read its replies is dropped). Input buffers are wiped as they are
 * consumed and when freed: a `type` or `card` line holds a PIN.
 *
 * Back-pressure, not loss: a client's lines are read and handed on only
 * while it has fewer than CTL_SERVER_MAX_IN_FLIGHT requests unanswered (a
 * request is in flight from on_request until its reply is passed to
 * ctl_server_send) and fewer than CTL_SERVER_OUT_PAUSE bytes of replies it
 * has not read. Past either, the server stops reading it: its lines wait in
 * its socket, and a client that floods or never reads slows only itself,
 * with the memory it costs bounded. Fairness between clients: when every
 * slot is taken, a newcomer takes the slot of the client idle longest (no
 * request in flight, no reply unread, nothing half sent, not subscribed,
 * silent for CTL_SERVER_IDLE_EVICT_MS or more), so clients that connect and
 * say nothing cannot lock scripts out.
 *
 * Client ids start at 1 and are never reused within a server's life, so a
 * reply for a client that has gone cannot reach a newcomer.
 */
#ifndef CONTROL_CTL_SERVER_H
#define CONTROL_CTL_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "control/ctl_proto.h"

#define CTL_SERVER_MAX_CLIENTS 32
#define CTL_SERVER_MAX_LINE 65536
#define CTL_SERVER_MAX_OUT (4u * 1024u * 1024u)
#define CTL_SERVER_MAX_IN_FLIGHT 8
#define CTL_SERVER_OUT_PAUSE 65536u
#define CTL_SERVER_IDLE_EVICT_MS 2000

typedef struct ctl_server ctl_server;

/* Called ON THE SERVER THREAD for each well-formed request. Ownership of
   *req (malloc'd) passes to the callee, which must ctl_request_clear and free
   it. It may call ctl_server_send / _mark_subscribed from inside; it should
   return quickly (post the work to the UI thread), since no other client is
   served meanwhile, and must not call ctl_server_stop. */
typedef void (*ctl_server_on_request)(void *ud, uint64_t client, ctl_request *req);

/* Creates the socket at `path` (copied) with mode 0600 and starts the thread.
   A stale socket left at `path` by a dead process is replaced; a live one, or
   anything that is not a socket, is an error. On failure returns NULL and
   writes why into err (errlen bytes, may be 0). */
ctl_server *ctl_server_start(const char *path, ctl_server_on_request on_request, void *ud,
                             char *err, size_t errlen);

/* Queues a copy of `line` (which should end in "\n") for `client`: the reply
   to one request handed to on_request (every such request gets exactly one,
   and this frees its place in flight). Thread-safe. Dropped silently if that
   client is gone; drops the client if its queue would exceed
   CTL_SERVER_MAX_OUT. */
void ctl_server_send(ctl_server *s, uint64_t client, const char *line);

/* Queues a copy of `line` for every client that has been marked subscribed.
   Thread-safe. */
void ctl_server_broadcast_subscribed(ctl_server *s, const char *line);

/* From now on `client` receives broadcasts. Thread-safe; no-op if gone. */
void ctl_server_mark_subscribed(ctl_server *s, uint64_t client);
/* True while that client is connected (thread-safe). */
bool ctl_server_has_client(ctl_server *s, uint64_t client);

/* Stops and joins the thread, closes every connection (unsent replies are
   lost), unlinks the socket if it is still the one this server made, and
   frees s. No callback runs after it returns. NULL is fine. */
void ctl_server_stop(ctl_server *s);

#endif
