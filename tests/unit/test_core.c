/* The journey's state machine, driven event by event with no clock, card or
 * screen: every state against every event, then the paths that matter. */
#include "t.h"
#include "core/core.h"

static core_config test_cfg(void)
{
    core_config cfg = {
        .pin_length = 6,
        .initial = { "123456" },
        .n_initial = 1,
        .idle_timeout_ms = 30000,
        .warning_ms = 15000,
        .bureau_timeout_ms = 3000,
        .card_timeout_ms = 20000,
        .notice_ms = 10000,
        .offline_allow = true,
        .scramble = false,
        .lang = LANG_ZH,
        .service_enabled = true,
        .service_idle_ms = 60000,
        .reset_timeout_ms = 15000,
        .take_card_ms = 15000,
        .unknown_notice_ms = 30000,
    };
    return cfg;
}

static core C;
static core_effects FX;
static uint64_t NOW;

static void ev(core_event e)
{
    e.now_ms = NOW;
    core_handle(&C, &e, &FX);
    T_CHECK(FX.n <= CORE_FX_MAX - 1); /* never at the cap: nothing was dropped */
}

static void digit(int d) { ev((core_event){ .type = EV_DIGIT, .digit = d }); }
static void simple(core_event_type t) { ev((core_event){ .type = t }); }

static void type(const char *s)
{
    for (; *s; s++)
        digit(*s - '0');
}

/* The caller's verdict on the technician code in check. */
static void verdict(bool ok)
{
    ev((core_event){ .type = ok ? EV_CODE_OK : EV_CODE_BAD, .gen = C.code_gen });
}

/* A code typed, sent to be checked, and its verdict. */
static void code(bool ok)
{
    type("2468");
    simple(EV_OK);
    verdict(ok);
}

static void answer(core_card_op op, core_card_answer a, int tries)
{
    ev((core_event){ .type = EV_CARD_ANSWER, .gen = C.gen, .op = op, .answer = a,
                     .tries = tries, .card_number = "A12345678" });
}

static void bureau(core_bureau_status st)
{
    ev((core_event){ .type = EV_BUREAU_ANSWER, .gen = C.gen, .bureau = st, .holder = "张*明" });
}

static void tick_at(uint64_t t)
{
    NOW = t;
    simple(EV_TICK);
}

static bool has_fx(core_fx_type t)
{
    for (int i = 0; i < FX.n; i++)
        if (FX.fx[i].type == t)
            return true;
    return false;
}

static bool all_zero(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0)
            return false;
    return true;
}

static void start(core_config cfg)
{
    NOW = 1000;
    core_init(&C, &cfg, NOW);
}

/* Extra pseudo-states: READING_CARD after the read, waiting for the
 * bureau; RESET_AUTHORIZING after the card's challenge, waiting for the
 * bureau; RESETTING after the card took the command, verifying 123456. */
#define ST_READING_BUREAU ST__LAST
#define ST_AUTH_BUREAU (ST__LAST + 1)
#define ST_RESET_VERIFY (ST__LAST + 2)
#define N_ROWS (ST__LAST + 3)

static void reset_answer(bool authorize, core_reset_answer r, int attempts)
{
    core_event e = { .type = EV_RESET_ANSWER, .gen = C.gen, .authorize = authorize, .reset = r,
                     .attempts_left = attempts, .expires_s = 300, .reset_id = "r-7f3a",
                     .phone = "138****5678", .apdu_len = 21 };
    e.apdu[0] = 0x84;
    e.apdu[1] = 0x2C;
    e.apdu[4] = 0x10;
    ev(e);
}

static void challenge_ok(void)
{
    ev((core_event){ .type = EV_CARD_ANSWER, .gen = C.gen, .op = CO_CHALLENGE, .answer = CA_OK,
                     .challenge = { 1, 2, 3, 4, 5, 6, 7, 8 } });
}

/* Where the state's row is: the real state a pseudo-state is. */
static int real_state(int s)
{
    return s == ST_READING_BUREAU ? ST_READING_CARD : s == ST_AUTH_BUREAU ? ST_RESET_AUTHORIZING
         : s == ST_RESET_VERIFY ? ST_RESETTING : s;
}

static void reach(int s, bool deny)
{
    core_config cfg = test_cfg();
    cfg.offline_allow = !deny;
    start(cfg);
    if (s == ST_IDLE)
        return;
    if (s == ST_SERVICE_CODE || s == ST_SERVICE) {
        /* SERVICE_CODE with a code in check, so that a verdict means something. */
        simple(EV_SERVICE_GESTURE);
        type("2468");
        simple(EV_OK);
        if (s == ST_SERVICE)
            verdict(true);
        return;
    }
    simple(EV_CARD_IN);
    if (s == ST_READING_CARD)
        return;
    answer(CO_READ, CA_OK, -1);
    if (s == ST_READING_BUREAU)
        return;
    if (s == ST_CARD_REJECTED) { bureau(BS_LOST); return; }
    if (s == ST_OUT_OF_SERVICE) { bureau(BS_UNREACHABLE); return; }
    bureau(BS_ACTIVE);
    if (s == ST_ENTER_OLD_PIN)
        return;
    if (s == ST_TAKE_CARD) { simple(EV_CANCEL); return; }
    if (real_state(s) >= ST_RESET_OFFER) {
        simple(EV_FORGOT);
        if (s == ST_RESET_OFFER)
            return;
        simple(EV_RESET);
        if (s == ST_RESET_REQUESTING)
            return;
        reset_answer(false, CR_OK, -1);
        if (s == ST_ENTER_RESET_CODE)
            return;
        type("246810");
        simple(EV_OK);
        if (s == ST_RESET_AUTHORIZING)
            return;
        challenge_ok();
        if (s == ST_AUTH_BUREAU)
            return;
        reset_answer(true, CR_OK, -1);
        if (s == ST_RESETTING)
            return;
        answer(CO_RESET, CA_OK, -1);
        return;
    }
    type("482915");
    simple(EV_OK);
    if (s == ST_VERIFYING)
        return;
    if (s == ST_CARD_BLOCKED) { answer(CO_VERIFY, CA_BLOCKED, -1); return; }
    if (s == ST_ERROR) { answer(CO_VERIFY, CA_GARBAGE, -1); return; }
    answer(CO_VERIFY, CA_OK, -1);
    if (s == ST_ENTER_NEW_PIN)
        return;
    type("582039");
    simple(EV_OK);
    if (s == ST_CONFIRM_NEW_PIN)
        return;
    type("582039");
    simple(EV_OK);
    if (s == ST_CHANGING)
        return;
    answer(CO_CHANGE, CA_OK, -1);
}

enum { E_DIGIT, E_DELETE, E_OK, E_CANCEL, E_CONTINUE, E_LANG, E_CARD_IN, E_CARD_OUT,
       E_A_OK, E_A_WRONG, E_A_BLOCKED, E_A_LOCKED, E_A_REMOVED, E_A_GARBAGE, E_A_REFUSED,
       E_A_STALE, E_B_ACTIVE, E_B_LOST, E_B_UNREACHABLE, E_RECORD_FAILED, E_TICK,
       E_SVC_DOWN, E_SVC_UP, E_STORE_DOWN, E_STORE_UP, E_GESTURE, E_CODE_OK, E_CODE_BAD,
       E_REQUEUE, E_FORGOT, E_RESET, E_R_OK, E_R_WRONG, E_R_DOWN, E__N };

static const char *const event_names[E__N] = {
    "digit", "delete", "ok", "cancel", "continue", "lang", "card_in", "card_out",
    "answer ok", "answer wrong", "answer blocked", "answer locked", "answer removed",
    "answer garbage", "answer refused", "answer stale", "bureau active", "bureau lost",
    "bureau unreachable", "record failed", "tick", "service down", "service up",
    "storage down", "storage up", "service gesture", "code ok", "code bad", "requeue",
    "forgot", "reset", "reset answer ok", "reset answer code wrong", "reset answer unreachable",
};

/* The card operation a state waits for; other states get a verify answer,
 * which they must ignore. */
static core_card_op op_for(int s)
{
    return s == ST_READING_CARD ? CO_READ : s == ST_CHANGING ? CO_CHANGE
         : s == ST_RESET_AUTHORIZING || s == ST_AUTH_BUREAU ? CO_CHALLENGE
         : s == ST_RESETTING ? CO_RESET : CO_VERIFY;
}

