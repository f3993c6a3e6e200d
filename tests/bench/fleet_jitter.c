/* fleet_jitter.c - does the backoff jitter spread a fleet that comes back
 * from a bureau outage? (issue 4, acceptance 6). A benchmark, not a test.
 *
 * A discrete-event simulation in virtual milliseconds (no sleeping, no
 * threads) of N terminals, each running kiosk-sync's delivery loop as
 * src/syncd/main.c does (deliver_pass / after_verdict), with the REAL
 * backoff_next_ms() behind a seeded PRNG:
 *
 *   - each terminal makes PIN events as a Poisson process (--rate-per-hour,
 *     4 by default: a few PIN changes per terminal per hour), before, during
 *     and after the outage;
 *   - a pass lists the outbox (oldest first) and sends its events back to
 *     back, one round trip (--rtt-ms) each; an empty outbox is looked at
 *     again every IDLE_RESCAN_MS, each terminal at its own phase;
 *   - the bureau answers 503 without Retry-After to every request that
 *     arrives during the outage (--outage-s after --pre-s of normal service)
 *     and 201 to everything after it;
 *   - a 503 waits backoff_next_ms(policy, attempt, no Retry-After) and then
 *     attempt++ (capped at ATTEMPT_MAX); a wait of 0 goes on with the next
 *     listed event, as after_verdict's caller does; a 201 resets attempt.
 *
 * Measured: the requests that ARRIVE at the bureau from the end of the outage
 * until the last event made before that moment is delivered (the recovery
 * period). mean = arrivals / length of the period in s (at least 1 s);
 * peak = the busiest 1 s bin (bins start at the end of the outage); also
 * 10 s bins against 10 x mean. Beside it, "flat": the median busiest 1 s bin
 * when the same number of arrivals falls uniformly at random over the same
 * period, i.e. what Poisson noise alone gives at a perfectly flat rate.
 *
 * Two cases on the same workload (the workload and the jitter draw from
 * separate streams): "jitter", the real full jitter, and "no-jitter", a
 * random source that always answers bound - 1, so every terminal waits its
 * whole window: the counter-factual of a fleet without jitter.
 *
 * Exit status: 0 if the jitter case's worst 1 s peak/mean over the seeds is
 * at most 3.0, 1 if not, 2 on bad options or when memory runs out.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "syncd/backoff.h"

/* Mirrors of src/syncd/main.c's private constants: change them together. */
#define IDLE_RESCAN_MS 1000u
#define ATTEMPT_MAX 64u

#define FJ_TARGET_RATIO 3.0
#define FJ_FLAT_TRIALS 201 /* odd: the median is one trial's figure */
#define FJ_NO_PEAK UINT32_MAX

/* ---- the PRNG: xoshiro256**, seeded through splitmix64 ---- */

typedef struct fj_prng {
    uint64_t s[4];
} fj_prng;

static uint64_t fj_splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Streams of one seed are independent: the jitter draws must not shift the
 * workload, or the two cases would not see the same events. */
static void fj_prng_seed(fj_prng *r, uint64_t seed, uint64_t stream)
{
    uint64_t x = seed * 0x100000001b3ull + stream * 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < 4; i++)
        r->s[i] = fj_splitmix(&x);
}

static uint64_t fj_rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t fj_prng_next(fj_prng *r)
{
    uint64_t *s = r->s;
    uint64_t out = fj_rotl(s[1] * 5u, 7) * 9u;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = fj_rotl(s[3], 45);
    return out;
}

/* A backoff_rand_fn: uniform in [0, bound) without modulo bias (Lemire). */
static bool fj_rand_below(void *ctx, uint32_t bound, uint32_t *out)
{
    fj_prng *r = ctx;
    uint64_t m;
    if (bound == 0)
        return false;
    m = (fj_prng_next(r) >> 32) * (uint64_t)bound;
    if ((uint32_t)m < bound) {
        uint32_t floor = (uint32_t)(0u - bound) % bound;
        while ((uint32_t)m < floor)
            m = (fj_prng_next(r) >> 32) * (uint64_t)bound;
    }
    *out = (uint32_t)(m >> 32);
    return true;
}

/* The counter-factual source: always the top of the range, so
 * backoff_delay_ms() returns the whole window. `ctx` is unused. */
