/* heartbeat.h - what kiosk-sync tells the bureau every [sync] heartbeat_s
 * (bureau-api.md section 4): the terminal's health at a glance, for a fleet
 * of thousands. Never personal data: counts, a version, a reader word.
 *
 * Gathering the figures reads the outbox (no network); building the body is
 * pure; the send is delivery.c's (dlv_send_heartbeat).
 */
#ifndef SYNCD_HEARTBEAT_H
#define SYNCD_HEARTBEAT_H

#include <stddef.h>
#include <stdint.h>

#include "syncd/backoff.h"

typedef struct hb_figures {
    long uptime_s;             /* the terminal's (CLOCK_BOOTTIME): a reboot shows */
    long outbox_depth;         /* events waiting for the bureau */
    long dead_letters;         /* events set aside (refused, unreadable, invalid), waiting for a person */
    const char *reader;        /* "present", "absent" or "unknown"; static storage */
    uint64_t last_event_seq;   /* the last seq the kiosk handed out */
} hb_figures;

/* Refreshes f's outbox figures from `outbox_dir` (depth, dead letters, the
 * kiosk's `seq` file, docs/outbox.md) and its uptime. `unmovable` files in
 * the outbox are dead letters kiosk-sync could not move (poison.h): they
 * count as dead letters, not as depth. A figure that cannot be read keeps
 * its previous value (start from zeros) and is logged: a heartbeat with a
 * stale count beats none when the disk is failing. */
void hb_refresh(const char *outbox_dir, long unmovable, hb_figures *f);

/* The JSON body for `f` with `version`; malloc'd (the caller frees it), its
 * length in *len. NULL when memory runs out. */
char *hb_body(const hb_figures *f, const char *version, size_t *len);

/* The wait before the next heartbeat: `period_s` with +-10 % jitter, so a
 * fleet powered up together does not beat in step. */
uint32_t hb_interval_ms(unsigned period_s, backoff_rand_fn rnd, void *ctx);

#endif
