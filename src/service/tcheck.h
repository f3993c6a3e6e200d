/* tcheck.h - the technician code checked on a thread of its own.
 *
 * A check is one full PBKDF2 derivation (tcode.h): tens to hundreds of
 * milliseconds on a terminal. On the main thread that is a frozen screen,
 * taps not answered and, with a large iteration count, the watchdog's
 * deadline approached; here the main loop goes on and hears the verdict
 * through `post`. The typed code is copied into the secrets arena
 * (util/secmem.h), the thread's stack is carved from it too (the
 * derivation's intermediate keys live there), and both are wiped after
 * every check.
 */
#ifndef SERVICE_TCHECK_H
#define SERVICE_TCHECK_H

#include <stdbool.h>

#include "service/tcode.h"

typedef struct tcheck tcheck;

/* Called on the checker's thread with the verdict for the code asked with
 * `gen`. */
typedef void (*tcheck_post_fn)(void *ud, unsigned gen, bool ok);

/* Starts the thread for codes checked against `t` (copied). NULL if it
 * cannot start. */
tcheck *tcheck_start(const tcode *t, tcheck_post_fn post, void *ud);

/* Copies `code` (the caller wipes its own) and checks it; exactly one post
 * answers, unless tcheck_stop comes first. False, and nothing posted, while
 * an earlier check is still running (one at a time: a technician types one
 * code, and a flood of guesses would only queue up work). */
bool tcheck_ask(tcheck *k, unsigned gen, const char *code);

/* Stops the thread (waiting for a check under way) and wipes. NULL is fine. */
void tcheck_stop(tcheck *k);

#endif
