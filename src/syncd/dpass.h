/* dpass.h - one delivery pass over the outbox: every evt-*.json, oldest seq
 * first, checked (evcheck.h), sent (delivery.h) and then deleted, or set
 * aside as a dead letter.
 *
 * A pass stops at the first event the bureau did not take (retry with
 * backoff, certificate or terminal trouble): the events behind it wait, so
 * they reach the bureau in seq order. A file that is the trouble itself
 * never stops a pass (poison.h): it is stepped round, retried on its own
 * backoff and, if it stays unreadable for [sync] dead_after_s, set aside.
 * Every file set aside is logged at err with its reason and where it went.
 *
 * Runs on kiosk-sync's main thread; `between` lets the loop keep its
 * watchdog and heartbeat going (and hear a stop) between two events.
 */
#ifndef SYNCD_DPASS_H
#define SYNCD_DPASS_H

#include <stdbool.h>

#include "config/config.h"
#include "syncd/backoff.h"
#include "syncd/delivery.h"
#include "syncd/poison.h"
#include "syncd/sync_server.h"

#define DPASS_IDLE_MS 1000u    /* a new event waits at most this long */

typedef struct dpass {
    const kiosk_config *cfg;
    dlv_client *dlv;
    sync_server *srv;          /* told the bureau's answers and the unmovable dead letters */
    backoff_policy policy;
    unsigned attempt;          /* failures in a row at the head of the queue */
    poison_list poison;        /* the files being stepped round */
    bool (*between)(void *ud); /* after each event; true: stop now */
    void *ud;
} dpass;

/* One pass. Returns the wait before the next one in ms (never 0); *stop
 * is set when `between` asked to stop. */
unsigned dpass_run(dpass *p, bool *stop);

/* Dead letters that could not be moved out of the outbox (the heartbeat and
 * the service screen count them as dead letters). */
long dpass_unmovable(const dpass *p);

void dpass_free(dpass *p);

#endif
