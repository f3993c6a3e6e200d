/* core.h - the kiosk's journey as a pure state machine.
 *
 * state + event -> new state + effects. No SDL, no PC/SC, no sockets, no
 * clock: time arrives in every event (`now_ms`), and whatever must happen in
 * the world (ask the card, ask the bureau, write a record) leaves as an
 * effect for the caller to carry out, in order. That makes every path of the
 * journey testable in microseconds.
 *
 * The core holds the digits being typed and, between the screens that need
 * them, the old and new PIN. They are wiped (explicit_bzero) whenever the
 * journey leaves the screens that need them, and effects that carry a PIN
 * must be wiped by the caller with core_effects_wipe() once carried out.
 */
#ifndef CORE_CORE_H
#define CORE_CORE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/pin_rules.h"

/* The names are the control protocol's; see core_state_name(). */
typedef enum {
    ST_IDLE,
    ST_READING_CARD,
    ST_CARD_REJECTED,
    ST_ENTER_OLD_PIN,
    ST_VERIFYING,
    ST_ENTER_NEW_PIN,
    ST_CONFIRM_NEW_PIN,
    ST_CHANGING,
    ST_SUCCESS,
    ST_CARD_BLOCKED,
    ST_ERROR,
    ST_OUT_OF_SERVICE,
    ST_TAKE_CARD, /* cancelled or timed out: asks for the card back */
    ST_SERVICE_CODE, /* a technician types their code */
    ST_SERVICE,      /* the service screen */
    /* The reset of a forgotten or blocked PIN (bureau-api.md section 3). */
    ST_RESET_OFFER,       /* what will happen; btn.reset goes on, btn.cancel back */
    ST_RESET_REQUESTING,  /* the bureau is asked to text a code */
    ST_ENTER_RESET_CODE,  /* the six digits of the texted code */
    ST_RESET_AUTHORIZING, /* a challenge from the card, the code to the bureau */
    ST_RESETTING,         /* the bureau's command at the card, then the initial PIN verified */
    ST__LAST
} core_state;

typedef enum {
    NT_NONE,
    NT_WRONG_PIN,
    NT_PINS_DIFFER,
    NT_PIN_TOO_SIMPLE,
    NT_PIN_IS_INITIAL,
    NT_PIN_SAME_AS_OLD,
    NT_PIN_WRONG_LENGTH,
    NT_TIMEOUT_WARNING,
    NT_CARD_REMOVED,
    NT_BUREAU_UNREACHABLE,
    NT_ON_INITIAL_PIN,   /* verified with the initial PIN: please change it */
    NT_CANCELLED,
    NT_TIMED_OUT,
    NT_CARD_LOST,
    NT_CARD_FROZEN,
    NT_CARD_CANCELLED,
    NT_CARD_UNKNOWN,
    NT_CARD_UNREADABLE,
    NT_CARD_EXPIRED,
    NT_CARD_LOCKED,      /* 93 03: the card must be replaced */
    NT_CARD_ERROR,
    NT_CHANGE_UNKNOWN,   /* the change may or may not have reached the card */
    NT_STORAGE_FAILED,   /* the record could not be written: no change made */
    NT_READER_UNAVAILABLE, /* no reader, or the PC/SC service is gone */
    NT_WRONG_CODE,       /* the technician code did not match */
    NT_STORAGE_DOWN,     /* out of service: the outbox cannot take a record now */
    NT_CODE_WRONG,       /* the texted code did not match: attempts_left more */
    NT_CODE_EXPIRED,
    NT_RESET_VOID,       /* three wrong codes */
    NT_NO_PHONE_ON_FILE,
    NT_TOO_MANY_RESETS,
    NT_RESET_REFUSED,    /* the card refused the bureau's command: nothing changed */
    NT_RESET_UNAVAILABLE,/* the bureau could not be reached: no reset without it */
    NT_CARD_NOT_ACTIVE,  /* the bureau will not reset this card (lost, frozen, cancelled) */
    NT_RESET_FAILED,     /* the bureau no longer knows the reset, or it was used */
    NT_PIN_WAS_RESET,    /* on ENTER_NEW_PIN after a reset: choose your own now */
    NT__LAST
} core_notice;