static void fire(int s, int e)
{
    core_card_op op = op_for(s);
    switch (e) {
    case E_DIGIT: digit(5); break;
    case E_DELETE: simple(EV_DELETE); break;
    case E_OK: simple(EV_OK); break;
    case E_CANCEL: simple(EV_CANCEL); break;
    case E_CONTINUE: simple(EV_CONTINUE); break;
    case E_LANG: simple(EV_LANG); break;
    case E_CARD_IN: simple(EV_CARD_IN); break;
    case E_CARD_OUT: simple(EV_CARD_OUT); break;
    case E_A_OK: answer(op, CA_OK, -1); break;
    case E_A_WRONG: answer(op, CA_WRONG_PIN, 2); break;
    case E_A_BLOCKED: answer(op, CA_BLOCKED, 0); break;
    case E_A_LOCKED: answer(op, CA_LOCKED, -1); break;
    case E_A_REMOVED: answer(op, CA_REMOVED, -1); break;
    case E_A_GARBAGE: answer(op, CA_GARBAGE, -1); break;
    case E_A_REFUSED: answer(op, CA_REFUSED, -1); break;
    case E_A_STALE:
        ev((core_event){ .type = EV_CARD_ANSWER, .gen = C.gen + 7, .op = op, .answer = CA_OK });
        break;
    case E_B_ACTIVE: bureau(BS_ACTIVE); break;
    case E_B_LOST: bureau(BS_LOST); break;
    case E_B_UNREACHABLE: bureau(BS_UNREACHABLE); break;
    case E_RECORD_FAILED: simple(EV_RECORD_FAILED); break;
    case E_TICK: tick_at(NOW + 10 * 60 * 1000); break;
    case E_SVC_DOWN: simple(EV_SERVICE_DOWN); break;
    case E_SVC_UP: simple(EV_SERVICE_UP); break;
    case E_STORE_DOWN: simple(EV_STORAGE_DOWN); break;
    case E_STORE_UP: simple(EV_STORAGE_UP); break;
    case E_GESTURE: simple(EV_SERVICE_GESTURE); break;
    case E_CODE_OK: verdict(true); break;
    case E_CODE_BAD: verdict(false); break;
    case E_REQUEUE: simple(EV_REQUEUE); break;
    case E_FORGOT: simple(EV_FORGOT); break;
    case E_RESET: simple(EV_RESET); break;
    /* Answers of the kind the state would wait for (an authorize call in
     * RESET_AUTHORIZING, a request elsewhere). */
    case E_R_OK: reset_answer(C.state == ST_RESET_AUTHORIZING, CR_OK, -1); break;
    case E_R_WRONG: reset_answer(C.state == ST_RESET_AUTHORIZING, CR_CODE_INVALID, 2); break;
    case E_R_DOWN: reset_answer(C.state == ST_RESET_AUTHORIZING, CR_UNREACHABLE, -1); break;
    }
}

#define S -1 /* stays where it is */
#define IDL ST_IDLE
#define RDG ST_READING_CARD
#define REJ ST_CARD_REJECTED
#define OLD ST_ENTER_OLD_PIN
#define NEW ST_ENTER_NEW_PIN
#define BLK ST_CARD_BLOCKED
#define ERR ST_ERROR
#define OOS ST_OUT_OF_SERVICE
#define TAK ST_TAKE_CARD
#define SUC ST_SUCCESS
#define SVC ST_SERVICE_CODE
#define SVS ST_SERVICE
#define ROF ST_RESET_OFFER
#define RRQ ST_RESET_REQUESTING
#define ERC ST_ENTER_RESET_CODE
#define RAU ST_RESET_AUTHORIZING
#define RST ST_RESETTING

/* Rows: states (plus READING_CARD waiting for the bureau); columns: events. */
static const int expect[N_ROWS][E__N] = {
    /*                   dig del ok  can con lng in  out  aOK  aWR  aBL  aLK  aRM  aGB  aRF  aST  bAC  bLO  bUN  rec  tick  down up  sDn  sUp  gst  cOK  cBD  rq  fgt rst rOK rWR rDN */
    [ST_IDLE]         = { S,  S,  S,  S,  S,  S,  RDG, IDL, S,   S,   S,   S,   S,   S,   S,   S,   S,   S,   S,   S,   S , OOS, S,  OOS, S, SVC, S,  S,  S , S,   S,  S,  S,  S },
    [ST_READING_CARD] = { S,  S,  S,  TAK,S,  S,  S,   IDL, S,   REJ, REJ, BLK, IDL, REJ, REJ, S,   S,   S,   S,   OOS, ERR , OOS, S,  OOS, S, S  , S,  S,  S , S,   S,  S,  S,  S },
    [ST_READING_BUREAU]={ S,  S,  S,  TAK,S,  S,  S,   IDL, S,   S,   S,   S,   S,   S,   S,   S,   OLD, REJ, OLD, OOS, OLD , OOS, S,  OOS, S, S  , S,  S,  S , S,   S,  S,  S,  S },
    [ST_CARD_REJECTED]= { S,  S,  S,  S,  S,  S,  S,   IDL, S,   S,   S,   S,   S,   S,   S,   S,   S,   S,   S,   OOS, S , OOS, S,  S  , S, S  , S,  S,  S , S,   S,  S,  S,  S },
    [ST_ENTER_OLD_PIN]= { S,  S,  S,  TAK,S,  S,  S,   IDL, S,   S,   S,   S,   S,   S,   S,   S,   S,   S,   S,   OOS, S , OOS, S,  OOS, S, S  , S,  S,  S , ROF, S,  S,  S,  S },
    [ST_VERIFYING]    = { S,  S,  S,  S,  S,  S,  S,   IDL, NEW, OLD, BLK, BLK, IDL, ERR, ERR, S,   S,   S,   S,   OOS, ERR , OOS, S,  S  , S, S  , S,  S,  S , S,   S,  S,  S,  S },
    [ST_ENTER_NEW_PIN]= { S,  S,  S,  TAK,S,  S,  S,   IDL, S,   S,   S,   S,   S,   S,   S,   S,   S,   S,   S,   OOS, S , OOS, S,  OOS, S, S  , S,  S,  S , S,   S,  S,  S,  S },
    [ST_CONFIRM_NEW_PIN]={S,  S,  S,  TAK,S,  S,  S,   IDL, S,   S,   S,   S,   S,   S,   S,   S,   S,   S,   S,   OOS, S , OOS, S,  OOS, S, S  , S,  S,  S , S,   S,  S,  S,  S },
    [ST_CHANGING]     = { S,  S,  S,  S,  S,  S,  S,   IDL, SUC, OLD, BLK, BLK, IDL, ERR, ERR, S,   S,   S,   S,   OOS, ERR , OOS, S,  S  , S, S  , S,  S,  S , S,   S,  S,  S,  S },
    [ST_SUCCESS]      = { S,  S,  S,  S,  S,  S,  S,   IDL, S,   S,   S,   S,   S,   S,   S,   S,   S,   S,   S,   OOS, S , OOS, S,  S  , S, S  , S,  S,  S , S,   S,  S,  S,  S },
    [ST_CARD_BLOCKED] = { S,  S,  S,  S,  S,  S,  S,   IDL, S,   S,   S,   S,   S,   S,   S,   S,   S,   S,   S,   OOS, S , OOS, S,  S  , S, S  , S,  S,  S , ROF, S,  S,  S,  S },
    [ST_ERROR]        = { S,  S,  S,  S,  S,  S,  S,   IDL, S,   S,   S,   S,   S,   S,   S,   S,   S,   S,   S,   OOS, S , OOS, S,  S  , S, S  , S,  S,  S , S,   S,  S,  S,  S },
    [ST_OUT_OF_SERVICE]={ S,  S,  S,  S,  S,  S,  S,   IDL, S,   S,   S,   S,   S,   S,   S,   S,   S,   S,   S,   S,   S , OOS, S,  S  , S, SVC, S,  S,  S , S,   S,  S,  S,  S },
    [ST_TAKE_CARD]    = { S,  S,  S,  S,  S,  S,  S,   IDL, S,   S,   S,   S,   S,   S,   S,   S,   S,   S,   S,   OOS, S , OOS, S,  S  , S, S  , S,  S,  S , S,   S,  S,  S,  S },
    [ST_SERVICE_CODE] = { S,  S,  S,  IDL,S,  S,  S,   S,   S,   S,   S,   S,   S,   S,   S,   S,   S,   S,   S,   S,   IDL, S,  S,  S,  S,   S,   SVS, S,  S , S,   S,  S,  S,  S },
    [ST_SERVICE]      = { S,  S,  S,  IDL,S,  S,  S,   S,   S,   S,   S,   S,   S,   S,   S,   S,   S,   S,   S,   S,   IDL, S,  S,  S,  S,   S,   S,   S,  S , S,   S,  S,  S,  S },

    [ST_RESET_OFFER]  = { S,  S,  S,  OLD,S,  S,  S,   IDL, S,   S,   S,   S,   S,   S,   S,   S,   S,   S,   S,   OOS, S , OOS, S,  OOS, S, S  , S,  S,  S,   S,   RRQ, S,  S,  S },
    [ST_RESET_REQUESTING]={S, S,  S,  S,  S,  S,  S,   IDL, S,   S,   S,   S,   S,   S,   S,   S,   S,   S,   S,   OOS, ERR, OOS, S,  S  , S, S  , S,  S,  S,   S,   S,   ERC, ERR, ERR},
    [ST_ENTER_RESET_CODE]={S, S,  S,  TAK,S,  S,  S,   IDL, S,   S,   S,   S,   S,   S,   S,   S,   S,   S,   S,   OOS, S , OOS, S,  OOS, S, S  , S,  S,  S,   S,   S,   S,  S,  S },
    [ST_RESET_AUTHORIZING]={S,S,  S,  S,  S,  S,  S,   IDL, S,   ERR, ERR, ERR, IDL, ERR, ERR, S,   S,   S,   S,   OOS, ERR, OOS, S,  S  , S, S  , S,  S,  S,   S,   S,   S,  S,  S },
    [ST_AUTH_BUREAU]  = { S,  S,  S,  S,  S,  S,  S,   IDL, S,   S,   S,   S,   S,   S,   S,   S,   S,   S,   S,   OOS, ERR, OOS, S,  S  , S, S  , S,  S,  S,   S,   S,   RST, ERC, ERR},
    [ST_RESETTING]    = { S,  S,  S,  S,  S,  S,  S,   IDL, S,   ERR, ERR, BLK, IDL, ERR, ERR, S,   S,   S,   S,   OOS, ERR, OOS, S,  S  , S, S  , S,  S,  S,   S,   S,   S,  S,  S },
    [ST_RESET_VERIFY] = { S,  S,  S,  S,  S,  S,  S,   IDL, NEW, ERR, ERR, ERR, IDL, ERR, ERR, S,   S,   S,   S,   OOS, ERR, OOS, S,  S  , S, S  , S,  S,  S,   S,   S,   S,  S,  S },
};

