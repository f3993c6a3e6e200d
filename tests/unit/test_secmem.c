/* test_secmem.c - the secrets arena and the process hardening. */
#include "t.h"

#include "util/secmem.h"

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

T_TEST(no_arena_no_memory)
{
    T_CHECK(secmem_alloc(16, SECMEM_ALIGN) == NULL);
    int x;
    T_CHECK(!secmem_owns(&x));
    secmem_info si;
    secmem_status(&si);
    T_EQ_INT(si.size, 0);
}

T_TEST(arena_carves_aligned_zeroed_blocks)
{
    long pg = sysconf(_SC_PAGESIZE);
    T_CHECK(secmem_init(10000));
    T_CHECK(!secmem_init(4096)); /* one arena per process */
    secmem_info si;
    secmem_status(&si);
    T_EQ_INT(si.size % (size_t)pg, 0);
    T_CHECK(si.size >= 10000);
    T_CHECK(si.dontdump);
    T_CHECK(si.locked); /* 12 KiB: within any default RLIMIT_MEMLOCK */

    unsigned char *a = secmem_alloc(5, SECMEM_ALIGN);
    unsigned char *b = secmem_alloc(100, SECMEM_ALIGN);
    T_CHECK(a && b);
    T_EQ_INT((uintptr_t)a % SECMEM_ALIGN, 0);
    T_EQ_INT((uintptr_t)b % SECMEM_ALIGN, 0);
    T_CHECK(b >= a + 5);
    for (int i = 0; i < 100; i++)
        T_EQ_INT(b[i], 0);
    memset(b, 0x5a, 100);
    T_CHECK(secmem_owns(a) && secmem_owns(b + 99));
    int local;
    T_CHECK(!secmem_owns(&local));
    unsigned char *p = secmem_alloc(100, (size_t)pg);
    T_CHECK(p != NULL);
    T_EQ_INT((uintptr_t)p % (size_t)pg, 0);

    /* Bad alignment, zero size, and more than is left: refused. */
    T_CHECK(secmem_alloc(8, 3) == NULL);
    T_CHECK(secmem_alloc(8, 0) == NULL);
    T_CHECK(secmem_alloc(0, 8) == NULL);
    secmem_status(&si);
    T_CHECK(secmem_alloc(si.size, 8) == NULL);
    size_t left = si.size - si.used;
    T_CHECK(secmem_alloc(left, 1) != NULL); /* exactly what is left */
    T_CHECK(secmem_alloc(1, 1) == NULL);

    secmem_shutdown();
    secmem_status(&si);
    T_EQ_INT(si.size, 0);
    T_CHECK(!secmem_owns(b));
    T_CHECK(secmem_init(4096)); /* after shutdown, a new one may be made */
    secmem_shutdown();
}

T_TEST(stack_lock_and_no_dumps)
{
    T_CHECK(secmem_lock_stack(64 * 1024));
    secmem_info si;
    secmem_status(&si);
    T_CHECK(si.stack_locked);
    T_EQ_INT(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 1);
    T_CHECK(secmem_no_dumps());
    secmem_status(&si);
    T_EQ_INT(si.dumpable, 0);
}

static void *where_am_i(void *arg)
{
    volatile int local = 0;
    *(bool *)arg = secmem_owns((const void *)&local);
    return NULL;
}

T_TEST(threads_for_secrets_have_their_stack_in_the_arena)
{
    pthread_t t;
    bool in_arena = false;

    T_CHECK(secmem_init(256 * 1024));
    T_EQ_INT(secmem_thread_create(&t, 64 * 1024, where_am_i, &in_arena), 0);
    pthread_join(t, NULL);
    T_CHECK(in_arena);
    /* The arena full: an ordinary stack, and the thread still runs. */
    T_EQ_INT(secmem_thread_create(&t, 256 * 1024, where_am_i, &in_arena), 0);
    pthread_join(t, NULL);
    T_CHECK(!in_arena);
    secmem_shutdown();
}

/* Writes `arg` bytes of its stack below its frame's top: the top of a
 * buffer, downwards (a stack grows down; the buffer's first byte is its
 * deepest). */
static void *use_stack(void *arg)
{
    size_t n = *(size_t *)arg;
    volatile unsigned char buf[8 * 1024];
    for (size_t i = 0; i < n && i < sizeof buf; i++)
        buf[sizeof buf - 1 - i] = (unsigned char)(i | 1);
    return (void *)(uintptr_t)buf[sizeof buf - 1];
}

