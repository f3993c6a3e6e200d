/* pcsc_int.h - what the PC/SC reader's files share; private to pcsc.c,
 * pcsc_monitor.c and pcsc_link.c (everyone else uses pcsc.h).
 *
 *   pcsc.c          the shared object: start, stop, the public accessors, and
 *                   what a PC/SC error code means to us
 *   pcsc_monitor.c  the monitor thread: pcscd -> r->current/card_in/card_seq
 *                   under r->mu, and -> on_event
 *   pcsc_link.c     the transport: the card worker's commands -> the card,
 *                   reading the monitor's view under r->mu
 */
#ifndef CARD_PCSC_INT_H
#define CARD_PCSC_INT_H

#include "card/pcsc.h"

#include <PCSC/winscard.h>
#include <PCSC/wintypes.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define WHERE "pcsc"

#define PCSC_RECV_MAX MAX_BUFFER_SIZE_EXTENDED

/* ---- what an error code means to us --------------------------------------- */

typedef enum {
    PE_OK,
    PE_TIMEOUT,
    PE_CANCELLED,
    PE_REMOVED, /* the card left */
    PE_RESET,   /* someone reset the card: reconnect */
    PE_READER,  /* the reader vanished under us: list again */
    PE_SERVICE, /* the context is dead: release it, establish a new one */
    PE_OTHER,
} pe_class;

pe_class pcsc_classify(LONG rv);

/* ---- the shared object ----------------------------------------------------- */

/* The transport's PC/SC state: touched only by the transmitting thread, and
 * by pcsc_reader_stop once that thread is done. */
typedef struct {
    bool ctx_valid;
    SCARDCONTEXT ctx;
    unsigned ctx_epoch; /* service_epoch when ctx was made */
    bool connected;
    SCARDHANDLE h;
    DWORD proto;
    char reader[PCSC_READER_NAME_MAX]; /* what `h` is connected to */
    unsigned seq;                      /* the card_seq it was connected for */
    uint8_t *rx;                       /* PCSC_RECV_MAX bytes; wiped after each reply */
} pcsc_link;

struct pcsc_reader {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* wakes the monitor's retry sleep; tells stop the monitor ended;
                          tells the transport the card left */
    void (*on_event)(void *ud, pcsc_event ev);
    void *ud;
    char filter[PCSC_READER_NAME_MAX];

    /* Under mu. */
    bool stopping;
    bool finished;
    bool mon_ctx_valid;
    SCARDCONTEXT mon_ctx;
    char current[PCSC_READER_NAME_MAX]; /* the chosen reader, "" none */
    char all[PCSC_READERS_TEXT_MAX];    /* every reader listed, "; " between */
    bool card_in;                       /* the monitor said CARD_IN last */
    unsigned card_seq;                  /* bumped at every CARD_IN */
    unsigned service_epoch;             /* bumped at every new monitor context */

    pcsc_link link;
};

/* A CLOCK_MONOTONIC deadline `ms` from now, for r->cv (made on that clock). */
struct timespec pcsc_deadline_in(unsigned ms);

/* ---- monitor (pcsc_monitor.c) ---------------------------------------------- */

/* The monitor thread's body; `arg` is the pcsc_reader. Sets r->finished and
 * broadcasts r->cv when it ends (after r->stopping). */
void *pcsc_monitor_main(void *arg);

/* ---- transport (pcsc_link.c) ------------------------------------------------ */

/* card_transport's transmit; `ctx` is the pcsc_reader. */
ct_status pcsc_transmit(void *ctx, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
                        size_t resp_cap, size_t *resp_len);

/* For pcsc_reader_stop, once no thread transmits any more: ends the
 * transaction, resets a card still connected, releases the context. */
void pcsc_link_close(pcsc_link *l);

#endif
