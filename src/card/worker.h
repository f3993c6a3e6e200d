/* worker.h - one thread that talks to the card, so the UI never blocks.
 *
 * Jobs (read, verify, change, challenge, reset) wait in a small fixed ring and run one at a
 * time, in order. Each job's result is handed to `post` with the job's `gen`
 * (the card session it belongs to, so the caller can drop answers about a card
 * that has since left). `post` runs on the worker thread; the result it gets
 * is valid only during the call (copy it, e.g. into an SDL user event).
 *
 * verify/change/challenge/reset use the profile the last read (or challenge)
 * found (auto before any). Nothing but the jobs queued here goes to the
 * card, so a reset queued right after its challenge meets it unvoided.
 * The reads check expiry against today's UTC date, taken from time().
 */
#ifndef CARD_WORKER_H
#define CARD_WORKER_H

#include "card/card.h"

#include <stdbool.h>

#define CARD_WORKER_QUEUE 8

typedef struct card_worker card_worker;

/* Copies `t` and `cfg` (NULL: card_cfg_default); `t.ctx` and `ud` stay the
 * caller's and must outlive the worker. NULL if the thread cannot start. */
card_worker *card_worker_start(card_transport t, const card_cfg *cfg,
                               void (*post)(void *ud, const card_result *r), void *ud);

/* Each queues one job; false when the queue is full or the worker stops.
 * PINs are copied (at most 17 characters are looked at: a longer PIN is
 * refused by the profile without anything sent) and wiped after use. */
bool card_worker_read(card_worker *w, unsigned gen);
bool card_worker_verify(card_worker *w, unsigned gen, const char *pin);
bool card_worker_change(card_worker *w, unsigned gen, const char *old_pin, const char *new_pin);

/* card_challenge(): the result's .challenge holds the card's 8 bytes. */
bool card_worker_challenge(card_worker *w, unsigned gen);

/* card_reset_pin() with a copy of `apdu` (wiped after use, or when dropped
 * by card_worker_stop). False, nothing queued, when len > CARD_APDU_MAX (or
 * apdu is NULL with len > 0); a shorter malformed command is queued and
 * answered CARD_RES_REFUSED, sent false. */
bool card_worker_reset(card_worker *w, unsigned gen, const uint8_t *apdu, size_t len);

/* Lets the running job finish (remove the card to cut a slow one short),
 * drops and wipes the queued ones without posting them, joins, frees.
 * NULL is fine. */
void card_worker_stop(card_worker *w);

#endif