/* How deep a secret thread's frames went is read from its painted stack:
 * what the integration tests hold the card worker's and the code
 * checker's stack sizes to. */
T_TEST(a_secret_thread_s_stack_says_how_deep_it_went)
{
    pthread_t t;
    size_t a = 2 * 1024, b = 7 * 1024;
    secmem_stack_use st[4];

    T_CHECK(secmem_init(256 * 1024));
    T_EQ_INT(secmem_stacks(st, 4), 0);
    T_EQ_INT(secmem_thread_create(&t, 32 * 1024, use_stack, &a), 0);
    pthread_join(t, NULL);
    T_EQ_INT(secmem_thread_create(&t, 64 * 1024, use_stack, &b), 0);
    pthread_join(t, NULL);
    T_EQ_INT(secmem_stacks(st, 4), 2);
    T_EQ_INT((int)st[0].size, 32 * 1024);
    T_EQ_INT((int)st[1].size, 64 * 1024);
    /* At least the bytes written, not the whole stack, and deeper by what
     * the second wrote more (give or take the frames around). */
    T_CHECK(st[0].used >= a && st[0].used < 32 * 1024);
    T_CHECK(st[1].used >= b && st[1].used < 64 * 1024);
#ifndef SECMEM_ASAN
    /* (ASan may move the buffer to its fake stack, and its start-up frames
     * are the deepest there: 13 KB in both threads.) */
    T_CHECK(st[1].used - st[0].used + 256 >= b - a && st[1].used - st[0].used <= b - a + 256);
#endif
    T_EQ_INT(secmem_stacks(st, 1), 1); /* no more than asked for */
    secmem_shutdown();
    T_EQ_INT(secmem_stacks(st, 4), 0);
}

static void on_fault(int sig)
{
    (void)sig;
    _exit(42);
}

/* Writes the byte just below the calling thread's stack. */
static void *write_below_my_stack(void *arg)
{
    pthread_attr_t a;
    void *addr = NULL;
    size_t size = 0;

    (void)arg;
    if (pthread_getattr_np(pthread_self(), &a) == 0) {
        pthread_attr_getstack(&a, &addr, &size);
        pthread_attr_destroy(&a);
    }
    /* On an ordinary stack (no room in the arena) the write below would
     * meet glibc's own guard: that is not this test's fault. */
    if (addr == NULL || !secmem_owns(addr))
        _exit(5);
    *((volatile char *)addr - 1) = 1;
    return NULL;
}

/* A thread that runs past the end of its stack faults on the guard page
 * below it; without one it would write over the secrets beside it in the
 * arena. (In a child: the fault ends it.) */
T_TEST(a_secret_thread_s_stack_has_a_guard_page)
{
    pid_t pid = fork();
    int st = 0;

    T_CHECK(pid >= 0);
    if (pid == 0) {
        pthread_t t;
        /* Our own handler, so that the fault is seen the same under ASan. */
        signal(SIGSEGV, on_fault);
        if (!secmem_init(256 * 1024))
            _exit(3);
        void *below = secmem_alloc(4096, 4096); /* a secret, just below the stack */
        if (below == NULL || secmem_thread_create(&t, 64 * 1024, write_below_my_stack, NULL) != 0)
            _exit(4);
        pthread_join(t, NULL);
        _exit(0); /* the write went through: no fault */
    }
    T_EQ_INT(waitpid(pid, &st, 0), pid);
    T_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 42);
    if (WIFEXITED(st) && WEXITSTATUS(st) != 42)
        fprintf(stderr, "  the child exited with %d, not on a fault: no guard page\n", WEXITSTATUS(st));
    /* The shutdown after a secret thread, guard page and all, ends
     * threads_for_secrets_have_their_stack_in_the_arena. */
}

T_MAIN(T_CASE(no_arena_no_memory), T_CASE(arena_carves_aligned_zeroed_blocks),
       T_CASE(threads_for_secrets_have_their_stack_in_the_arena), T_CASE(a_secret_thread_s_stack_has_a_guard_page),
       T_CASE(a_secret_thread_s_stack_says_how_deep_it_went), T_CASE(stack_lock_and_no_dumps))