T_TEST(every_state_against_every_event)
{
    for (int s = 0; s < N_ROWS; s++) {
        for (int e = 0; e < E__N; e++) {
            int want, from;
            reach(s, s == ST_OUT_OF_SERVICE);
            from = C.state;
            T_EQ_INT(from, real_state(s));
            fire(s, e);
            want = expect[s][e] == S ? from : expect[s][e];
            if ((int)C.state != want) {
                fprintf(stderr, "  from %s%s on %s: expected %s, got %s\n",
                        core_state_name((core_state)from),
                        s >= ST__LAST ? " (second wait)" : "", event_names[e],
                        core_state_name((core_state)want), core_state_name(C.state));
                t_failed_checks++;
            }
            /* Outside the screens that need them, no PIN survives. */
            if (C.state != ST_VERIFYING && C.state != ST_ENTER_NEW_PIN &&
                C.state != ST_CONFIRM_NEW_PIN && C.state != ST_CHANGING &&
                C.state != ST_RESETTING) {
                T_CHECK(all_zero(C.old_pin, sizeof C.old_pin));
                T_CHECK(all_zero(C.new_pin, sizeof C.new_pin));
            }
            if (!core_state_has_keypad(C.state))
                T_CHECK(all_zero(C.entry, sizeof C.entry));
            /* The texted code only on its way to the bureau. */
            if (C.state != ST_RESET_AUTHORIZING || C.awaiting_bureau)
                T_CHECK(all_zero(C.reset_code, sizeof C.reset_code));
            core_effects_wipe(&FX);
        }
    }
}

T_TEST(happy_path_emits_effects_in_order)
{
    start(test_cfg());
    simple(EV_CARD_IN);
    T_EQ_INT(C.state, ST_READING_CARD);
    T_EQ_INT(FX.n, 1);
    T_EQ_INT(FX.fx[0].type, FX_CARD_READ);
    T_EQ_INT(FX.fx[0].gen, C.gen);
    answer(CO_READ, CA_OK, -1);
    T_EQ_INT(FX.n, 1);
    T_EQ_INT(FX.fx[0].type, FX_BUREAU_ASK);
    T_EQ_STR(FX.fx[0].card_number, "A12345678");
    bureau(BS_ACTIVE);
    T_EQ_INT(C.state, ST_ENTER_OLD_PIN);
    T_EQ_STR(C.holder, "张*明");
    type("123456");
    T_EQ_INT(C.entry_len, 6);
    simple(EV_OK);
    T_EQ_INT(C.state, ST_VERIFYING);
    T_EQ_INT(FX.fx[0].type, FX_CARD_VERIFY);
    T_EQ_STR(FX.fx[0].pin_a, "123456");
    T_EQ_INT(C.entry_len, 0);
    answer(CO_VERIFY, CA_OK, -1);
    T_EQ_INT(C.state, ST_ENTER_NEW_PIN);
    T_EQ_INT(C.notice, NT_ON_INITIAL_PIN); /* still on the initial PIN: told so */
    type("582039");
    simple(EV_OK);
    T_EQ_INT(C.state, ST_CONFIRM_NEW_PIN);
    type("582039");
    simple(EV_OK);
    T_EQ_INT(C.state, ST_CHANGING);
    T_EQ_INT(FX.n, 2);
    T_EQ_INT(FX.fx[0].type, FX_RECORD_INTENT); /* durable first ... */
    T_EQ_STR(FX.fx[0].card_number, "A12345678");
    T_EQ_INT(FX.fx[1].type, FX_CARD_CHANGE);   /* ... then the card */
    T_EQ_STR(FX.fx[1].pin_a, "123456");
    T_EQ_STR(FX.fx[1].pin_b, "582039");
    core_effects_wipe(&FX);
    T_CHECK(all_zero((const char *)&FX, sizeof FX));
    answer(CO_CHANGE, CA_OK, -1);
    T_EQ_INT(C.state, ST_SUCCESS);
    T_EQ_INT(FX.n, 1);
    T_EQ_INT(FX.fx[0].type, FX_RESOLVE_INTENT);
    T_EQ_INT(FX.fx[0].resolution, RES_CHANGED);
    T_CHECK(all_zero(C.old_pin, sizeof C.old_pin));
    T_CHECK(all_zero(C.new_pin, sizeof C.new_pin));
    simple(EV_CARD_OUT);
    T_EQ_INT(C.state, ST_IDLE);
    T_EQ_INT(C.notice, NT_NONE);
    T_CHECK(all_zero(C.card_number, sizeof C.card_number));
}

T_TEST(wrong_then_right_counts_down)
{
    reach(ST_ENTER_OLD_PIN, false);
    type("111111");
    simple(EV_OK);
    answer(CO_VERIFY, CA_WRONG_PIN, 2);
    T_EQ_INT(C.state, ST_ENTER_OLD_PIN);
    T_EQ_INT(C.notice, NT_WRONG_PIN);
    T_EQ_INT(C.tries_left, 2);
    T_CHECK(all_zero(C.old_pin, sizeof C.old_pin));
    type("1");
    T_EQ_INT(C.notice, NT_WRONG_PIN); /* the count stays in view while typing */
    simple(EV_DELETE);
    type("482915");
    simple(EV_OK);
    answer(CO_VERIFY, CA_OK, -1);
    T_EQ_INT(C.state, ST_ENTER_NEW_PIN);
    T_EQ_INT(C.notice, NT_NONE);
    /* 63 00: wrong, but the card gives no count */
    reach(ST_VERIFYING, false);
    answer(CO_VERIFY, CA_WRONG_PIN, -1);
    T_EQ_INT(C.notice, NT_WRONG_PIN);
    T_EQ_INT(C.tries_left, -1);
}

T_TEST(blocked_here_is_recorded_blocked_elsewhere_is_not)
{
    reach(ST_ENTER_OLD_PIN, false);
    type("111111");
    simple(EV_OK);
    answer(CO_VERIFY, CA_WRONG_PIN, 1);
    type("222222");
    simple(EV_OK);
    answer(CO_VERIFY, CA_BLOCKED, 0);
    T_EQ_INT(C.state, ST_CARD_BLOCKED);
    T_CHECK(has_fx(FX_RECORD_BLOCKED));
    T_EQ_STR(FX.fx[0].card_number, "A12345678");
    /* a card that says 69 83 at its first verify here was blocked elsewhere */
    reach(ST_VERIFYING, false);
    answer(CO_VERIFY, CA_BLOCKED, -1);
    T_EQ_INT(C.state, ST_CARD_BLOCKED);
    T_CHECK(!has_fx(FX_RECORD_BLOCKED));
    /* 69 83 right after a wrong entry here: this terminal's doing */
    reach(ST_ENTER_OLD_PIN, false);
    type("111111");
    simple(EV_OK);
    answer(CO_VERIFY, CA_WRONG_PIN, -1);
    type("222222");
    simple(EV_OK);
    answer(CO_VERIFY, CA_BLOCKED, -1);
    T_CHECK(has_fx(FX_RECORD_BLOCKED));
    /* the locked card must be replaced: its own words */
    reach(ST_VERIFYING, false);
    answer(CO_VERIFY, CA_LOCKED, -1);
    T_EQ_INT(C.notice, NT_CARD_LOCKED);
}

T_TEST(each_new_pin_rule_has_its_notice)
{
    static const struct { const char *pin; core_notice n; } rows[] = {
        { "123456", NT_PIN_IS_INITIAL }, { "482915", NT_PIN_SAME_AS_OLD },
        { "777777", NT_PIN_TOO_SIMPLE }, { "654321", NT_PIN_TOO_SIMPLE },
        { "345678", NT_PIN_TOO_SIMPLE }, { "58203", NT_PIN_WRONG_LENGTH },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        reach(ST_ENTER_NEW_PIN, false);
        type(rows[i].pin);
        simple(EV_OK);
        T_EQ_INT(C.state, ST_ENTER_NEW_PIN);
        T_EQ_STR(core_notice_name(C.notice), core_notice_name(rows[i].n));
        T_EQ_INT(C.entry_len, rows[i].n == NT_PIN_WRONG_LENGTH ? 5 : 0);
    }
    /* a refusal's notice goes once the person types again */
    type("1");
    T_EQ_INT(C.notice, NT_NONE);
}

T_TEST(extra_digits_are_ignored_and_delete_works)
{
    reach(ST_ENTER_OLD_PIN, false);
    type("12345678");
    T_EQ_INT(C.entry_len, 6);
    T_EQ_STR(C.entry, "123456");
    simple(EV_DELETE);
    simple(EV_DELETE);
    T_EQ_INT(C.entry_len, 4);
    T_EQ_STR(C.entry, "1234");
    T_EQ_INT(C.entry[4], 0);
    for (int i = 0; i < 10; i++)
        simple(EV_DELETE);
    T_EQ_INT(C.entry_len, 0);
    simple(EV_OK);
    T_EQ_INT(C.notice, NT_PIN_WRONG_LENGTH);
    T_EQ_INT(FX.n, 0);
}

T_TEST(mismatch_starts_the_new_pin_again)
{
    reach(ST_CONFIRM_NEW_PIN, false);
    type("582093");
    simple(EV_OK);
    T_EQ_INT(C.state, ST_ENTER_NEW_PIN);
    T_EQ_INT(C.notice, NT_PINS_DIFFER);
    T_CHECK(all_zero(C.new_pin, sizeof C.new_pin));
    T_EQ_STR(C.old_pin, "482915"); /* still needed for the change */
    T_CHECK(!has_fx(FX_CARD_CHANGE));
}