static bool fj_rand_top(void *ctx, uint32_t bound, uint32_t *out)
{
    (void)ctx;
    if (bound == 0)
        return false;
    *out = bound - 1u;
    return true;
}

/* Uniform in (0, 1]: never 0, so its logarithm is finite. */
static double fj_unit(fj_prng *r)
{
    return (double)((fj_prng_next(r) >> 11) + 1u) * (1.0 / 9007199254740992.0);
}

/* ln(u) for u in (0, 1]. Our own, because the benchmark links no libm:
 * halve the range into [0.5, 1], then 2 atanh((u-1)/(u+1)), whose series
 * converges fast there (|z| <= 1/3). */
static double fj_ln(double u)
{
    static const double ln2 = 0.69314718055994530942;
    double k = 0.0, z, z2, term, sum = 0.0;
    while (u < 0.5) {
        u *= 2.0;
        k += 1.0;
    }
    z = (u - 1.0) / (u + 1.0);
    z2 = z * z;
    term = z;
    for (int n = 1; n < 64; n += 2) {
        sum += term / n;
        term *= z2;
    }
    return 2.0 * sum - k * ln2;
}

/* The gap to a Poisson process's next event, in ms (at least 1, so time
 * always moves on). */
static uint64_t fj_exp_gap_ms(fj_prng *r, double mean_ms)
{
    double g = -fj_ln(fj_unit(r)) * mean_ms;
    return g < 1.0 ? 1u : (uint64_t)g;
}

/* ---- options ---- */

typedef struct fj_params {
    uint32_t terminals;
    uint32_t outage_s;
    uint32_t seeds;
    uint32_t pre_s;
    uint32_t rtt_ms;
    uint32_t rate_milli;      /* events per terminal per hour, x1000 */
    bool json;
    bool synced;
} fj_params;

typedef struct fj_num_opt {
    int code;
    const char *name;
    size_t offset;            /* of the uint32_t in fj_params */
    uint32_t min, max;
    bool milli;               /* a decimal with up to 3 places, stored x1000 */
} fj_num_opt;

static const fj_num_opt fj_num_opts[] = {
    { 't', "terminals", offsetof(fj_params, terminals), 1u, 100000u, false },
    { 'o', "outage-s", offsetof(fj_params, outage_s), 0u, 86400u, false },
    { 's', "seeds", offsetof(fj_params, seeds), 1u, 1000u, false },
    { 'p', "pre-s", offsetof(fj_params, pre_s), 0u, 86400u, false },
    { 'r', "rtt-ms", offsetof(fj_params, rtt_ms), 1u, 60000u, false },
    { 'e', "rate-per-hour", offsetof(fj_params, rate_milli), 1u, 3600000u, true },
};

static const char fj_usage[] =
    "Usage: fleet-jitter [OPTION]...\n"
    "Simulates a fleet of kiosk-sync terminals coming back from a bureau outage\n"
    "with the real backoff code and reports the peak arrivals per second at the\n"
    "bureau against the mean. Exit 0 if the jitter keeps the worst peak within\n"
    "3x the mean, 1 if not, 2 on bad options.\n\n"
    "  --terminals N       terminals in the fleet (default 1000, 1..100000)\n"
    "  --outage-s S        length of the outage in s (default 600, 0..86400)\n"
    "  --seeds K           seeds 1..K, one run each (default 5, 1..1000)\n"
    "  --pre-s S           normal service before the outage, s (default 300)\n"
    "  --rtt-ms MS         one request's round trip (default 200, 1..60000)\n"
    "  --rate-per-hour R   PIN events per terminal per hour (default 4;\n"
    "                      up to 3 decimals, 0.001..3600)\n"
    "  --synced            also give every terminal one event at the very start\n"
    "                      of the outage, so the whole fleet fails within 1 s\n"
    "                      (a scenario beside the default one, not instead)\n"
    "  --json              one JSON object on stdout instead of the table\n"
    "  --help              show this and exit\n";

/* "12", "4.5", "0.125" -> x1000 (or x1 when !milli); false on anything else,
 * including overflow, signs, spaces and more than 3 decimals. */
