/* post.h - the worker threads' way into the main loop: SDL user events.
 *
 * The card worker, the PC/SC monitor, the sync client and the control
 * server call these from their own threads; each copies what it is given
 * into a payload the main thread frees once handled (effects.c, control.c).
 * Nothing else crosses threads.
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

/* User event codes, offsets from the base SDL_RegisterEvents gave us.
 * Presence and service changes carry no payload: the code says it all. */
enum { UEV_CARD, UEV_CARD_IN, UEV_CARD_OUT, UEV_SERVICE_UP, UEV_SERVICE_DOWN, UEV_BUREAU,
       UEV_CONTROL, UEV_CONTROL_DONE, UEV_BUREAU_INFO, UEV__LAST };

/* UEV_CONTROL_DONE's payload: the reply owed once the synthetic events
 * ahead of it have been handled. */
typedef struct {
    uint64_t client;
    char *id_json;
} post_ctl_done;

/* Posts one event; on failure frees the payload (post_free) and says so. */
bool post_event(app *a, int code, void *data1, void *data2);

/* Frees what an event carries, wiping what may hold a PIN or personal data:
 * used when an event cannot be posted, once it is handled, and when the
 * queue is drained at exit. */
void post_free(int code, void *data1, void *data2);

/* Frees every user event still queued (shutdown, after the threads stopped). */
void post_drain(app *a);

/* The worker threads' callbacks; ud is the app. */
void post_card_result(void *ud, const card_result *r);
void post_presence(void *ud, bool present);
void post_pcsc(void *ud, pcsc_event ev);
void post_sync(void *ud, const sync_result *r);
void post_bureau_info(void *ud, const sync_bureau_info *info);
void post_control(void *ud, uint64_t client, ctl_request *req);

#endif