T_TEST(change_outcomes_resolve_the_intent_truthfully)
{
    static const struct { core_card_answer a; core_state s; core_notice n; int res; } rows[] = {
        { CA_OK, ST_SUCCESS, NT_NONE, RES_CHANGED },
        { CA_REMOVED, ST_IDLE, NT_CHANGE_UNKNOWN, RES_UNKNOWN },
        { CA_GARBAGE, ST_ERROR, NT_CHANGE_UNKNOWN, RES_UNKNOWN },
        { CA_IO, ST_ERROR, NT_CHANGE_UNKNOWN, RES_UNKNOWN },
        { CA_REFUSED, ST_ERROR, NT_CARD_ERROR, RES_DISCARD },
        { CA_WRONG_PIN, ST_ENTER_OLD_PIN, NT_WRONG_PIN, RES_DISCARD },
        { CA_BLOCKED, ST_CARD_BLOCKED, NT_NONE, RES_DISCARD },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        reach(ST_CHANGING, false);
        T_CHECK(C.intent_open);
        answer(CO_CHANGE, rows[i].a, rows[i].a == CA_BLOCKED ? 0 : 1);
        T_EQ_STR(core_state_name(C.state), core_state_name(rows[i].s));
        T_EQ_INT(C.notice, rows[i].n);
        T_EQ_INT(FX.fx[0].type, FX_RESOLVE_INTENT);
        T_EQ_INT(FX.fx[0].resolution, rows[i].res);
        T_CHECK(!C.intent_open);
    }
    /* the card's "removed" answer first, the reader's event second: the
     * notice the answer set must survive the event */
    reach(ST_CHANGING, false);
    answer(CO_CHANGE, CA_REMOVED, -1);
    simple(EV_CARD_OUT);
    T_EQ_INT(C.state, ST_IDLE);
    T_EQ_INT(C.notice, NT_CHANGE_UNKNOWN);
    T_EQ_INT(FX.n, 0);
    /* the card pulled during the change: unknown, once */
    reach(ST_CHANGING, false);
    simple(EV_CARD_OUT);
    T_EQ_INT(C.state, ST_IDLE);
    T_EQ_INT(C.notice, NT_CHANGE_UNKNOWN);
    T_EQ_INT(FX.n, 1);
    T_EQ_INT(FX.fx[0].resolution, RES_UNKNOWN);
    answer(CO_CHANGE, CA_OK, -1); /* the late answer of a card that is gone */
    T_EQ_INT(FX.n, 0);
    T_EQ_INT(C.state, ST_IDLE);
    /* the card never answers: unknown after the card's patience, once */
    reach(ST_CHANGING, false);
    tick_at(NOW + 20000);
    T_EQ_INT(C.state, ST_ERROR);
    T_EQ_INT(FX.fx[0].resolution, RES_UNKNOWN);
    answer(CO_CHANGE, CA_OK, -1);
    T_EQ_INT(FX.n, 0);
}

T_TEST(timeout_warns_then_carries_on_then_expires)
{
    reach(ST_ENTER_NEW_PIN, false);
    type("58");
    tick_at(NOW + 29999);
    T_EQ_INT(C.notice, NT_ON_INITIAL_PIN == C.notice ? NT_ON_INITIAL_PIN : NT_NONE);
    T_CHECK(C.notice != NT_TIMEOUT_WARNING);
    tick_at(NOW + 1);
    T_EQ_INT(C.notice, NT_TIMEOUT_WARNING);
    T_EQ_INT(core_warning_seconds_left(&C), 15);
    T_EQ_INT(core_next_deadline(&C), NOW + 15000);
    tick_at(NOW + 4500);
    T_EQ_INT(core_warning_seconds_left(&C), 11);
    simple(EV_CONTINUE);
    T_EQ_INT(C.notice, NT_NONE);
    T_EQ_INT(C.entry_len, 2); /* carrying on keeps what was typed */
    T_EQ_INT(core_next_deadline(&C), NOW + 30000);
    tick_at(NOW + 30000);
    T_EQ_INT(C.notice, NT_TIMEOUT_WARNING);
    tick_at(NOW + 15000);
    T_EQ_INT(C.state, ST_TAKE_CARD);
    T_EQ_INT(C.notice, NT_TIMED_OUT);
    T_CHECK(all_zero(C.entry, sizeof C.entry));
    T_CHECK(all_zero(C.old_pin, sizeof C.old_pin));
    simple(EV_CARD_OUT);
    T_EQ_INT(C.state, ST_IDLE);
}

T_TEST(a_touch_during_the_warning_counts_as_carrying_on)
{
    reach(ST_ENTER_OLD_PIN, false);
    tick_at(NOW + 30000);
    T_EQ_INT(C.notice, NT_TIMEOUT_WARNING);
    digit(4);
    T_EQ_INT(C.notice, NT_NONE);
    T_EQ_INT(C.entry_len, 1);
    tick_at(NOW + 15000); /* the old warning deadline no longer counts */
    T_EQ_INT(C.state, ST_ENTER_OLD_PIN);
}

T_TEST(bureau_verdicts_and_offline_policy)
{
    static const struct { core_bureau_status b; core_notice n; } rows[] = {
        { BS_LOST, NT_CARD_LOST }, { BS_FROZEN, NT_CARD_FROZEN },
        { BS_CANCELLED, NT_CARD_CANCELLED }, { BS_UNKNOWN, NT_CARD_UNKNOWN },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        reach(ST_READING_BUREAU, false);
        bureau(rows[i].b);
        T_EQ_INT(C.state, ST_CARD_REJECTED);
        T_EQ_INT(C.notice, rows[i].n);
    }
    reach(ST_READING_BUREAU, false);
    tick_at(NOW + 3000); /* no answer in time, policy allow: go on */
    T_EQ_INT(C.state, ST_ENTER_OLD_PIN);
    T_CHECK(C.bureau_offline);
    bureau(BS_LOST); /* too late to count */
    T_EQ_INT(C.state, ST_ENTER_OLD_PIN);
    reach(ST_READING_BUREAU, true);
    tick_at(NOW + 3000);
    T_EQ_INT(C.state, ST_OUT_OF_SERVICE);
    T_EQ_INT(C.notice, NT_BUREAU_UNREACHABLE);
    reach(ST_READING_BUREAU, true);
    bureau(BS_UNREACHABLE);
    T_EQ_INT(C.state, ST_OUT_OF_SERVICE);
    simple(EV_CARD_OUT);
    T_EQ_INT(C.state, ST_IDLE);
}

T_TEST(card_read_failures)
{
    static const struct { core_card_answer a; core_state s; core_notice n; } rows[] = {
        { CA_EXPIRED, ST_CARD_REJECTED, NT_CARD_EXPIRED },
        { CA_UNREADABLE, ST_CARD_REJECTED, NT_CARD_UNREADABLE },
        { CA_GARBAGE, ST_CARD_REJECTED, NT_CARD_UNREADABLE },
        { CA_LOCKED, ST_CARD_BLOCKED, NT_CARD_LOCKED },
        { CA_REMOVED, ST_IDLE, NT_CARD_REMOVED },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        reach(ST_READING_CARD, false);
        answer(CO_READ, rows[i].a, -1);
        T_EQ_INT(C.state, rows[i].s);
        T_EQ_INT(C.notice, rows[i].n);
        T_CHECK(!has_fx(FX_BUREAU_ASK));
    }
}

T_TEST(card_pulled_in_every_state_goes_idle_and_wipes)
{
    for (int s = 0; s < N_ROWS; s++) {
        reach(s, s == ST_OUT_OF_SERVICE);
        if (core_state_has_keypad(C.state))
            type("12");
        simple(EV_CARD_OUT);
        if (s == ST_SERVICE_CODE || s == ST_SERVICE) {
            /* A technician at work: the screen stays; no PIN is about. */
            T_EQ_INT(C.state, s);
            T_CHECK(!C.card_present);
            continue;
        }
        T_EQ_INT(C.state, ST_IDLE);
        T_CHECK(all_zero(C.entry, sizeof C.entry));
        T_CHECK(all_zero(C.old_pin, sizeof C.old_pin));
        T_CHECK(all_zero(C.new_pin, sizeof C.new_pin));
        T_CHECK(!C.card_present);
    }
    /* "card removed" shows on IDLE for a while, then goes */
    reach(ST_ENTER_OLD_PIN, false);
    simple(EV_CARD_OUT);
    T_EQ_INT(C.notice, NT_CARD_REMOVED);
    tick_at(NOW + 10000);
    T_EQ_INT(C.notice, NT_NONE);
    T_EQ_INT(core_next_deadline(&C), 0);
}

T_TEST(stale_answers_from_an_earlier_card_are_ignored)
{
    unsigned old_gen;
    reach(ST_VERIFYING, false);
    old_gen = C.gen;
    simple(EV_CARD_OUT);
    simple(EV_CARD_IN);
    ev((core_event){ .type = EV_CARD_ANSWER, .gen = old_gen, .op = CO_READ, .answer = CA_OK,
                     .card_number = "B99999999" });
    T_EQ_INT(C.state, ST_READING_CARD);
    T_EQ_INT(FX.n, 0);
    ev((core_event){ .type = EV_BUREAU_ANSWER, .gen = old_gen, .bureau = BS_ACTIVE });
    T_EQ_INT(C.state, ST_READING_CARD);
}