typedef enum { LANG_ZH, LANG_EN, LANG__LAST } core_lang;

typedef enum {
    EV_DIGIT,        /* .digit 0..9 */
    EV_DELETE,
    EV_OK,
    EV_CANCEL,
    EV_CONTINUE,     /* "carry on" on the timeout warning */
    EV_LANG,
    EV_CARD_IN,
    EV_CARD_OUT,
    EV_CARD_ANSWER,  /* .gen .op .answer .tries .card_number */
    EV_BUREAU_ANSWER,/* .gen .bureau .holder */
    EV_RECORD_FAILED,/* the outbox could not write what an effect asked */
    EV_SERVICE_DOWN, /* the card reader (or pcscd) went away */
    EV_SERVICE_UP,   /* ... and is back */
    EV_STORAGE_DOWN, /* the outbox cannot take a record (disk full or failing) */
    EV_STORAGE_UP,   /* ... and can again */
    EV_SERVICE_GESTURE, /* the long press no citizen makes by chance */
    EV_CODE_OK,      /* the technician code matched (the caller checked FX_CHECK_CODE;
                        .gen is that effect's) */
    EV_CODE_BAD,
    EV_REQUEUE,      /* "move dead letters back" on the service screen */
    EV_FORGOT,       /* btn.forgot: "I forgot my PIN" */
    EV_RESET,        /* btn.reset: "yes, reset it" */
    EV_RESET_ANSWER, /* the bureau via kiosk-sync: .gen .authorize .reset and its data */
    EV_TICK,
    EV__LAST
} core_event_type;

/* In the card layer's order (card_op), which the app maps one to one. */
typedef enum { CO_READ, CO_VERIFY, CO_CHANGE, CO_CHALLENGE, CO_RESET, CO__LAST } core_card_op;

typedef enum {
    CA_OK,
    CA_WRONG_PIN,    /* .tries left, -1 when the card gave no count */
    CA_BLOCKED,      /* 69 83 / 69 84, or 63 C0 (.tries == 0) */
    CA_LOCKED,       /* 93 03 */
    CA_REMOVED,
    CA_UNREADABLE,
    CA_EXPIRED,
    CA_REFUSED,      /* a definite "no": nothing changed on the card */
    CA_GARBAGE,      /* a reply that means nothing: outcome unknown */
    CA_IO,
    CA__LAST
} core_card_answer;

typedef enum {
    BS_ACTIVE, BS_LOST, BS_FROZEN, BS_CANCELLED, BS_UNKNOWN, BS_UNREACHABLE, BS__LAST
} core_bureau_status;

#define CORE_CARD_NUMBER_MAX 20
#define CORE_HOLDER_MAX 64

/* What the bureau said to a reset request or to an authorize call. */
typedef enum {
    CR_OK, CR_NO_PHONE, CR_NOT_ACTIVE, CR_TOO_MANY, CR_CARD_UNKNOWN, CR_CODE_INVALID, CR_VOID,
    CR_EXPIRED, CR_NOT_FOUND, CR_ALREADY_USED, CR_UNREACHABLE, CR__LAST
} core_reset_answer;

#define CORE_RESET_ID_MAX 64
#define CORE_PHONE_MAX 32
#define CORE_APDU_MAX 261
#define CORE_CHALLENGE_LEN 8
#define CORE_CODE_LEN 6         /* the texted code's digits */
#define CORE_RESET_PIN "123456" /* what the bureau's command puts back (section 3) */

