/* outbox.h - durable PIN event records waiting for delivery to the bureau.
 *
 * One JSON file per event in one directory, holding exactly the body of
 * POST /v1/pin-events (bureau-api.md section 2). kiosk-sync delivers the
 * evt-*.json files, oldest seq first, and deletes each after a 200/201.
 * Every file appears whole or not at all (write temp, fsync, rename, fsync
 * the directory); docs/outbox.md gives the format and the crash argument.
 *
 * An "intent" covers a PIN change while its command is at the card: it is
 * written before the command is sent, then resolved by what the card said.
 * If the kiosk dies in between, the next outbox_open() turns it into a
 * pin_change_unknown event, so an interrupted change is never lost and
 * never claimed as done.
 *
 * No PIN passes through this module. Card numbers go into the files (the
 * bureau needs them) but only masked into logs. Every failure returns
 * false (or NULL, -1) and logs the reason with its errno text.
 * One outbox is used by one thread; the directory is locked (flock) so that
 * a second kiosk process cannot reuse sequence numbers.
 */
#ifndef OUTBOX_OUTBOX_H
#define OUTBOX_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

typedef struct outbox outbox;

typedef enum { OUTBOX_PIN_CHANGED, OUTBOX_PIN_BLOCKED, OUTBOX_PIN_CHANGE_UNKNOWN, OUTBOX_PIN_RESET } outbox_kind;
/* RESET: the card took the bureau's reset command (an intent begun with
 * outbox_intent_begin_reset): the record becomes pin_reset. */
typedef enum {
    OUTBOX_RESOLVE_CHANGED, OUTBOX_RESOLVE_UNKNOWN, OUTBOX_RESOLVE_DISCARD, OUTBOX_RESOLVE_RESET
} outbox_resolution;

/* Card numbers are 1..OUTBOX_CARD_MAX letters and digits ("A12345678"). */
#define OUTBOX_CARD_MAX 32
/* A reset's id as the bureau made it: 1..63 of [A-Za-z0-9._-]. */
#define OUTBOX_RESET_ID_MAX 63

/* Opens (creating it 0700 with its parents if missing) the outbox in `dir`,
 * promotes leftover intents to events and removes stale temp files.
 * Copies `dir` and `terminal_id` (1..63 characters); the caller keeps them.
 * NULL on failure, with the reason in `err` for the caller to report; with
 * `err` NULL the reason is logged instead. Close with outbox_close(). */
outbox *outbox_open(const char *dir, const char *terminal_id, char *err, size_t errlen);

/* Writes one event (evt-<seq>.json) that happened at `now`. Copies nothing
 * it keeps. A false return leaves no evt file behind, only (possibly) a gap
 * in seq: a reserved number is never reused. */
bool outbox_record(outbox *o, const char *card_number, outbox_kind kind, time_t now);

/* Before a change command goes to the card: writes intent-<seq>.json, a
 * pin_change_unknown event for `card_number` at `now`. Copies the card
 * number until the intent is resolved. False if an intent is already open. */
bool outbox_intent_begin(outbox *o, const char *card_number, time_t now);

/* The same before the bureau's reset command goes to the card
 * (bureau-api.md section 3 step 4): the intent, and whatever it becomes
 * but pin_changed, carries "reset_id". RESET resolves it as pin_reset.
 * False also for a reset_id that is not 1..63 of [A-Za-z0-9._-]. */
bool outbox_intent_begin_reset(outbox *o, const char *card_number, const char *reset_id, time_t now);

/* After the card answered: CHANGED makes it a pin_changed event at `now`
 * with the intent's event_id and seq; UNKNOWN makes it a pin_change_unknown
 * event (time of the intent); DISCARD removes it (the card refused, nothing
 * changed). True and nothing done when no intent is open. On false the
 * intent stays open and may be resolved again; if the kiosk stops first,
 * the next outbox_open() promotes it. */
bool outbox_intent_resolve(outbox *o, outbox_resolution r, time_t now);

bool outbox_intent_open(const outbox *o);

/* Number of event files waiting for delivery (evt-*.json), -1 on error. */
int outbox_depth(outbox *o);

/* Dead letters: events kiosk-sync moved to "<dir>.dead" because they must
 * not be sent as they are (refused by the bureau, not a valid body,
 * unreadable; docs/outbox.md), named as util/evname.h says. The count of
 * them (0 when the folder does not exist), or -1 if it cannot be read. */
long outbox_dead_count(outbox *o);

/* The service screen's "send them again": moves every dead letter back into
 * the outbox under its event's name, never over a file of that name (that
 * one stays, logged), and fsyncs both folders. How many moved, or -1 if the
 * folder could not be read. kiosk-sync sends them again, oldest seq first. */
long outbox_requeue_dead(outbox *o);

/* Whether a record could be written now: at least `min_free` bytes free for
 * us on the outbox's file system, and a small file written, fsynced and
 * removed there (".tmp-probe": a crash leftover is cleaned at open). False
 * with the reason (errno text or "only N KiB free") in `why`. The kiosk
 * stops taking PIN changes while this is false: a change it could not
 * record is worse than none. */
#define OUTBOX_MIN_FREE (256u * 1024u)
bool outbox_probe(outbox *o, uint64_t min_free, char *why, size_t whylen);

/* The last sequence number handed out (0 if none ever was). */
uint64_t outbox_last_seq(const outbox *o);

/* Closes and frees `o` (NULL is fine). An open intent stays on disk and is
 * promoted by the next outbox_open(). */
void outbox_close(outbox *o);

#endif