T_TEST(scramble_asks_for_a_new_keypad_at_each_entry)
{
    core_config cfg = test_cfg();
    unsigned g;
    cfg.scramble = true;
    start(cfg);
    simple(EV_CARD_IN);
    answer(CO_READ, CA_OK, -1);
    g = C.entry_gen;
    bureau(BS_ACTIVE);
    T_CHECK(has_fx(FX_SHUFFLE_KEYPAD));
    T_EQ_INT(C.entry_gen, g + 1);
    type("482915");
    simple(EV_OK);
    answer(CO_VERIFY, CA_WRONG_PIN, 2);
    T_CHECK(has_fx(FX_SHUFFLE_KEYPAD)); /* back for another try: new keypad */
    type("4");
    T_CHECK(!has_fx(FX_SHUFFLE_KEYPAD)); /* not on every digit */
    simple(EV_DELETE);
    type("482915");
    simple(EV_OK);
    answer(CO_VERIFY, CA_OK, -1);
    T_CHECK(has_fx(FX_SHUFFLE_KEYPAD));
    type("582039");
    simple(EV_OK);
    T_CHECK(has_fx(FX_SHUFFLE_KEYPAD));
}

T_TEST(record_failure_stops_the_change)
{
    reach(ST_CHANGING, false);
    simple(EV_RECORD_FAILED);
    T_EQ_INT(C.state, ST_OUT_OF_SERVICE);
    T_EQ_INT(C.notice, NT_STORAGE_FAILED);
    T_CHECK(!C.intent_open);
    T_CHECK(all_zero(C.old_pin, sizeof C.old_pin));
    answer(CO_CHANGE, CA_OK, -1);
    T_EQ_INT(C.state, ST_OUT_OF_SERVICE);
}

T_TEST(reader_lost_and_back)
{
    reach(ST_CHANGING, false);
    simple(EV_SERVICE_DOWN);
    T_EQ_INT(C.state, ST_OUT_OF_SERVICE);
    T_EQ_INT(C.notice, NT_READER_UNAVAILABLE);
    T_EQ_INT(FX.fx[0].type, FX_RESOLVE_INTENT);
    T_EQ_INT(FX.fx[0].resolution, RES_UNKNOWN); /* the change may have reached the card */
    T_CHECK(all_zero(C.old_pin, sizeof C.old_pin));
    simple(EV_CARD_OUT);
    T_EQ_INT(C.state, ST_OUT_OF_SERVICE); /* still cannot serve */
    simple(EV_CARD_IN);
    T_EQ_INT(C.state, ST_OUT_OF_SERVICE);
    T_EQ_INT(FX.n, 0);
    simple(EV_SERVICE_UP);
    T_EQ_INT(C.state, ST_IDLE);
    T_EQ_INT(C.notice, NT_NONE);
    simple(EV_CARD_IN);
    T_EQ_INT(C.state, ST_READING_CARD);
    /* back up while the bureau's refusal is on screen: that screen stays */
    reach(ST_OUT_OF_SERVICE, true);
    simple(EV_SERVICE_UP);
    T_EQ_INT(C.state, ST_OUT_OF_SERVICE);
    T_EQ_INT(C.notice, NT_BUREAU_UNREACHABLE);
}

T_TEST(storage_down_and_back)
{
    /* Idle: out of service at once; a card is not taken. */
    reach(ST_IDLE, false);
    simple(EV_STORAGE_DOWN);
    T_EQ_INT(C.state, ST_OUT_OF_SERVICE);
    T_EQ_INT(C.notice, NT_STORAGE_DOWN);
    simple(EV_CARD_IN);
    T_EQ_INT(C.state, ST_OUT_OF_SERVICE);
    T_EQ_INT(FX.n, 0);
    simple(EV_CARD_OUT);
    T_EQ_INT(C.state, ST_OUT_OF_SERVICE);
    T_EQ_INT(C.notice, NT_STORAGE_DOWN);
    simple(EV_STORAGE_UP);
    T_EQ_INT(C.state, ST_IDLE);
    T_EQ_INT(C.notice, NT_NONE);
    simple(EV_CARD_IN);
    T_EQ_INT(C.state, ST_READING_CARD);

    /* Typing the new PIN: stopped before the intent, PINs wiped. */
    reach(ST_CONFIRM_NEW_PIN, false);
    simple(EV_STORAGE_DOWN);
    T_EQ_INT(C.state, ST_OUT_OF_SERVICE);
    T_EQ_INT(C.notice, NT_STORAGE_DOWN);
    T_CHECK(all_zero(C.old_pin, sizeof C.old_pin));
    T_CHECK(all_zero(C.new_pin, sizeof C.new_pin));
    for (int i = 0; i < FX.n; i++)
        T_CHECK(FX.fx[i].type != FX_RECORD_INTENT && FX.fx[i].type != FX_CARD_CHANGE);

    /* Verifying: the card's answer is still carried out (a block is
     * recorded), but the journey goes no further than that. */
    reach(ST_VERIFYING, false);
    simple(EV_STORAGE_DOWN);
    T_EQ_INT(C.state, ST_VERIFYING);
    answer(CO_VERIFY, CA_OK, -1);
    T_EQ_INT(C.state, ST_OUT_OF_SERVICE);
    T_EQ_INT(C.notice, NT_STORAGE_DOWN);
    T_CHECK(all_zero(C.old_pin, sizeof C.old_pin));
    reach(ST_VERIFYING, false);
    simple(EV_STORAGE_DOWN);
    answer(CO_VERIFY, CA_BLOCKED, 0);
    T_EQ_INT(C.state, ST_CARD_BLOCKED);
    T_EQ_INT(FX.fx[0].type, FX_RECORD_BLOCKED);

    /* A change under way finishes: the citizen sees the outcome; the end
     * of the journey is out of service until the disk is back. */
    reach(ST_CHANGING, false);
    simple(EV_STORAGE_DOWN);
    T_EQ_INT(C.state, ST_CHANGING);
    answer(CO_CHANGE, CA_OK, -1);
    T_EQ_INT(C.state, ST_SUCCESS);
    simple(EV_CARD_OUT);
    T_EQ_INT(C.state, ST_OUT_OF_SERVICE);
    T_EQ_INT(C.notice, NT_STORAGE_DOWN);
    T_CHECK(!C.card_present);
    T_CHECK(all_zero(C.card_number, sizeof C.card_number));

    /* A change whose answer was lost when the card was pulled: the citizen
     * is told so first (the change may have happened); then out of service. */
    reach(ST_CHANGING, false);
    simple(EV_STORAGE_DOWN);
    simple(EV_CARD_OUT);
    T_EQ_INT(C.state, ST_IDLE);
    T_EQ_INT(C.notice, NT_CHANGE_UNKNOWN);
    simple(EV_STORAGE_UP);
    simple(EV_STORAGE_DOWN);
    T_EQ_INT(C.notice, NT_CHANGE_UNKNOWN); /* still said */
    simple(EV_CARD_IN);                    /* but no new journey */
    T_EQ_INT(C.state, ST_OUT_OF_SERVICE);
    T_EQ_INT(C.notice, NT_STORAGE_DOWN);
    T_EQ_INT(FX.n, 0);
    reach(ST_CHANGING, false);
    simple(EV_STORAGE_DOWN);
    simple(EV_CARD_OUT);
    tick_at(NOW + 29999); /* "change unknown" waits its own, longer while */
    T_EQ_INT(C.notice, NT_CHANGE_UNKNOWN);
    tick_at(NOW + 1);
    T_EQ_INT(C.state, ST_OUT_OF_SERVICE);
    /* ... or until the citizen taps it away (btn.done) */
    reach(ST_CHANGING, false);
    simple(EV_STORAGE_DOWN);
    simple(EV_CARD_OUT);
    simple(EV_CONTINUE);
    T_EQ_INT(C.state, ST_OUT_OF_SERVICE);
    T_EQ_INT(C.notice, NT_STORAGE_DOWN);
    T_EQ_INT(C.notice, NT_STORAGE_DOWN);

    /* The intent could not be written: no change, and the screen says so
     * (storage_failed: "not changed"); the card out, out of service. */
    reach(ST_CONFIRM_NEW_PIN, false);
    type("582039");
    simple(EV_OK);
    T_EQ_INT(FX.fx[0].type, FX_RECORD_INTENT);
    simple(EV_RECORD_FAILED);
    simple(EV_STORAGE_DOWN);
    T_EQ_INT(C.state, ST_OUT_OF_SERVICE);
    T_EQ_INT(C.notice, NT_STORAGE_FAILED);
    simple(EV_STORAGE_UP);
    T_EQ_INT(C.notice, NT_STORAGE_FAILED); /* the card is still in: it is asked back */
    simple(EV_STORAGE_DOWN);
    simple(EV_CARD_OUT);
    T_EQ_INT(C.notice, NT_STORAGE_DOWN);

    /* With the reader gone as well, the reader is what the screen says;
     * when it returns, the disk is still the reason. */
    reach(ST_IDLE, false);
    simple(EV_STORAGE_DOWN);
    simple(EV_SERVICE_DOWN);
    T_EQ_INT(C.notice, NT_READER_UNAVAILABLE);
    simple(EV_STORAGE_UP);
    T_EQ_INT(C.notice, NT_READER_UNAVAILABLE);
    simple(EV_STORAGE_DOWN);
    simple(EV_SERVICE_UP);
    T_EQ_INT(C.state, ST_OUT_OF_SERVICE);
    T_EQ_INT(C.notice, NT_STORAGE_DOWN);
    simple(EV_STORAGE_UP);
    T_EQ_INT(C.state, ST_IDLE);
}