static bool fj_parse_num(const char *s, bool milli, uint64_t *out)
{
    uint64_t v = 0;
    unsigned places = 0;
    bool dot = false, digits = false;
    for (; *s; s++) {
        if (*s == '.' && milli && !dot) {
            dot = true;
            continue;
        }
        if (*s < '0' || *s > '9' || (dot && places == 3) || v > UINT64_MAX / 100u)
            return false;
        v = v * 10u + (uint64_t)(*s - '0');
        digits = true;
        places += dot;
    }
    if (!digits)
        return false;
    for (; milli && places < 3; places++)
        v *= 10u;
    *out = v;
    return true;
}

/* 0 to run, 1 when --help was shown, 2 on a bad option (said on stderr). */
static int fj_parse_args(int argc, char **argv, fj_params *p)
{
    static const struct option longopts[] = {
        { "terminals", required_argument, NULL, 't' },
        { "outage-s", required_argument, NULL, 'o' },
        { "seeds", required_argument, NULL, 's' },
        { "pre-s", required_argument, NULL, 'p' },
        { "rtt-ms", required_argument, NULL, 'r' },
        { "rate-per-hour", required_argument, NULL, 'e' },
        { "json", no_argument, NULL, 'j' },
        { "synced", no_argument, NULL, 'y' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int ch;
    *p = (fj_params){ .terminals = 1000u, .outage_s = 600u, .seeds = 5u, .pre_s = 300u,
                      .rtt_ms = 200u, .rate_milli = 4000u, .json = false };
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        const fj_num_opt *o = NULL;
        uint64_t v;
        if (ch == 'h') {
            fputs(fj_usage, stdout);
            return 1;
        }
        if (ch == 'j' || ch == 'y') {
            *(ch == 'j' ? &p->json : &p->synced) = true;
            continue;
        }
        for (size_t i = 0; i < sizeof fj_num_opts / sizeof fj_num_opts[0]; i++)
            if (fj_num_opts[i].code == ch)
                o = &fj_num_opts[i];
        if (o == NULL) {
            fprintf(stderr, "fleet-jitter: unknown option or missing value: %s\n\n%s",
                    argv[optind - 1], fj_usage);
            return 2;
        }
        if (!fj_parse_num(optarg, o->milli, &v) || v < o->min || v > o->max) {
            fprintf(stderr, "fleet-jitter: --%s: '%s' is not a number in range (see --help)\n",
                    o->name, optarg);
            return 2;
        }
        *(uint32_t *)((char *)p + o->offset) = (uint32_t)v;
    }
    if (optind < argc) {
        fprintf(stderr, "fleet-jitter: unexpected argument: %s\n\n%s", argv[optind], fj_usage);
        return 2;
    }
    return 0;
}

/* ---- the fleet ---- */

typedef struct fj_terminal {
    uint64_t *ev;             /* creation times of its outbox's events, oldest first; owned */
    size_t n_ev, cap_ev;
    fj_prng work;             /* its own workload stream: identical in both cases */
    uint64_t next_event_ms;   /* when its next Poisson event is made */
    uint64_t synced_ms;       /* --synced: its extra event at the outage's start */
    uint64_t next_ms;         /* its next action: a pass, or the answer to a request */
    uint64_t sent_ms;         /* when the request in flight arrived at the bureau */
    size_t pass_n;            /* events of this pass's listing still in ev[] */
    size_t pass_pos;          /* the listed event being sent */
    unsigned attempt;         /* failures in a row, as in main.c */
    bool in_flight;
    bool dirty;               /* still owes an event made before the outage ended */
    bool had_backlog;
} fj_terminal;

typedef struct fj_case {
    const char *name;
    backoff_rand_fn rnd;
} fj_case;

static const fj_case fj_cases[] = {
    { "jitter", fj_rand_below },
    { "no-jitter", fj_rand_top },
};
#define FJ_NCASES (sizeof fj_cases / sizeof fj_cases[0])

typedef struct fj_sim {
    const fj_params *p;
    backoff_policy policy;
    fj_prng jit;              /* the backoff's draws */
    backoff_rand_fn rnd;
    double mean_gap_ms;
    uint64_t t_start;         /* the outage's first ms: 503 from here... */
    uint64_t t_end;           /* ...to here (excluded): 201 before and after */
    fj_terminal *t;           /* p->terminals of them; owned */
    uint32_t *heap;           /* terminal indices, soonest next_ms on top; owned */
    uint64_t *arr;            /* arrival times >= t_end, in time order; owned */
    size_t n_arr, cap_arr;
    size_t n_dirty;
    uint64_t last_old_ms;     /* arrival of the last backlog event delivered */
    uint64_t backlog_events;
    uint32_t backlog_terminals;
} fj_sim;

typedef struct fj_result {
    uint64_t backlog_events;
    uint32_t backlog_terminals;
    uint64_t arrivals;
    double period_s;
    double mean;              /* arrivals per s over the period */
    uint32_t peak1, peak1_at_s, peak10, flat1;
    double ratio1, ratio10, flat_ratio1;
} fj_result;

static bool fj_push(uint64_t **v, size_t *n, size_t *cap, uint64_t x)
{
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2u : 8u;
        uint64_t *nv = ncap > SIZE_MAX / sizeof **v ? NULL : realloc(*v, ncap * sizeof **v);
        if (nv == NULL)
            return false;
        *v = nv;
        *cap = ncap;
    }
    (*v)[(*n)++] = x;
    return true;
}

