/* ctl_proto.h - control socket lines: parsing requests, building replies.
 *
 * Pure functions over bytes and cJSON: no sockets, no SDL, no clock. The
 * contract is /work/shared/control-protocol.md; this module turns one line of
 * it into a ctl_request with every field already checked, so that the code
 * acting on a request never sees an unchecked type, range or length.
 *
 * `type.digits` and `card.pin` are PINs: ctl_parse wipes every copy it makes
 * (including each cJSON string before the tree is freed), and
 * ctl_request_clear wipes the request's own copies.
 */
#ifndef CONTROL_CTL_PROTO_H
#define CONTROL_CTL_PROTO_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

typedef enum {
    CTL_STATE, CTL_LAYOUT, CTL_TAP, CTL_TYPE, CTL_KEY, CTL_WAIT, CTL_SCREENSHOT,
    CTL_CARD, CTL_SUBSCRIBE, CTL_QUIT, CTL_STATS, CTL__LAST
} ctl_cmd;

typedef enum { CTL_CARD_INSERT, CTL_CARD_REMOVE } ctl_card_action;

#define CTL_WAIT_DEFAULT_MS 5000
#define CTL_WAIT_MAX_MS 600000
#define CTL_CARD_TRIES_DEFAULT 3
#define CTL_CARD_PIN_DEFAULT "123456"
#define CTL_DELAY_MAX_MS 60000
#define CTL_COORD_MAX 32767
#define CTL_HOLD_MAX_MS 10000

typedef struct ctl_request {
    ctl_cmd cmd;
    /* The request's "id" re-serialized as JSON (any JSON value), or NULL when
       absent. Owned by the request; freed by ctl_request_clear. */
    char *id_json;

    /* tap: a widget OR a point. The widget comes from "widget" if present,
       else from a string "id" (the contract's `{"cmd":"tap","id":"key.5"}`)
       unless "x" and "y" are given; with x and y the "id" is only echoed.
       widget: 1..47 of [A-Za-z0-9._-]; x, y: integers 0..CTL_COORD_MAX. */
    char widget[48];
    bool has_xy;
    int x, y;
    int hold_ms;     /* tap: 0..CTL_HOLD_MAX_MS the finger stays down; 0 a plain tap */

    char digits[65]; /* type: 1..64 ASCII digits (a PIN: wiped by clear) */
    char key[16];    /* key "name": Return Escape Backspace 0..9 F1..F12 */

    char state[32];  /* wait: 1..31 of [A-Za-z0-9_] */
    int timeout_ms;  /* wait: default CTL_WAIT_DEFAULT_MS, 0..CTL_WAIT_MAX_MS */

    char path[4096]; /* screenshot: absolute, 1..4095 bytes */

    /* card. Only `action` is read for remove; for insert, card_number is
       required (1..15 ASCII letters and digits) and the rest is optional. */
    ctl_card_action action;
    char card_number[16];
    char pin[17];      /* 4..16 ASCII digits, default CTL_CARD_PIN_DEFAULT (wiped by clear) */
    int tries;         /* 1..15, default CTL_CARD_TRIES_DEFAULT */
    bool blocked;      /* default false */
    char profile[8];   /* "ssse", "iso7816", or "" when absent */
    /* Simulation extensions of insert (for tests of the unhappy paths):
       fault: "none" (also when absent), "pull", "garbage" or "truncated";
       fault_on: "read", "verify", "change", "challenge", "reset", or "" when
       absent (the sim then
       applies it to the read). delay_ms 0..60000 (default 0) before the card
       answers the operation named by delay_on (same words, "" when absent:
       the read).
       expiry: "YYYYMMDD" (a real calendar date) or "" when absent.
       locked: default false. */
    char fault[16];
    char fault_on[16];
    int delay_ms;
    char delay_on[16];
    char expiry[9];
    bool locked;
} ctl_request;

/* Parses one line (without its newline; `line` need not be NUL-terminated and
   may hold NUL bytes, which make it malformed). *req is overwritten first
   (clear a reused request before). On success fills *req (which the caller
   then clears with ctl_request_clear) and returns true. On failure
   returns false, sets *code to a static snake_case error ("malformed",
   "unknown_command", "missing_field", "bad_field") and writes a message into
   msg (naming the field, never echoing a value); req->id_json may still be
   set so that the error reply can echo it, so clear *req on failure too.
   Unknown fields are ignored: the contract allows additions. */
bool ctl_parse(const char *line, size_t len, ctl_request *req, const char **code,
               char *msg, size_t msglen);

/* Frees req->id_json and wipes the whole request (PINs included). *req itself
   stays the caller's; safe on a zeroed or already-cleared request and NULL. */
void ctl_request_clear(ctl_request *req);

/* The wire name of a command ("state", "tap"...), "?" out of range. */
const char *ctl_cmd_name(ctl_cmd c);

/* Reply builders. Each returns a malloc'd single-line JSON object ending in
   "\n" (the caller frees it), or NULL when out of memory. `id_json` is the
   request's id as kept in ctl_request (may be NULL: no "id" in the reply).
   `message` may be NULL. `fields`, when not NULL, must be an object; it is
   consumed on every path and its members are copied into the reply (members
   named "ok", "error" or "id" are ignored so the reply stays well-formed). */
char *ctl_reply_ok(const char *id_json, cJSON *fields);
char *ctl_reply_error(const char *id_json, const char *code, const char *message);
/* An error with extra members, e.g. wait's {"error":"timeout","state":...}. */
char *ctl_reply_error_fields(const char *id_json, const char *code, const char *message,
                             cJSON *fields);

/* Walks a cJSON tree and wipes every string value and key in place, so that
   a later cJSON_Delete frees no secret. NULL is fine. */
void ctl_json_wipe(cJSON *item);

/* Makes cJSON wipe every block it frees, process-wide (cJSON_InitHooks with
   a free that zeroes malloc_usable_size bytes first). Needed because when a
   parse fails half-way, cJSON frees the strings it had already decoded - a
   PIN among them - where ctl_json_wipe cannot reach them. Idempotent. Call it
   from main() before any thread starts; ctl_server_start calls it too, as a
   fallback. */
void ctl_json_wipe_on_free(void);

#endif