typedef struct {
    core_event_type type;
    uint64_t now_ms;
    int digit;
    unsigned gen;                 /* which card session an answer belongs to */
    core_card_op op;
    core_card_answer answer;
    int tries;
    char card_number[CORE_CARD_NUMBER_MAX];
    core_bureau_status bureau;
    char holder[CORE_HOLDER_MAX];
    uint8_t challenge[CORE_CHALLENGE_LEN]; /* CO_CHALLENGE answered CA_OK */
    /* EV_RESET_ANSWER */
    bool authorize;               /* the answer to an authorize call, not a request */
    core_reset_answer reset;
    int attempts_left;            /* CR_CODE_INVALID; -1 not said */
    int expires_s;                /* request CR_OK: how long the code is valid */
    char reset_id[CORE_RESET_ID_MAX];
    char phone[CORE_PHONE_MAX];   /* masked by the bureau */
    uint8_t apdu[CORE_APDU_MAX];  /* authorize CR_OK: the command for the card */
    int apdu_len;
} core_event;

typedef enum {
    FX_CARD_READ,       /* .gen */
    FX_BUREAU_ASK,      /* .gen .card_number */
    FX_CARD_VERIFY,     /* .gen .pin_a */
    FX_RECORD_INTENT,   /* .card_number (.reset_id for a reset): must be durable
                           before FX_CARD_CHANGE or FX_CARD_RESET */
    FX_CARD_CHANGE,     /* .gen .pin_a old .pin_b new */
    FX_RESOLVE_INTENT,  /* .resolution */
    FX_RECORD_BLOCKED,  /* .card_number */
    FX_SHUFFLE_KEYPAD,  /* a new PIN entry starts with scrambling on */
    FX_CHECK_CODE,      /* .pin_a: the technician code typed; answer EV_CODE_OK/BAD
                           with this .gen (checked off the main thread: the
                           keypad waits for the verdict) */
    FX_SERVICE_OPEN,    /* gather the service screen's figures */
    FX_REQUEUE_DEAD,    /* move the dead letters back into the outbox */
    FX_RESET_REQUEST,   /* .gen .card_number: ask the bureau to text a code */
    FX_CARD_CHALLENGE,  /* .gen */
    FX_RESET_AUTHORIZE, /* .gen .reset_id .pin_a (the code: a secret) .challenge */
    FX_CARD_RESET,      /* .gen .apdu .apdu_len: after FX_RECORD_INTENT (with .reset_id) */
    FX_REMIND_CARD,     /* a card left in the reader: the screen says "take your card";
                           the hook for a sound or a spoken reminder (repeats) */
    FX__LAST
} core_fx_type;

typedef enum { RES_CHANGED, RES_UNKNOWN, RES_DISCARD, RES_RESET } core_resolution;

typedef struct {
    core_fx_type type;
    unsigned gen;
    core_resolution resolution;
    char card_number[CORE_CARD_NUMBER_MAX];
    char pin_a[PIN_MAX + 1];
    char pin_b[PIN_MAX + 1];
    char reset_id[CORE_RESET_ID_MAX];
    uint8_t challenge[CORE_CHALLENGE_LEN];
    uint8_t apdu[CORE_APDU_MAX];
    int apdu_len;
} core_fx;

#define CORE_FX_MAX 6
typedef struct {
    core_fx fx[CORE_FX_MAX];
    int n;
} core_effects;

#define CORE_MAX_INITIAL 4
typedef struct {
    int pin_length;
    char initial[CORE_MAX_INITIAL][PIN_MAX + 1];
    int n_initial;
    uint32_t idle_timeout_ms;   /* no touch this long on a PIN screen: warn */
    uint32_t warning_ms;        /* the visible countdown */
    uint32_t bureau_timeout_ms; /* patience for the card-status answer */
    uint32_t card_timeout_ms;   /* patience for one card operation */
    uint32_t notice_ms;         /* how long "card removed" stays on IDLE */
    bool offline_allow;
    bool scramble;
    core_lang lang;
    bool service_enabled;       /* a technician code is configured */
    uint32_t service_idle_ms;   /* the service screens leave untouched this long */
    uint32_t reset_timeout_ms;  /* patience for each of the bureau's reset answers */
    uint32_t take_card_ms;      /* a card left on a screen that asks for it: remind
                                   after this (and again each time it passes); 0 never */
    uint32_t unknown_notice_ms; /* how long IDLE says "change unknown" to the citizen
                                   who pulled the card, unless they tap it away */
} core_config;