static bool fj_heap_less(const fj_sim *s, uint32_t a, uint32_t b)
{
    /* Ties go to the lower index: the run must not depend on heap layout. */
    return s->t[a].next_ms < s->t[b].next_ms || (s->t[a].next_ms == s->t[b].next_ms && a < b);
}

static void fj_sift_down(fj_sim *s, size_t i)
{
    size_t n = s->p->terminals;
    for (;;) {
        size_t l = 2u * i + 1u, r = l + 1u, m = i;
        if (l < n && fj_heap_less(s, s->heap[l], s->heap[m]))
            m = l;
        if (r < n && fj_heap_less(s, s->heap[r], s->heap[m]))
            m = r;
        if (m == i)
            return;
        uint32_t x = s->heap[i];
        s->heap[i] = s->heap[m];
        s->heap[m] = x;
        i = m;
    }
}

static void fj_update_dirty(fj_sim *s, fj_terminal *t)
{
    bool dirty = t->next_event_ms < s->t_end || t->synced_ms < s->t_end ||
                 (t->n_ev > 0 && t->ev[0] < s->t_end);
    if (t->dirty && !dirty)
        s->n_dirty--;
    t->dirty = dirty;
}

/* The request for ev[pass_pos] leaves now; it arrives at once and its answer
 * comes one round trip later. */
static bool fj_send(fj_sim *s, fj_terminal *t, uint64_t now)
{
    t->in_flight = true;
    t->sent_ms = now;
    t->next_ms = now + s->p->rtt_ms;
    return now < s->t_end || fj_push(&s->arr, &s->n_arr, &s->cap_arr, now);
}

/* deliver_pass: list the outbox, then send its first event. */
static bool fj_pass(fj_sim *s, fj_terminal *t, uint64_t now)
{
    uint64_t next;
    /* The outbox gets the events made up to now, oldest first. */
    while ((next = t->synced_ms < t->next_event_ms ? t->synced_ms : t->next_event_ms) <= now) {
        if (!fj_push(&t->ev, &t->n_ev, &t->cap_ev, next))
            return false;
        if (next == t->synced_ms)
            t->synced_ms = UINT64_MAX;
        else
            t->next_event_ms += fj_exp_gap_ms(&t->work, s->mean_gap_ms);
    }
    if (t->n_ev == 0) {
        /* Empty passes every IDLE_RESCAN_MS change nothing: jump to the
         * first one that finds the next event. */
        uint64_t ticks = (next - now + IDLE_RESCAN_MS - 1u) / IDLE_RESCAN_MS;
        t->next_ms = now + ticks * IDLE_RESCAN_MS;
        fj_update_dirty(s, t);
        return true;
    }
    t->pass_n = t->n_ev;
    t->pass_pos = 0;
    return fj_send(s, t, now);
}

