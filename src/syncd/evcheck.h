/* evcheck.h - is this outbox file a body kiosk-sync may send?
 *
 * Every body is checked against bureau-api.md section 2 before it leaves
 * the terminal: exactly the six members, each once, each of its type and
 * form, plus a seventh, `reset_id` (section 3), which a `pin_reset` must
 * carry, a `pin_change_unknown` may carry (the intent of a reset) and no
 * other kind may. Anything else (a stray `pin` member, another terminal's id, a kind
 * the bureau does not know, a made-up event id) never reaches the network:
 * kiosk-sync sets the file aside as a dead letter with the reason returned
 * here. The forms are those the kiosk writes (src/outbox/outbox.c,
 * docs/outbox.md) and the bureau accepts; tests/unit/test_evcheck.c holds
 * a table of both.
 *
 * Pure: no I/O, no clock, no log. A reason names the member and what is
 * wrong with it, never its value: a body that breaks the rules may hold a
 * PIN or a card number, and the reason goes to the log.
 */
#ifndef SYNCD_EVCHECK_H
#define SYNCD_EVCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EVCHECK_BODY_MAX 4096u /* an event is ~200 bytes; what is larger is not one */
#define EVCHECK_ID_LEN 37      /* a canonical UUID and its NUL */
#define EVCHECK_WHY_MAX 128    /* room for any reason */
#define EVCHECK_RESET_ID_MAX 63 /* characters of a reset_id */

/* True if `body` (`len` bytes, not NUL-terminated) is exactly a
 * POST /v1/pin-events body of this terminal (`terminal_id`) with seq
 * `name_seq`, the number in its file's name. Its event_id (the
 * Idempotency-Key) is then copied into `event_id`. Else false with the
 * reason in `why` (NUL-terminated, cut to `whylen`). */
bool evcheck_body(const char *body, size_t len, const char *terminal_id, uint64_t name_seq,
                  char event_id[EVCHECK_ID_LEN], char *why, size_t whylen);

#endif
