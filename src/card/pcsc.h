/* pcsc.h - the real card reader, through pcsc-lite (pcscd).
 *
 * Two sides, each with its own PC/SC context (pcsc-lite wants one context per
 * thread):
 *   - a monitor thread watches the readers and the PnP notification reader
 *     with SCardGetStatusChange, picks the reader to use and reports card in/out
 *     and reader (un)availability through `on_event`;
 *   - the transport (card.h) runs on whatever thread calls transmit (the card
 *     worker); it connects lazily to the chosen reader and holds one
 *     SCardBeginTransaction from the first command until the card leaves, an
 *     error, or pcsc_reader_stop, so another process cannot slip commands in
 *     between SELECT, VERIFY and CHANGE.
 *
 * Events (only ever about the chosen reader):
 *   PCSC_READY / PCSC_UNAVAILABLE: a usable reader exists / does not (pcscd
 *     not running or restarting, no reader, no reader matching the filter).
 *     Each change is reported once; the state at start is reported once.
 *   PCSC_CARD_IN / PCSC_CARD_OUT: a card in the chosen reader. A card pulled
 *     and pushed back between two looks comes as OUT then IN (pcscd's event
 *     counter). When the reader or the service goes away with a card in, OUT
 *     comes before UNAVAILABLE. After a pcscd restart, READY comes within
 *     about a second of pcscd listing its readers again.
 *
 * Transport results: CT_REMOVED when no card is in the chosen reader (or it
 * left during the command); CT_ERROR for a reset card (the handle is
 * reconnected; the caller selects again on its next operation, nothing is
 * resent here), a reader or service failure, or a protocol the card does not
 * speak. 61xx / 6Cxx are left to card_exchange(). No APDU byte is ever logged.
 */
#ifndef CARD_PCSC_H
#define CARD_PCSC_H

#include "card/card.h"

#include <stddef.h>

typedef enum { PCSC_READY, PCSC_UNAVAILABLE, PCSC_CARD_IN, PCSC_CARD_OUT } pcsc_event;

typedef struct pcsc_reader pcsc_reader;

#define PCSC_READER_NAME_MAX 128 /* pcsc-lite's MAX_READERNAME, with the NUL */

/* Starts the monitor thread. `filter`: a substring of the reader name (copied;
 * NULL or "" means: the first reader that holds a card, kept until that card
 * leaves). A filter longer than PCSC_READER_NAME_MAX - 1 is refused (NULL).
 * `on_event` runs on the monitor thread, never with a lock of this module
 * held, and must only post (e.g. push an SDL event); `ud` stays the caller's.
 * NULL on no memory or when the thread cannot start. */
pcsc_reader *pcsc_reader_start(const char *filter, void (*on_event)(void *ud, pcsc_event ev),
                               void *ud);

const char *pcsc_event_name(pcsc_event ev);

/* A transport whose ctx is `r`; valid until pcsc_reader_stop(r). Call its
 * transmit from one thread at a time (the card worker). The first command
 * after a CARD_IN connects and begins the transaction: that waits while
 * another process holds a transaction on the same card (pcsc-lite has no
 * timeout for it; pulling the card ends the wait). */
card_transport pcsc_reader_transport(pcsc_reader *r);

/* For the technician's overlay: the name of the reader in use ("" when none:
 * no reader matches the filter, or, without a filter, no card is in); copied
 * into `buf` (cut to `len` - 1 characters). Any thread. */
void pcsc_reader_current(pcsc_reader *r, char *buf, size_t len);

/* Stop every user of the transport first (card_worker_stop): the transport's
 * context is released here. Cancels the monitor (SCardCancel) and joins it,
 * ends the transaction, resets the card if it is still connected (so a PIN
 * verified in this session does not stay verified), releases both contexts,
 * frees `r`. No event is posted during or after the stop. NULL is fine. */
/* Every reader pcscd lists now, "; " between them (cut to `len`), for the
 * service screen; "" when none or not yet known. Thread-safe. */
#define PCSC_READERS_TEXT_MAX 512
void pcsc_reader_all(pcsc_reader *r, char *buf, size_t len);

void pcsc_reader_stop(pcsc_reader *r);

#endif