/* after_verdict, then the rest of deliver_pass. */
static bool fj_answer(fj_sim *s, fj_terminal *t, uint64_t now)
{
    t->in_flight = false;
    if (t->sent_ms < s->t_start || t->sent_ms >= s->t_end) {
        uint64_t made = t->ev[t->pass_pos];
        memmove(&t->ev[t->pass_pos], &t->ev[t->pass_pos + 1u],
                (t->n_ev - t->pass_pos - 1u) * sizeof t->ev[0]);
        t->n_ev--;
        t->pass_n--;
        t->attempt = 0;
        if (made < s->t_end && t->sent_ms >= s->t_end) {
            s->backlog_events++;
            s->backlog_terminals += !t->had_backlog;
            t->had_backlog = true;
            if (t->sent_ms > s->last_old_ms)
                s->last_old_ms = t->sent_ms;
        }
        fj_update_dirty(s, t);
    } else {
        uint32_t wait = backoff_next_ms(&s->policy, t->attempt, BACKOFF_NO_RETRY_AFTER,
                                        s->rnd, &s->jit);
        if (t->attempt < ATTEMPT_MAX)
            t->attempt++;
        if (wait > 0) {
            t->next_ms = now + wait;
            return true;
        }
        t->pass_pos++; /* a wait of 0 goes on with the next listed event */
    }
    if (t->pass_pos < t->pass_n)
        return fj_send(s, t, now);
    t->next_ms = now + IDLE_RESCAN_MS;
    return true;
}

/* The median, over FJ_FLAT_TRIALS, of the busiest 1 s bin when `arrivals`
 * fall uniformly at random over `len_ms`: the peak of a flat rate. */
static bool fj_flat_peak(uint64_t seed, uint64_t arrivals, uint64_t len_ms, uint32_t *out)
{
    size_t nbins = (size_t)(len_ms / 1000u) + 1u;
    uint32_t *bins = calloc(nbins, sizeof *bins);
    uint32_t peaks[FJ_FLAT_TRIALS];
    fj_prng r;
    bool ok = false;
    if (bins == NULL || len_ms >= UINT32_MAX)
        goto out;
    fj_prng_seed(&r, seed, 3u);
    for (int k = 0; k < FJ_FLAT_TRIALS; k++) {
        uint32_t peak = 0;
        memset(bins, 0, nbins * sizeof *bins);
        for (uint64_t a = 0; a < arrivals; a++) {
            uint32_t at;
            fj_rand_below(&r, (uint32_t)len_ms + 1u, &at);
            if (++bins[at / 1000u] > peak)
                peak = bins[at / 1000u];
        }
        /* insertion into the sorted prefix: 201 entries, no qsort needed */
        int j = k;
        for (; j > 0 && peaks[j - 1] > peak; j--)
            peaks[j] = peaks[j - 1];
        peaks[j] = peak;
    }
    *out = peaks[FJ_FLAT_TRIALS / 2];
    ok = true;
out:
    free(bins);
    return ok;
}

/* Bins the arrivals of the recovery period [t_end, last_old_ms]. */
static bool fj_measure(const fj_sim *s, uint64_t seed, fj_result *res)
{
    uint64_t len_ms = s->backlog_events ? s->last_old_ms - s->t_end : 0;
    size_t nb1 = (size_t)(len_ms / 1000u) + 1u, nb10 = (size_t)(len_ms / 10000u) + 1u;
    uint32_t *b1 = calloc(nb1, sizeof *b1), *b10 = calloc(nb10, sizeof *b10);
    bool ok = false;
    if (b1 == NULL || b10 == NULL)
        goto out;
    *res = (fj_result){ .backlog_events = s->backlog_events,
                        .backlog_terminals = s->backlog_terminals,
                        .period_s = (double)len_ms / 1000.0 };
    for (size_t i = 0; i < s->n_arr && s->backlog_events; i++) {
        uint64_t off = s->arr[i] - s->t_end;
        if (s->arr[i] > s->last_old_ms)
            continue; /* after the backlog drained: not the recovery */
        res->arrivals++;
        if (++b1[off / 1000u] > res->peak1) {
            res->peak1 = b1[off / 1000u];
            res->peak1_at_s = (uint32_t)(off / 1000u);
        }
        if (++b10[off / 10000u] > res->peak10)
            res->peak10 = b10[off / 10000u];
    }
    /* A period shorter than a second is counted as one, so a tiny backlog
     * cannot make the mean (and every ratio) blow up. */
    res->mean = (double)res->arrivals / (res->period_s < 1.0 ? 1.0 : res->period_s);
    if (res->arrivals > 0) {
        res->ratio1 = res->peak1 / res->mean;
        res->ratio10 = res->peak10 / (10.0 * res->mean);
        if (!fj_flat_peak(seed, res->arrivals, len_ms, &res->flat1))
            goto out;
        res->flat_ratio1 = res->flat1 / res->mean;
    }
    ok = true;
out:
    free(b1);
    free(b10);
    return ok;
}