T_TEST(service_screen)
{
    /* Not configured: the gesture does nothing. */
    core_config cfg = test_cfg();
    cfg.service_enabled = false;
    start(cfg);
    simple(EV_SERVICE_GESTURE);
    T_EQ_INT(C.state, ST_IDLE);

    /* Not during a journey. */
    reach(ST_ENTER_OLD_PIN, false);
    simple(EV_SERVICE_GESTURE);
    T_EQ_INT(C.state, ST_ENTER_OLD_PIN);

    /* The code: too short is refused without a check; typed digits go to
     * the caller in FX_CHECK_CODE and leave the core at once. */
    reach(ST_IDLE, false);
    simple(EV_SERVICE_GESTURE);
    T_EQ_INT(C.state, ST_SERVICE_CODE);
    T_CHECK(core_can_cancel(&C));
    type("123");
    simple(EV_OK);
    T_EQ_INT(C.notice, NT_WRONG_CODE);
    T_EQ_INT(FX.n, 0);
    T_EQ_INT(C.entry_len, 0);
    type("12345678901234567"); /* one more than fits */
    T_EQ_INT(C.entry_len, PIN_MAX);
    for (int i = 0; i < PIN_MAX; i++)
        simple(EV_DELETE);
    type("2468");
    simple(EV_OK);
    T_EQ_INT(FX.n, 1);
    T_EQ_INT(FX.fx[0].type, FX_CHECK_CODE);
    T_EQ_STR(FX.fx[0].pin_a, "2468");
    T_CHECK(all_zero(C.entry, sizeof C.entry));
    core_effects_wipe(&FX);
    T_CHECK(all_zero(FX.fx[0].pin_a, sizeof FX.fx[0].pin_a));

    /* Wrong, wrong, right: the count resets; the screen opens. */
    verdict(false);
    T_EQ_INT(C.state, ST_SERVICE_CODE);
    T_EQ_INT(C.notice, NT_WRONG_CODE);
    code(false);
    code(true);
    T_EQ_INT(C.state, ST_SERVICE);
    T_EQ_INT(FX.fx[0].type, FX_SERVICE_OPEN);
    simple(EV_REQUEUE);
    T_EQ_INT(FX.n, 1);
    T_EQ_INT(FX.fx[0].type, FX_REQUEUE_DEAD);
    /* A card comes and goes: no journey starts. */
    simple(EV_CARD_IN);
    T_EQ_INT(C.state, ST_SERVICE);
    T_EQ_INT(FX.n, 0);
    simple(EV_CARD_OUT);

    /* Untouched for the idle time: it leaves by itself; a touch restarts
     * the count. */
    tick_at(NOW + 59000);
    T_EQ_INT(C.state, ST_SERVICE);
    simple(EV_REQUEUE);
    tick_at(NOW + 59000);
    T_EQ_INT(C.state, ST_SERVICE);
    tick_at(NOW + 1000);
    T_EQ_INT(C.state, ST_IDLE);

    /* Three wrong codes: back, and the gesture is dead for five minutes. */
    simple(EV_SERVICE_GESTURE);
    for (int i = 0; i < CORE_CODE_TRIES; i++)
        code(false);
    T_EQ_INT(C.state, ST_IDLE);
    simple(EV_SERVICE_GESTURE);
    T_EQ_INT(C.state, ST_IDLE);
    tick_at(NOW + CORE_CODE_LOCKOUT_MS - 1);
    simple(EV_SERVICE_GESTURE);
    T_EQ_INT(C.state, ST_IDLE);
    tick_at(NOW + 1);
    simple(EV_SERVICE_GESTURE);
    T_EQ_INT(C.state, ST_SERVICE_CODE);
    simple(EV_CANCEL);
    T_EQ_INT(C.state, ST_IDLE);

    /* Two wrong codes long ago do not make today's first typo the third. */
    simple(EV_SERVICE_GESTURE);
    code(false);
    code(false);
    simple(EV_CANCEL);
    tick_at(NOW + CORE_CODE_LOCKOUT_MS);
    simple(EV_SERVICE_GESTURE);
    code(false);
    T_EQ_INT(C.state, ST_SERVICE_CODE);
    code(false);
    T_EQ_INT(C.state, ST_SERVICE_CODE);
    code(false);
    T_EQ_INT(C.state, ST_IDLE); /* three in a row today: locked */

    /* From out of service (reader gone): it stays gone while the technician
     * looks, and leaving shows it again; a full disk likewise. */
    reach(ST_IDLE, false);
    simple(EV_SERVICE_DOWN);
    simple(EV_SERVICE_GESTURE);
    T_EQ_INT(C.state, ST_SERVICE_CODE);
    code(true);
    simple(EV_STORAGE_DOWN);
    T_EQ_INT(C.state, ST_SERVICE);
    simple(EV_CANCEL);
    T_EQ_INT(C.state, ST_OUT_OF_SERVICE);
    T_EQ_INT(C.notice, NT_READER_UNAVAILABLE);
    simple(EV_SERVICE_UP);
    T_EQ_INT(C.state, ST_OUT_OF_SERVICE);
    T_EQ_INT(C.notice, NT_STORAGE_DOWN);
}

T_TEST(code_verdicts_are_for_the_code_in_check_only)
{
    core_config cfg = test_cfg();

    start(cfg);
    simple(EV_SERVICE_GESTURE);
    /* No code in check: a verdict from nowhere opens nothing. */
    ev((core_event){ .type = EV_CODE_OK, .gen = C.code_gen });
    T_EQ_INT(C.state, ST_SERVICE_CODE);
    type("2468");
    simple(EV_OK);
    T_CHECK(C.code_checking);
    T_EQ_INT(FX.fx[0].gen, C.code_gen);
    /* While it is checked, the keypad waits: no second code, no digits. */
    type("1357");
    simple(EV_OK);
    T_EQ_INT(FX.n, 0);
    T_EQ_INT(C.entry_len, 0);
    /* A verdict for another code is stale. */
    ev((core_event){ .type = EV_CODE_OK, .gen = C.code_gen - 1 });
    T_EQ_INT(C.state, ST_SERVICE_CODE);
    T_CHECK(C.code_checking);
    verdict(false);
    T_CHECK(!C.code_checking);
    T_EQ_INT(C.notice, NT_WRONG_CODE);
    /* Left while a code was in check, back again: its late verdict is stale. */
    type("2468");
    simple(EV_OK);
    simple(EV_CANCEL);
    T_EQ_INT(C.state, ST_IDLE);
    unsigned late = C.code_gen;
    simple(EV_SERVICE_GESTURE);
    T_CHECK(!C.code_checking);
    ev((core_event){ .type = EV_CODE_OK, .gen = late });
    T_EQ_INT(C.state, ST_SERVICE_CODE);
    code(true);
    T_EQ_INT(C.state, ST_SERVICE);
}

T_TEST(language_toggles_anywhere)
{
    reach(ST_SUCCESS, false);
    T_EQ_INT(C.lang, LANG_ZH);
    simple(EV_LANG);
    T_EQ_INT(C.lang, LANG_EN);
    simple(EV_LANG);
    T_EQ_INT(C.lang, LANG_ZH);
}

T_TEST(names_round_trip)
{
    for (int s = 0; s < ST__LAST; s++)
        T_EQ_INT(core_state_from_name(core_state_name((core_state)s)), s);
    T_EQ_INT(core_state_from_name("NOPE"), ST__LAST);
    T_CHECK(core_notice_name(NT_NONE) == NULL);
    for (int n = 1; n < NT__LAST; n++)
        T_CHECK(core_notice_name((core_notice)n) != NULL);
    T_EQ_STR(core_notice_name(NT_TIMEOUT_WARNING), "timeout_warning");
}


/* A reset from the PIN screen: offer, code, challenge, command under an
 * intent with the reset's id, the initial PIN verified by the kiosk, then
 * a change of its own. */
T_TEST(reset_path_emits_effects_in_order)
{
    start(test_cfg());
    simple(EV_CARD_IN);
    answer(CO_READ, CA_OK, -1);
    bureau(BS_ACTIVE);
    simple(EV_FORGOT);
    T_EQ_INT(C.state, ST_RESET_OFFER);
    T_EQ_INT(FX.n, 0);
    simple(EV_RESET);
    T_EQ_INT(C.state, ST_RESET_REQUESTING);
    T_EQ_INT(FX.n, 1);
    T_EQ_INT(FX.fx[0].type, FX_RESET_REQUEST);
    T_EQ_STR(FX.fx[0].card_number, "A12345678");
    T_EQ_INT(core_next_deadline(&C), NOW + 15000);
    reset_answer(false, CR_OK, -1);
    T_EQ_INT(C.state, ST_ENTER_RESET_CODE);
    T_EQ_STR(C.phone, "138****5678");
    T_EQ_STR(C.reset_id, "r-7f3a");
    T_EQ_INT(C.reset_expires_s, 300);
    type("2468109"); /* the seventh digit is not taken */
    T_EQ_INT(C.entry_len, 6);
    simple(EV_OK);
    T_EQ_INT(C.state, ST_RESET_AUTHORIZING);
    T_EQ_INT(FX.n, 1);
    T_EQ_INT(FX.fx[0].type, FX_CARD_CHALLENGE);
    T_CHECK(all_zero(C.entry, sizeof C.entry));
    challenge_ok();
    T_EQ_INT(C.state, ST_RESET_AUTHORIZING);
    T_EQ_INT(FX.n, 1);
    T_EQ_INT(FX.fx[0].type, FX_RESET_AUTHORIZE);
    T_EQ_STR(FX.fx[0].pin_a, "246810");
    T_EQ_STR(FX.fx[0].reset_id, "r-7f3a");
    T_EQ_INT(FX.fx[0].challenge[0], 1);
    T_EQ_INT(FX.fx[0].challenge[7], 8);
    T_CHECK(all_zero(C.reset_code, sizeof C.reset_code)); /* the effect has it now */
    core_effects_wipe(&FX);
    reset_answer(true, CR_OK, -1);
    T_EQ_INT(C.state, ST_RESETTING);
    T_EQ_INT(FX.n, 2);
    T_EQ_INT(FX.fx[0].type, FX_RECORD_INTENT);
    T_EQ_STR(FX.fx[0].reset_id, "r-7f3a");
    T_EQ_STR(FX.fx[0].card_number, "A12345678");
    T_EQ_INT(FX.fx[1].type, FX_CARD_RESET);
    T_EQ_INT(FX.fx[1].apdu_len, 21);
    T_EQ_INT(FX.fx[1].apdu[0], 0x84);
    T_EQ_INT(FX.fx[1].apdu[1], 0x2C);
    answer(CO_RESET, CA_OK, -1);
    T_EQ_INT(C.state, ST_RESETTING);
    T_EQ_INT(FX.n, 2);
    T_EQ_INT(FX.fx[0].type, FX_RESOLVE_INTENT);
    T_EQ_INT(FX.fx[0].resolution, RES_RESET);
    T_EQ_INT(FX.fx[1].type, FX_CARD_VERIFY);
    T_EQ_STR(FX.fx[1].pin_a, "123456");
    answer(CO_VERIFY, CA_OK, -1);
    T_EQ_INT(C.state, ST_ENTER_NEW_PIN);
    T_EQ_INT(C.notice, NT_PIN_WAS_RESET);
    digit(1); /* why a new PIN is asked for stays in view while it is typed */
    T_EQ_INT(C.notice, NT_PIN_WAS_RESET);
    simple(EV_DELETE);
    type("123456"); /* the initial PIN is not a choice */
    simple(EV_OK);
    T_EQ_INT(C.notice, NT_PIN_IS_INITIAL);
    type("582039");
    simple(EV_OK);
    type("582039");
    simple(EV_OK);
    T_EQ_INT(C.state, ST_CHANGING);
    T_EQ_INT(FX.fx[0].type, FX_RECORD_INTENT);
    T_EQ_STR(FX.fx[0].reset_id, ""); /* the change is an event of its own */
    T_EQ_STR(FX.fx[1].pin_a, "123456");
    T_EQ_STR(FX.fx[1].pin_b, "582039");
    answer(CO_CHANGE, CA_OK, -1);
    T_EQ_INT(C.state, ST_SUCCESS);
    simple(EV_CARD_OUT);
    T_CHECK(all_zero(C.reset_id, sizeof C.reset_id));
    T_CHECK(all_zero(C.phone, sizeof C.phone));
}

