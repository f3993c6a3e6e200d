/* poison.c - see poison.h. */
#include "syncd/poison.h"

#include <stdlib.h>

poison_entry *poison_find(poison_list *l, uint64_t seq)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i].seq == seq)
            return &l->v[i];
    return NULL;
}

poison_entry *poison_get(poison_list *l, uint64_t seq, poison_kind kind, long long now_ms)
{
    poison_entry *e = poison_find(l, seq);
    if (e && e->kind == kind)
        return e;
    if (!e) {
        if (l->n == l->room) {
            size_t room = l->room ? l->room * 2 : 8;
            poison_entry *v = realloc(l->v, room * sizeof *v);
            if (!v)
                return NULL;
            l->v = v;
            l->room = room;
        }
        e = &l->v[l->n++];
    }
    *e = (poison_entry){ .seq = seq, .kind = kind, .first_ms = now_ms, .next_ms = now_ms };
    return e;
}

void poison_later(poison_entry *e, const backoff_policy *p, long long now_ms, long long until_ms,
                  backoff_rand_fn rnd, void *ctx)
{
    e->next_ms = now_ms + backoff_delay_ms(p, e->attempt, rnd, ctx);
    if (until_ms && e->next_ms > until_ms)
        e->next_ms = until_ms;
    if (e->attempt < 64u) /* the window is capped long before */
        e->attempt++;
}

bool poison_due(const poison_entry *e, long long now_ms)
{
    return now_ms >= e->next_ms;
}

void poison_forget(poison_list *l, uint64_t seq)
{
    poison_entry *e = poison_find(l, seq);
    if (e)
        *e = l->v[--l->n];
}

static bool among(uint64_t seq, const oscan_entry *files, size_t n)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (files[mid].seq == seq)
            return true;
        if (files[mid].seq < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

void poison_keep(poison_list *l, const oscan_entry *files, size_t n)
{
    for (size_t i = 0; i < l->n;) {
        if (among(l->v[i].seq, files, n))
            i++;
        else
            l->v[i] = l->v[--l->n];
    }
}

long poison_count(const poison_list *l, poison_kind kind)
{
    long k = 0;
    for (size_t i = 0; i < l->n; i++)
        k += l->v[i].kind == kind;
    return k;
}

void poison_free(poison_list *l)
{
    free(l->v);
    *l = (poison_list){ 0 };
}
