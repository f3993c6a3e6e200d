/* notify.h - systemd's service notifications (sd_notify(3)) without
 * libsystemd: one datagram per message to the socket in $NOTIFY_SOCKET.
 *
 * The kiosk says READY=1 once its first frame is up and WATCHDOG=1 from its
 * main loop; run by hand (no $NOTIFY_SOCKET) every call is a quiet no-op.
 * The protocol is a stable, documented interface (sd_notify(3), "the
 * protocol"): an AF_UNIX datagram socket, a path or, with a leading '@', an
 * abstract name.
 */
#ifndef UTIL_NOTIFY_H
#define UTIL_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>

/* Reads $NOTIFY_SOCKET and $WATCHDOG_USEC/$WATCHDOG_PID once and opens the
 * socket. False (and every later call a no-op) when there is no socket or
 * it is unusable; that is logged only when the variable was set. */
bool notify_init(void);

/* Sends `state` (e.g. "READY=1", "WATCHDOG=1", "STATUS=..."), never
 * blocking. False if not initialised or the send failed. */
bool notify_send(const char *state);

/* The watchdog period systemd expects pings within, in ms, or 0 when there
 * is no watchdog for this process. */
uint64_t notify_watchdog_ms(void);

/* Closes the socket. */
void notify_close(void);

#endif