/* The card blocked by wrong PINs offers the reset; one locked for good does
 * not; cancel on the offer goes back where it came from. */
T_TEST(reset_from_a_blocked_card_and_back)
{
    reach(ST_CARD_BLOCKED, false);
    simple(EV_FORGOT);
    T_EQ_INT(C.state, ST_RESET_OFFER);
    simple(EV_CANCEL);
    T_EQ_INT(C.state, ST_CARD_BLOCKED);
    reach(ST_ENTER_OLD_PIN, false);
    simple(EV_FORGOT);
    simple(EV_CANCEL);
    T_EQ_INT(C.state, ST_ENTER_OLD_PIN);
    /* 93 03: the card must be replaced; no reset offered. */
    reach(ST_ENTER_OLD_PIN, false);
    type("482915");
    simple(EV_OK);
    answer(CO_VERIFY, CA_LOCKED, -1);
    T_EQ_INT(C.state, ST_CARD_BLOCKED);
    T_EQ_INT(C.notice, NT_CARD_LOCKED);
    simple(EV_FORGOT);
    T_EQ_INT(C.state, ST_CARD_BLOCKED);
    /* No record can be written: no reset starts. */
    reach(ST_ENTER_OLD_PIN, false);
    C.storage_down = true;
    simple(EV_FORGOT);
    T_EQ_INT(C.state, ST_ENTER_OLD_PIN);
}

T_TEST(wrong_code_then_right)
{
    reach(ST_AUTH_BUREAU, false);
    reset_answer(true, CR_CODE_INVALID, 2);
    T_EQ_INT(C.state, ST_ENTER_RESET_CODE);
    T_EQ_INT(C.notice, NT_CODE_WRONG);
    T_EQ_INT(C.attempts_left, 2);
    digit(1); /* the notice stays while the next code is typed */
    T_EQ_INT(C.notice, NT_CODE_WRONG);
    type("35791");
    simple(EV_OK);
    T_EQ_INT(C.state, ST_RESET_AUTHORIZING);
    T_EQ_INT(C.attempts_left, -1);
    challenge_ok();
    T_EQ_STR(FX.fx[0].pin_a, "135791");
    reset_answer(true, CR_OK, -1);
    T_EQ_INT(C.state, ST_RESETTING);
    /* A short code is not sent. */
    reach(ST_ENTER_RESET_CODE, false);
    type("12345");
    simple(EV_OK);
    T_EQ_INT(C.state, ST_ENTER_RESET_CODE);
    T_EQ_INT(C.notice, NT_PIN_WRONG_LENGTH);
    T_EQ_INT(FX.n, 0);
}

/* Every way the bureau says no ends on a screen that says what to do. */
T_TEST(reset_refusals_by_the_bureau)
{
    static const struct { bool authorize; core_reset_answer r; core_state st; core_notice nt; } rows[] = {
        { false, CR_NO_PHONE, ST_ERROR, NT_NO_PHONE_ON_FILE },
        { false, CR_NOT_ACTIVE, ST_CARD_REJECTED, NT_CARD_NOT_ACTIVE },
        { false, CR_TOO_MANY, ST_ERROR, NT_TOO_MANY_RESETS },
        { false, CR_CARD_UNKNOWN, ST_CARD_REJECTED, NT_CARD_UNKNOWN },
        { false, CR_UNREACHABLE, ST_ERROR, NT_RESET_UNAVAILABLE },
        { false, CR_VOID, ST_ERROR, NT_RESET_FAILED }, /* not an answer to a request */
        { true, CR_VOID, ST_ERROR, NT_RESET_VOID },
        { true, CR_EXPIRED, ST_ERROR, NT_CODE_EXPIRED },
        { true, CR_NOT_FOUND, ST_ERROR, NT_RESET_FAILED },
        { true, CR_ALREADY_USED, ST_ERROR, NT_RESET_FAILED },
        { true, CR_UNREACHABLE, ST_ERROR, NT_RESET_UNAVAILABLE },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        reach(rows[i].authorize ? ST_AUTH_BUREAU : ST_RESET_REQUESTING, false);
        reset_answer(rows[i].authorize, rows[i].r, -1);
        T_EQ_INT(C.state, rows[i].st);
        T_EQ_INT(C.notice, rows[i].nt);
        T_EQ_INT(FX.n, 0); /* nothing recorded, nothing sent to the card */
        T_CHECK(!C.intent_open);
    }
    /* The answer to a request is not taken as the answer to an authorize. */
    reach(ST_AUTH_BUREAU, false);
    reset_answer(false, CR_OK, -1);
    T_EQ_INT(C.state, ST_RESET_AUTHORIZING);
    /* Nor one for an earlier card. */
    ev((core_event){ .type = EV_RESET_ANSWER, .gen = C.gen - 1, .authorize = true, .reset = CR_OK,
                     .apdu_len = 21 });
    T_EQ_INT(C.state, ST_RESET_AUTHORIZING);
    /* A command that cannot be one is never sent. */
    ev((core_event){ .type = EV_RESET_ANSWER, .gen = C.gen, .authorize = true, .reset = CR_OK,
                     .apdu_len = 3 });
    T_EQ_INT(C.state, ST_ERROR);
    T_EQ_INT(C.notice, NT_RESET_FAILED);
    T_EQ_INT(FX.n, 0);
}

/* The card's answer to the bureau's command decides the record. */
T_TEST(reset_outcomes_resolve_the_intent_truthfully)
{
    static const struct { core_card_answer a; core_resolution res; core_state st; core_notice nt; } rows[] = {
        { CA_REFUSED, RES_DISCARD, ST_ERROR, NT_RESET_REFUSED },
        { CA_LOCKED, RES_DISCARD, ST_CARD_BLOCKED, NT_CARD_LOCKED },
        { CA_GARBAGE, RES_UNKNOWN, ST_ERROR, NT_CHANGE_UNKNOWN },
        { CA_IO, RES_UNKNOWN, ST_ERROR, NT_CHANGE_UNKNOWN },
        { CA_REMOVED, RES_UNKNOWN, ST_IDLE, NT_CHANGE_UNKNOWN },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        reach(ST_RESETTING, false);
        T_CHECK(C.intent_open);
        answer(CO_RESET, rows[i].a, -1);
        T_EQ_INT(C.state, rows[i].st);
        T_EQ_INT(C.notice, rows[i].nt);
        T_EQ_INT(FX.n, 1);
        T_EQ_INT(FX.fx[0].type, FX_RESOLVE_INTENT);
        T_EQ_INT(FX.fx[0].resolution, rows[i].res);
        T_CHECK(!C.intent_open);
    }
    /* Pulled while the command is at the card, or out of time there. */
    reach(ST_RESETTING, false);
    simple(EV_CARD_OUT);
    T_EQ_INT(C.notice, NT_CHANGE_UNKNOWN);
    T_EQ_INT(FX.fx[0].resolution, RES_UNKNOWN);
    reach(ST_RESETTING, false);
    tick_at(NOW + 60000);
    T_EQ_INT(C.state, ST_ERROR);
    T_EQ_INT(C.notice, NT_CHANGE_UNKNOWN);
    T_EQ_INT(FX.fx[0].resolution, RES_UNKNOWN);
    /* The reader gone with the command at the card. */
    reach(ST_RESETTING, false);
    simple(EV_SERVICE_DOWN);
    T_EQ_INT(FX.fx[0].type, FX_RESOLVE_INTENT);
    T_EQ_INT(FX.fx[0].resolution, RES_UNKNOWN);
    /* After the card took it, the record is made: a pull is only a pull. */
    reach(ST_RESET_VERIFY, false);
    T_CHECK(!C.intent_open);
    simple(EV_CARD_OUT);
    T_EQ_INT(C.notice, NT_CARD_REMOVED);
    T_EQ_INT(FX.n, 0);
    T_CHECK(all_zero(C.old_pin, sizeof C.old_pin));
}

