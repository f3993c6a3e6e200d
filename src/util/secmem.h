/* secmem.h - where the kiosk keeps PINs: memory locked in RAM (never
 * swapped), left out of core dumps, not inherited by children, wiped at
 * the end; and a process that cannot be dumped or ptrace-attached by its
 * own user.
 *
 * One arena per process, mapped at start-up and carved by a bump allocator:
 * the few objects that hold PINs (the core's state, the card worker's job
 * queue and its thread's stack) live for the whole run, so nothing is ever
 * freed back into it. The main thread's PIN-handling frames are covered by
 * locking the top of its stack.
 *
 * Locking can fail for want of RLIMIT_MEMLOCK (the unit sets LimitMEMLOCK);
 * that is logged and the kiosk goes on: a PIN is still wiped on every path
 * and the process is still not dumpable.
 */
#ifndef UTIL_SECMEM_H
#define UTIL_SECMEM_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#define SECMEM_ALIGN 64

/* Built with AddressSanitizer (gcc says so one way, clang another): its
 * frames are larger, and the secret threads' stacks and the arena with
 * them. */
#if defined(__SANITIZE_ADDRESS__)
#define SECMEM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SECMEM_ASAN 1
#endif
#endif

/* Maps the arena (`bytes`, rounded up to pages), marks it MADV_DONTDUMP
 * and MADV_DONTFORK (MADV_WIPEONFORK where known) and mlocks it. False only
 * if it could not be mapped; a second call is refused. */
bool secmem_init(size_t bytes);

/* `bytes` zeroed from the arena, aligned to `align` (a power of two,
 * SECMEM_ALIGN or the page size); NULL if there is no arena or it is full.
 * Never freed: see above. */
void *secmem_alloc(size_t bytes, size_t align);

/* True if `p` lies in the arena. */
bool secmem_owns(const void *p);

/* Starts a thread whose stack (`stack_bytes`, a multiple of the page size)
 * is carved from the arena, for a thread that handles secrets, with an
 * inaccessible page below it (a page more of the arena); with no room in
 * the arena, on an ordinary stack (as with the arena's other
 * objects, locking is the best we can do, not a condition). pthread_create's
 * result. */
int secmem_thread_create(pthread_t *t, size_t stack_bytes, void *(*fn)(void *), void *arg);

/* The stacks secmem_thread_create carved from the arena, in the order
 * made (up to `max`): their size and the deepest their frames have
 * reached so far, in bytes. Returns how many were written. */
typedef struct secmem_stack_use {
    size_t size, used;
} secmem_stack_use;
int secmem_stacks(secmem_stack_use *out, int max);

/* Locks (and marks don't-dump) the `bytes` of the calling thread's stack
 * below the caller's frame, touching them first so they are mapped. Call it
 * from main(), before the frames that handle PINs. */
bool secmem_lock_stack(size_t bytes);

/* prctl(PR_SET_DUMPABLE, 0): no core dump, and /proc/self/mem and ptrace
 * closed to our own user. */
bool secmem_no_dumps(void);

typedef struct secmem_info {
    size_t size, used;
    bool locked;        /* the arena is mlocked */
    bool dontdump;      /* MADV_DONTDUMP took */
    bool stack_locked;  /* secmem_lock_stack succeeded */
    int dumpable;       /* PR_GET_DUMPABLE now */
} secmem_info;

void secmem_status(secmem_info *out);

/* Wipes the whole arena, unlocks and unmaps it. Objects in it are gone. */
void secmem_shutdown(void);

#endif