/* One run of one case on seed `seed`; false only when memory runs out. */
static bool fj_run(const fj_params *p, uint64_t seed, backoff_rand_fn rnd, fj_result *res)
{
    static const backoff_policy policy = BACKOFF_POLICY_DEFAULT;
    fj_sim s = { .p = p, .policy = policy, .rnd = rnd };
    bool ok = false;

    s.mean_gap_ms = 3600.0 * 1000.0 * 1000.0 / p->rate_milli;
    s.t_start = (uint64_t)p->pre_s * 1000u;
    s.t_end = s.t_start + (uint64_t)p->outage_s * 1000u;
    s.last_old_ms = s.t_end;
    fj_prng_seed(&s.jit, seed, 2u);
    s.t = calloc(p->terminals, sizeof *s.t);
    s.heap = calloc(p->terminals, sizeof *s.heap);
    if (s.t == NULL || s.heap == NULL)
        goto out;
    for (uint32_t i = 0; i < p->terminals; i++) {
        fj_terminal *t = &s.t[i];
        uint32_t phase;
        /* Streams 4, 5, ...: 1..3 are the run's own. */
        fj_prng_seed(&t->work, seed, 4u + (uint64_t)i);
        fj_rand_below(&t->work, IDLE_RESCAN_MS, &phase);
        t->next_ms = phase;
        t->next_event_ms = fj_exp_gap_ms(&t->work, s.mean_gap_ms);
        t->synced_ms = p->synced ? s.t_start : UINT64_MAX;
        t->dirty = t->next_event_ms < s.t_end || t->synced_ms < s.t_end;
        s.n_dirty += t->dirty;
        s.heap[i] = i;
    }
    for (size_t i = p->terminals / 2u + 1u; i-- > 0;)
        fj_sift_down(&s, i);
    /* Every dirty terminal becomes clean within a few backoff caps after the
     * outage (every request then succeeds), so this ends. */
    while (s.n_dirty > 0) {
        fj_terminal *t = &s.t[s.heap[0]];
        uint64_t now = t->next_ms;
        if (!(t->in_flight ? fj_answer(&s, t, now) : fj_pass(&s, t, now)))
            goto out;
        fj_sift_down(&s, 0);
    }
    ok = fj_measure(&s, seed, res);
out:
    for (uint32_t i = 0; s.t != NULL && i < p->terminals; i++)
        free(s.t[i].ev);
    free(s.t);
    free(s.heap);
    free(s.arr);
    return ok;
}

/* ---- the report ---- */

static void fj_print_row(uint32_t seed, const char *name, const fj_result *r)
{
    printf("%4u  %-9s  %7llu/%-5u  %8llu  %8.1f  %6.2f  %6u  %6u  %6.2f  %7u  %6.2f  %5u  %6.2f\n",
           seed, name, (unsigned long long)r->backlog_events, r->backlog_terminals,
           (unsigned long long)r->arrivals, r->period_s, r->mean, r->peak1, r->peak1_at_s,
           r->ratio1, r->peak10, r->ratio10, r->flat1, r->flat_ratio1);
}

static void fj_print_json_row(uint32_t seed, const char *name, const fj_result *r, bool last)
{
    printf("    {\"seed\": %u, \"case\": \"%s\", \"backlog_events\": %llu, "
           "\"backlog_terminals\": %u, \"arrivals\": %llu, \"period_s\": %.3f, "
           "\"mean_per_s\": %.4f, \"peak_1s\": %u, \"peak_1s_at_s\": %u, "
           "\"ratio_1s\": %.4f, \"peak_10s\": %u, \"ratio_10s\": %.4f, "
           "\"flat_peak_1s\": %u, \"flat_ratio_1s\": %.4f}%s\n",
           seed, name, (unsigned long long)r->backlog_events, r->backlog_terminals,
           (unsigned long long)r->arrivals, r->period_s, r->mean, r->peak1, r->peak1_at_s,
           r->ratio1, r->peak10, r->ratio10, r->flat1, r->flat_ratio1, last ? "" : ",");
}