/* Every wait is bounded, and the bureau is never asked twice for a code. */
T_TEST(reset_waits_time_out)
{
    reach(ST_RESET_REQUESTING, false);
    simple(EV_RESET); /* asked once: a second tap texts nothing */
    T_EQ_INT(FX.n, 0);
    tick_at(NOW + 14999);
    T_EQ_INT(C.state, ST_RESET_REQUESTING);
    tick_at(NOW + 2);
    T_EQ_INT(C.state, ST_ERROR);
    T_EQ_INT(C.notice, NT_RESET_UNAVAILABLE);
    T_EQ_INT(FX.n, 0);
    reach(ST_RESET_AUTHORIZING, false);
    tick_at(NOW + 60000);
    T_EQ_INT(C.notice, NT_CARD_ERROR);
    T_CHECK(all_zero(C.reset_code, sizeof C.reset_code));
    reach(ST_AUTH_BUREAU, false);
    tick_at(NOW + 60000);
    T_EQ_INT(C.notice, NT_RESET_UNAVAILABLE);
    /* The offer and the code screen warn first, then ask for the card. */
    reach(ST_ENTER_RESET_CODE, false);
    type("24");
    tick_at(NOW + 31000);
    T_EQ_INT(C.notice, NT_TIMEOUT_WARNING);
    tick_at(NOW + 16000);
    T_EQ_INT(C.state, ST_TAKE_CARD);
    T_CHECK(all_zero(C.entry, sizeof C.entry));
    reach(ST_RESET_OFFER, false);
    tick_at(NOW + 31000);
    simple(EV_CONTINUE);
    T_EQ_INT(C.notice, NT_NONE);
    T_EQ_INT(C.state, ST_RESET_OFFER);
}

/* Item 4 of issue 13: "change unknown" after the card was pulled belongs to
 * the citizen who pulled it. IDLE keeps it longer than "card removed"
 * (cfg.unknown_notice_ms), until a tap on btn.done (EV_CONTINUE) or the
 * next card, never into the next journey. */
T_TEST(change_unknown_stays_for_its_citizen_only)
{
    /* Its own while, longer than card_removed's. */
    reach(ST_CHANGING, false);
    simple(EV_CARD_OUT);
    T_EQ_INT(C.state, ST_IDLE);
    T_EQ_INT(C.notice, NT_CHANGE_UNKNOWN);
    T_EQ_INT(core_next_deadline(&C), NOW + 30000);
    tick_at(NOW + 10000); /* card_removed would be gone by now */
    T_EQ_INT(C.notice, NT_CHANGE_UNKNOWN);
    tick_at(NOW + 20000);
    T_EQ_INT(C.state, ST_IDLE);
    T_EQ_INT(C.notice, NT_NONE);
    T_EQ_INT(core_next_deadline(&C), 0);
    /* A tap on its button: read, gone. */
    reach(ST_CHANGING, false);
    simple(EV_CARD_OUT);
    simple(EV_CONTINUE);
    T_EQ_INT(C.state, ST_IDLE);
    T_EQ_INT(C.notice, NT_NONE);
    T_EQ_INT(core_next_deadline(&C), 0);
    T_EQ_INT(FX.n, 0);
    /* The next card: its journey starts clean. */
    reach(ST_CHANGING, false);
    simple(EV_CARD_OUT);
    simple(EV_CARD_IN);
    T_EQ_INT(C.state, ST_READING_CARD);
    T_EQ_INT(C.notice, NT_NONE);
    /* The same for a reset whose command was at the card. */
    reach(ST_RESETTING, false);
    simple(EV_CARD_OUT);
    T_EQ_INT(C.notice, NT_CHANGE_UNKNOWN);
    T_EQ_INT(core_next_deadline(&C), NOW + 30000);
    /* card_removed keeps its short while, and a tap on IDLE without a
     * notice does nothing. */
    reach(ST_ENTER_OLD_PIN, false);
    simple(EV_CARD_OUT);
    T_EQ_INT(C.notice, NT_CARD_REMOVED);
    T_EQ_INT(core_next_deadline(&C), NOW + 10000);
    start(test_cfg());
    simple(EV_CONTINUE);
    T_EQ_INT(C.state, ST_IDLE);
    T_EQ_INT(FX.n, 0);
}

/* Item 6 of issue 13: on every screen that asks for the card back, a card
 * still there after cfg.take_card_ms is reminded (card_left, FX_REMIND_CARD,
 * again each period) and the holder's name is wiped; the screen's own
 * notice stays. Rows: does a tick after the period remind? */
static const bool reminds[N_ROWS] = {
    [ST_CARD_REJECTED] = true, [ST_SUCCESS] = true, [ST_CARD_BLOCKED] = true, [ST_ERROR] = true,
    [ST_OUT_OF_SERVICE] = true, [ST_TAKE_CARD] = true,
};

T_TEST(a_card_left_behind_is_reminded)
{
    for (int s = 0; s < N_ROWS; s++) {
        core_notice n;
        core_state st;
        reach(s, s == ST_OUT_OF_SERVICE);
        st = C.state;
        n = C.notice;
        if (s == ST_SERVICE_CODE || s == ST_SERVICE)
            continue; /* their own idle timer ends them */
        tick_at(NOW + 14999);
        T_CHECK(!C.card_left);
        if (C.state != st)
            continue; /* a state whose own timer came first (keypads, waits) */
        tick_at(NOW + 1);
        if (C.card_left != reminds[s]) {
            fprintf(stderr, "  %s: card_left %d\n", core_state_name(st), C.card_left);
            t_failed_checks++;
        }
        if (!reminds[s])
            continue;
        T_EQ_INT(C.state, st);
        T_EQ_INT(C.notice, n); /* why the card was refused is still said */
        T_EQ_INT(FX.n, 1);
        T_EQ_INT(FX.fx[0].type, FX_REMIND_CARD);
        T_CHECK(all_zero(C.holder, sizeof C.holder));
        T_CHECK(C.card_number[0] != '\0'); /* the masked number stays */
        tick_at(NOW + 15000); /* and again */
        T_EQ_INT(FX.n, 1);
        T_EQ_INT(FX.fx[0].type, FX_REMIND_CARD);
        simple(EV_CARD_OUT);
        T_EQ_INT(C.state, ST_IDLE);
        T_CHECK(!C.card_left);
        T_EQ_INT(core_next_deadline(&C), 0);
    }
    /* Before the period the holder's name is there. */
    reach(ST_SUCCESS, false);
    T_EQ_STR(C.holder, "张*明");
    /* Out of service with no card in (the reader gone): nothing to remind. */
    start(test_cfg());
    simple(EV_SERVICE_DOWN);
    T_EQ_INT(C.state, ST_OUT_OF_SERVICE);
    tick_at(NOW + 60000);
    T_CHECK(!C.card_left);
    T_EQ_INT(FX.n, 0);
    /* Cancelled, then the card is left: TAKE_CARD reminds too, and a new
     * state (the reader gone) forgets the reminder. */
    reach(ST_TAKE_CARD, false);
    tick_at(NOW + 15000);
    T_CHECK(C.card_left);
    simple(EV_SERVICE_DOWN);
    T_CHECK(!C.card_left);
    /* Reminders off (0): never. */
    {
        core_config cfg = test_cfg();
        cfg.take_card_ms = 0;
        start(cfg);
        simple(EV_CARD_IN);
        answer(CO_READ, CA_EXPIRED, -1);
        T_EQ_INT(C.state, ST_CARD_REJECTED);
        T_EQ_INT(core_next_deadline(&C), 0);
    }
}


T_MAIN(T_CASE(change_unknown_stays_for_its_citizen_only), T_CASE(a_card_left_behind_is_reminded),
       T_CASE(every_state_against_every_event), T_CASE(code_verdicts_are_for_the_code_in_check_only), T_CASE(happy_path_emits_effects_in_order),
       T_CASE(wrong_then_right_counts_down), T_CASE(blocked_here_is_recorded_blocked_elsewhere_is_not),
       T_CASE(each_new_pin_rule_has_its_notice), T_CASE(extra_digits_are_ignored_and_delete_works),
       T_CASE(mismatch_starts_the_new_pin_again), T_CASE(change_outcomes_resolve_the_intent_truthfully),
       T_CASE(timeout_warns_then_carries_on_then_expires),
       T_CASE(a_touch_during_the_warning_counts_as_carrying_on),
       T_CASE(bureau_verdicts_and_offline_policy), T_CASE(card_read_failures),
       T_CASE(card_pulled_in_every_state_goes_idle_and_wipes),
       T_CASE(stale_answers_from_an_earlier_card_are_ignored),
       T_CASE(scramble_asks_for_a_new_keypad_at_each_entry),
       T_CASE(record_failure_stops_the_change), T_CASE(reader_lost_and_back),
       T_CASE(storage_down_and_back), T_CASE(service_screen), T_CASE(language_toggles_anywhere),
       T_CASE(names_round_trip), T_CASE(reset_path_emits_effects_in_order),
       T_CASE(reset_from_a_blocked_card_and_back), T_CASE(wrong_code_then_right),
       T_CASE(reset_refusals_by_the_bureau), T_CASE(reset_outcomes_resolve_the_intent_truthfully),
       T_CASE(reset_waits_time_out))
