/* post.h - the worker threads' way into the main loop.
 *
 * The card worker, the PC/SC monitor, the simulated reader, the sync client,
 * the code checker and the control server call post_* from their own
 * threads. Each message
 * goes into the app's mailbox, a list of our own that never refuses one:
 * SDL's event queue is bounded and a busy control client can fill it, and
 * an outcome (the card's answer to a change, the bureau's verdict, a card
 * pulled) must not depend on room there. The mailbox is bounded by its
 * producers instead: the card worker runs one job at a time, the sync
 * client's questions are a short queue, the readers report real events, and
 * the control server reads no more from a client while it has
 * CTL_SERVER_MAX_IN_FLIGHT requests unanswered (control/ctl_server.h).
 *
 * Only a wake-up goes through SDL's queue (UEV_WAKE, at most one pending);
 * the loop also takes the mailbox on every turn, so a wake-up SDL refused
 * costs at most one turn of latency, never a message.
 */
#ifndef APP_POST_H
#define APP_POST_H

#include <stdbool.h>
#include <stdint.h>

#include "app/app_int.h"
#include "card/card.h"
#include "card/pcsc.h"
#include "control/ctl_proto.h"
#include "sync/sync_client.h"

/* What a message is. Presence and reader changes carry nothing more. */
typedef enum {
    POST_CARD, POST_CARD_IN, POST_CARD_OUT, POST_READER_UP, POST_READER_DOWN, POST_BUREAU,
    POST_BUREAU_INFO, POST_CODE, POST_CONTROL, POST_RESET, POST__LAST
} post_kind;

typedef struct post_msg {
    struct post_msg *next;
    post_kind kind;
    union {
        card_result card;           /* POST_CARD */
        sync_result bureau;         /* POST_BUREAU */
        sync_bureau_info info;      /* POST_BUREAU_INFO */
        sync_reset_result reset;    /* POST_RESET: the bureau on a PIN reset */
        struct {                    /* POST_CODE: the technician code's verdict */
            unsigned gen;
            bool ok;
        } code;
        struct {                    /* POST_CONTROL: req is the receiver's to free */
            uint64_t client;
            ctl_request *req;
        } ctl;
    } u;
} post_msg;

/* SDL user event codes (offsets from a->ev_base), posted by the main thread
 * itself or as the mailbox's wake-up. */
enum { UEV_WAKE, UEV_CONTROL_DONE, UEV__LAST };

/* UEV_CONTROL_DONE's payload: the reply owed once the synthetic events
 * ahead of it in SDL's queue have been handled. */
typedef struct {
    uint64_t client;
    char *id_json;
} post_ctl_done;

/* The mailbox; NULL if out of memory. */
post_box *post_box_new(void);
/* Frees every message still in it (after the producers stopped). */
void post_box_free(post_box *b);

/* Takes every message posted so far, oldest first (a list to hand to
 * post_msg_free one by one); NULL when empty. Main thread. */
post_msg *post_take(app *a);
/* Wipes and frees one message (a control request's too, if still there). */
void post_msg_free(post_msg *m);

/* Frees the payload of a UEV_CONTROL_DONE still in SDL's queue at exit. */
void post_drain_sdl(app *a);

/* The producers' callbacks; ud is the app. */
void post_card_result(void *ud, const card_result *r);
void post_presence(void *ud, bool present);
void post_pcsc(void *ud, pcsc_event ev);
void post_sync(void *ud, const sync_result *r);
void post_bureau_info(void *ud, const sync_bureau_info *info);
void post_reset(void *ud, const sync_reset_result *r);
void post_control(void *ud, uint64_t client, ctl_request *req);
void post_code(void *ud, unsigned gen, bool ok);

#endif
