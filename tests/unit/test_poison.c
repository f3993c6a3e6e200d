/* test_poison.c - the files kiosk-sync steps round: their own backoff, the
 * bound, and forgetting files that left the outbox. Pure: times are given. */
#include "t.h"

#include "syncd/poison.h"

#include <stdint.h>

/* Always the top of the range: the window itself. */
static bool rnd_max(void *ctx, uint32_t bound, uint32_t *out)
{
    (void)ctx;
    *out = bound - 1u;
    return true;
}

static const backoff_policy policy = { 200u, 1000u, 1u, 3600u };

T_TEST(own_backoff_capped_and_bounded)
{
    poison_list l = { 0 };
    poison_entry *e = poison_get(&l, 7, POISON_UNREADABLE, 10000);
    T_CHECK(e != NULL);
    if (!e)
        return;
    T_CHECK(poison_due(e, 10000)); /* new: tried at once */
    /* Windows 200, 400, 800, then the 1000 cap: each from the failure. */
    static const long long want[] = { 10200, 10400, 10800, 11000, 11000 };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        poison_later(e, &policy, 10000, 0, rnd_max, NULL);
        T_EQ_INT(e->next_ms, want[i]);
        T_EQ_INT(e->attempt, i + 1);
    }
    T_CHECK(!poison_due(e, 10999));
    T_CHECK(poison_due(e, 11000));
    /* Never past the bound: the file is set aside on time. */
    poison_later(e, &policy, 10000, 10500, rnd_max, NULL);
    T_EQ_INT(e->next_ms, 10500);
    T_EQ_INT(e->first_ms, 10000);
    /* The same file, the same kind: the same entry, its history kept. */
    T_CHECK(poison_get(&l, 7, POISON_UNREADABLE, 20000) == e);
    T_EQ_INT(e->first_ms, 10000);
    /* Another kind (it was set aside but could not be moved) starts afresh. */
    e = poison_get(&l, 7, POISON_UNMOVABLE, 20000);
    T_EQ_INT(e->first_ms, 20000);
    T_EQ_INT(e->attempt, 0);
    T_EQ_INT(l.n, 1);
    poison_free(&l);
    T_EQ_INT(l.n, 0);
}

T_TEST(counted_forgotten_and_pruned)
{
    poison_list l = { 0 };
    for (uint64_t seq = 1; seq <= 20; seq++)
        T_CHECK(poison_get(&l, seq, seq % 2 ? POISON_UNMOVABLE : POISON_UNREADABLE, 0) != NULL);
    T_EQ_INT(l.n, 20);
    T_EQ_INT(poison_count(&l, POISON_UNMOVABLE), 10);
    T_EQ_INT(poison_count(&l, POISON_UNREADABLE), 10);
    T_EQ_INT(poison_count(&l, POISON_UNDELETABLE), 0);
    poison_forget(&l, 3);
    poison_forget(&l, 99); /* not there: nothing */
    T_CHECK(poison_find(&l, 3) == NULL);
    T_CHECK(poison_find(&l, 4) != NULL);
    T_EQ_INT(poison_count(&l, POISON_UNMOVABLE), 9);
    /* The outbox now holds 2, 5, 6 and 40: the rest left it, whoever moved them. */
    oscan_entry files[] = { { 2, "evt-000000000002.json" }, { 5, "evt-000000000005.json" },
                            { 6, "evt-000000000006.json" }, { 40, "evt-000000000040.json" } };
    poison_keep(&l, files, 4);
    T_EQ_INT(l.n, 3);
    T_CHECK(poison_find(&l, 2) && poison_find(&l, 5) && poison_find(&l, 6));
    T_EQ_INT(poison_count(&l, POISON_UNMOVABLE), 1);
    poison_keep(&l, NULL, 0);
    T_EQ_INT(l.n, 0);
    poison_free(&l);
}

T_MAIN(T_CASE(own_backoff_capped_and_bounded), T_CASE(counted_forgotten_and_pruned))