#define CORE_CODE_MIN 4           /* technician code digits; at most PIN_MAX */
#define CORE_CODE_TRIES 3         /* wrong codes in a row before the lockout */
#define CORE_CODE_LOCKOUT_MS (5u * 60u * 1000u)

typedef struct {
    core_config cfg;
    core_state state;
    core_notice notice;
    core_notice notice_before_warning;
    core_lang lang;
    bool card_present;
    unsigned gen;
    bool awaiting_card;    /* a card operation is in flight */
    bool awaiting_bureau;
    bool intent_open;      /* a change is recorded as intended, not resolved */
    bool seen_wrong;       /* a wrong PIN was typed on this card here */
    bool on_initial;
    bool bureau_offline;   /* went on without the bureau (offline policy) */
    bool service_down;     /* no usable reader: out of service until it returns */
    bool storage_down;     /* no record can be written: no new journey until it can */
    int tries_left;        /* -1: the card has not said */
    char card_number[CORE_CARD_NUMBER_MAX];
    char holder[CORE_HOLDER_MAX];
    char entry[PIN_MAX + 1];
    int entry_len;
    char old_pin[PIN_MAX + 1];
    char new_pin[PIN_MAX + 1];
    uint64_t now_ms;
    uint64_t last_touch_ms;
    uint64_t deadline_ms;  /* the state's own timer; 0 none */
    uint64_t warning_end_ms;
    unsigned entry_gen;    /* +1 at each fresh PIN entry (keypad reshuffle) */
    int code_fails;        /* wrong technician codes in a row (forgotten after a lockout's time) */
    bool code_checking;    /* a code is being checked: the keypad waits for the verdict */
    unsigned code_gen;     /* +1 for every code sent to be checked; a verdict for
                              another is stale */
    uint64_t last_code_fail_ms;
    uint64_t service_locked_until_ms;
    /* The reset of a forgotten PIN (core_reset.c). */
    core_state reset_from;      /* where btn.cancel on the offer goes back to */
    char reset_id[CORE_RESET_ID_MAX];
    char phone[CORE_PHONE_MAX];
    int reset_expires_s;        /* as the bureau said; 0 unknown */
    int attempts_left;          /* after a wrong code; -1 none said */
    char reset_code[CORE_CODE_LEN + 1]; /* typed, until it leaves with the challenge */
    bool reset_verifying;       /* RESETTING: the card took it; the initial PIN is checked */
    bool card_left;             /* reminded to take the card (core_card_left): the
                                   holder's name has been wiped */
} core;

void core_init(core *c, const core_config *cfg, uint64_t now_ms);

/* Handles one event. `out` is overwritten; it may carry PINs: wipe it with
 * core_effects_wipe() after carrying the effects out. */
void core_handle(core *c, const core_event *ev, core_effects *out);

void core_effects_wipe(core_effects *e);

/* The earliest time the core wants an EV_TICK; 0 when it has no timer. */
uint64_t core_next_deadline(const core *c);

/* Seconds left on the timeout warning, rounded up; 0 when none. */
int core_warning_seconds_left(const core *c);

/* True in the states where a keypad is on screen. */
bool core_state_has_keypad(core_state s);
/* True where cancel can do something (not while the card is busy). */
bool core_can_cancel(const core *c);
/* True where "forgot PIN" leads to the reset: the old-PIN screen, and a
 * card blocked by wrong PINs (not one locked for good), while records can
 * be written. */
bool core_can_forget(const core *c);

/* Wipes every secret the core holds (on exit). */
void core_wipe(core *c);

const char *core_state_name(core_state s);
const char *core_notice_name(core_notice n); /* NULL for NT_NONE */
/* Looks a state up by its protocol name; ST__LAST when unknown. */
core_state core_state_from_name(const char *name);
const char *core_event_name(core_event_type t);

#endif
