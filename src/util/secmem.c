/* secmem.c - see secmem.h. */
#include "util/secmem.h"

#include "util/log.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

/* The card worker's stack lives in the arena; when that thread ends,
 * valgrind marks its stack no-access, and the wipe at shutdown would read as
 * an invalid write. Telling memcheck the bytes are ours again is a no-op
 * outside valgrind. */
#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#endif
#endif
#ifndef VALGRIND_MAKE_MEM_UNDEFINED
#define VALGRIND_MAKE_MEM_UNDEFINED(p, n) ((void)(p), (void)(n))
#endif

#ifndef MADV_WIPEONFORK
#define MADV_WIPEONFORK 18
#endif

static unsigned char *arena;
static size_t arena_size, arena_used;
static bool arena_locked, arena_dontdump, stack_locked;

/* The thread stacks carved from the arena, painted with STACK_PAINT before
 * their thread starts: the lowest byte no longer the paint is the deepest
 * any frame reached (secmem_stacks), so the tests can hold the sizes to
 * what the threads really use; every byte of them is locked memory. */
#define STACK_PAINT 0xA5
#define MAX_STACKS 4
typedef struct {
    const unsigned char *lo;
    size_t size;
} painted_stack;
static painted_stack stacks[MAX_STACKS];
static int n_stacks;

static size_t page_size(void)
{
    long p = sysconf(_SC_PAGESIZE);
    return p > 0 ? (size_t)p : 4096u;
}

bool secmem_init(size_t bytes)
{
    size_t pg = page_size(), size = (bytes + pg - 1) / pg * pg;
    void *p;
    bool ok = false;

    if (arena || size == 0)
        goto out;
    p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        log_err("secmem", "cannot map %zu bytes for secrets: %s", size, strerror(errno));
        goto out;
    }
    arena = p;
    arena_size = size;
    arena_used = 0;
    arena_dontdump = madvise(p, size, MADV_DONTDUMP) == 0;
    /* A child (there is none today) must not start with our secrets. */
    if (madvise(p, size, MADV_WIPEONFORK) != 0)
        madvise(p, size, MADV_DONTFORK);
    arena_locked = mlock(p, size) == 0;
    if (!arena_locked)
        log_warn("secmem", "cannot lock %zu bytes for secrets (%s): PINs could reach swap; "
                 "raise LimitMEMLOCK", size, strerror(errno));
    if (!arena_dontdump)
        log_warn("secmem", "MADV_DONTDUMP refused: %s", strerror(errno));
    ok = true;
out:
    return ok;
}

void *secmem_alloc(size_t bytes, size_t align)
{
    void *p = NULL;
    size_t at;
    if (arena && align && (align & (align - 1)) == 0 && bytes > 0) {
        at = (arena_used + align - 1) & ~(align - 1);
        if (at <= arena_size && bytes <= arena_size - at) {
            p = arena + at;
            arena_used = at + bytes;
            memset(p, 0, bytes);
        }
    }
    if (!p && arena)
        log_err("secmem", "no room for %zu bytes of secrets (%zu of %zu used)", bytes, arena_used,
                arena_size);
    return p;
}

bool secmem_owns(const void *p)
{
    const unsigned char *q = p;
    return arena && q >= arena && q < arena + arena_size;
}

/* Touches `left` bytes of stack below this frame, then locks from the
 * lowest page touched up to `top`. noinline: the frames must be real. */
static __attribute__((noinline)) bool lock_below(uintptr_t top, size_t left)
{
    volatile unsigned char chunk[4096];
    bool ok;
    chunk[0] = 0;
    chunk[sizeof chunk - 1] = 0;
    if (left > sizeof chunk) {
        ok = lock_below(top, left - sizeof chunk);
    } else {
        size_t pg = page_size();
        uintptr_t lo = (uintptr_t)&chunk[0] & ~(uintptr_t)(pg - 1);
        uintptr_t hi = (top + pg - 1) & ~(uintptr_t)(pg - 1);
        ok = mlock((void *)lo, hi - lo) == 0;
        if (ok)
            madvise((void *)lo, hi - lo, MADV_DONTDUMP); /* best effort: [stack] may refuse */
        else
            log_warn("secmem", "cannot lock %zu bytes of stack: %s", (size_t)(hi - lo), strerror(errno));
    }
    chunk[1] = chunk[0]; /* keep the frame from being a tail call */
    return ok;
}

bool secmem_lock_stack(size_t bytes)
{
    volatile unsigned char here = 0;
    stack_locked = lock_below((uintptr_t)&here + 1, bytes);
    return stack_locked;
}

bool secmem_no_dumps(void)
{
    bool ok = prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == 0;
    if (!ok)
        log_warn("secmem", "PR_SET_DUMPABLE: %s", strerror(errno));
    return ok;
}

void secmem_status(secmem_info *out)
{
    out->size = arena_size;
    out->used = arena_used;
    out->locked = arena_locked;
    out->dontdump = arena_dontdump;
    out->stack_locked = stack_locked;
    out->dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
}

int secmem_stacks(secmem_stack_use *out, int max)
{
    int n = 0;

    for (int i = 0; i < n_stacks && n < max; i++) {
        /* Read while the thread may run: relaxed atomic loads, each byte
         * either the paint or not, and the paint only ever goes. */
        const unsigned char *b = stacks[i].lo;
        size_t k = 0;
        while (k < stacks[i].size && __atomic_load_n(&b[k], __ATOMIC_RELAXED) == STACK_PAINT)
            k++;
        out[n++] = (secmem_stack_use){ stacks[i].size, stacks[i].size - k };
    }
    return n;
}

void secmem_shutdown(void)
{
    if (arena) {
        /* Thread stacks' guard pages are inaccessible: open them again to
         * wipe the whole. (If that failed, the wipe would fault: the
         * mapping goes unwiped, as it would on any crash.) */
        if (mprotect(arena, arena_size, PROT_READ | PROT_WRITE) == 0) {
            VALGRIND_MAKE_MEM_UNDEFINED(arena, arena_size);
            explicit_bzero(arena, arena_size);
        }
        if (arena_locked)
            munlock(arena, arena_size);
        munmap(arena, arena_size);
    }
    arena = NULL;
    n_stacks = 0;
    arena_size = arena_used = 0;
    arena_locked = arena_dontdump = false;
}

int secmem_thread_create(pthread_t *t, size_t stack_bytes, void *(*fn)(void *), void *arg)
{
    long pg = sysconf(_SC_PAGESIZE);
    pthread_attr_t attr;
    void *stack;
    int rc = pthread_attr_init(&attr);

    if (rc != 0)
        return rc;
    size_t page = pg > 0 ? (size_t)pg : 4096u;
    /* One page more, below the stack, made inaccessible: pthread_attr_setstack
     * gives no guard, and a stack run past its end must fault, not write
     * over the secrets beside it in the arena. */
    stack = secmem_alloc(stack_bytes + page, page);
    if (stack && mprotect(stack, page, PROT_NONE) != 0) {
        log_warn("secmem", "no guard page for a thread's stack (%s): it runs on an ordinary one",
                 strerror(errno));
        stack = NULL;
    }
    if (stack) {
        memset((char *)stack + page, STACK_PAINT, stack_bytes);
        rc = pthread_attr_setstack(&attr, (char *)stack + page, stack_bytes);
    }
    if (rc == 0)
        rc = pthread_create(t, &attr, fn, arg);
    if (rc == 0 && stack && n_stacks < MAX_STACKS)
        stacks[n_stacks++] = (painted_stack){ (unsigned char *)stack + page, stack_bytes };
    pthread_attr_destroy(&attr);
    return rc;
}