int main(int argc, char **argv)
{
    fj_params p;
    fj_result *res = NULL;
    double worst[FJ_NCASES] = { 0 }, worst10[FJ_NCASES] = { 0 };
    uint32_t worst_seed[FJ_NCASES] = { 0 };
    int rc = fj_parse_args(argc, argv, &p);

    if (rc != 0) {
        rc = rc == 1 ? 0 : 2;
        goto out;
    }
    rc = 2;
    res = calloc((size_t)p.seeds * FJ_NCASES, sizeof *res);
    if (res == NULL)
        goto oom;
    for (uint32_t k = 0; k < p.seeds; k++) {
        for (size_t c = 0; c < FJ_NCASES; c++) {
            fj_result *r = &res[k * FJ_NCASES + c];
            if (!fj_run(&p, k + 1u, fj_cases[c].rnd, r))
                goto oom;
            if (r->ratio1 > worst[c] || worst_seed[c] == 0) {
                worst[c] = r->ratio1;
                worst_seed[c] = k + 1u;
            }
            if (r->ratio10 > worst10[c])
                worst10[c] = r->ratio10;
        }
    }
    rc = worst[0] <= FJ_TARGET_RATIO ? 0 : 1;

    if (p.json) {
        printf("{\n  \"terminals\": %u, \"outage_s\": %u, \"pre_s\": %u, \"rtt_ms\": %u,\n"
               "  \"rate_per_hour\": %.3f, \"synced\": %s, \"seeds\": %u,\n"
               "  \"target_ratio_1s\": %.1f,\n  \"runs\": [\n", p.terminals, p.outage_s, p.pre_s,
               p.rtt_ms, p.rate_milli / 1000.0, p.synced ? "true" : "false", p.seeds,
               FJ_TARGET_RATIO);
        for (uint32_t k = 0; k < p.seeds; k++)
            for (size_t c = 0; c < FJ_NCASES; c++)
                fj_print_json_row(k + 1u, fj_cases[c].name, &res[k * FJ_NCASES + c],
                                  k + 1u == p.seeds && c + 1u == FJ_NCASES);
        printf("  ],\n  \"worst\": {");
        for (size_t c = 0; c < FJ_NCASES; c++)
            printf("%s\"%s\": {\"ratio_1s\": %.4f, \"seed\": %u, \"ratio_10s\": %.4f}",
                   c ? ", " : "", fj_cases[c].name, worst[c], worst_seed[c], worst10[c]);
        printf("},\n  \"pass\": %s\n}\n", rc == 0 ? "true" : "false");
        goto out;
    }
    printf("fleet jitter: %u terminals, %.3g events/terminal/hour, %u s of service, then a\n"
           "%u s outage (503, no Retry-After), then 201; round trip %u ms; policy 1 s base,\n"
           "300 s cap.%s\nRecovery = end of outage .. last event made before it delivered.\n\n",
           p.terminals, p.rate_milli / 1000.0, p.pre_s, p.outage_s, p.rtt_ms,
           p.synced ? "\nSYNCED: every terminal also holds one event when the outage begins." : "");
    printf("seed  case       backlog ev/term  arrivals  period_s  mean/s  peak1s    at_s  "
           "ratio1  peak10s  ratio10  flat1  flat_r\n");
    for (uint32_t k = 0; k < p.seeds; k++)
        for (size_t c = 0; c < FJ_NCASES; c++)
            fj_print_row(k + 1u, fj_cases[c].name, &res[k * FJ_NCASES + c]);
    printf("\n");
    for (size_t c = 0; c < FJ_NCASES; c++)
        printf("worst %-9s  peak/mean: 1 s bins %.2f (seed %u), 10 s bins %.2f\n",
               fj_cases[c].name, worst[c], worst_seed[c], worst10[c]);
    printf("target: jitter 1 s peak/mean <= %.1f: %s\n", FJ_TARGET_RATIO,
           rc == 0 ? "met" : "MISSED");
    printf("(flat1 = median 1 s peak of the same arrivals spread uniformly: Poisson noise alone)\n");
    goto out;
oom:
    fprintf(stderr, "fleet-jitter: out of memory\n");
out:
    free(res);
    return rc;
}
