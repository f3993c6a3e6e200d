/* tcheck.c - the technician code checked off the main thread (tcheck.h). */
#include "service/tcheck.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"
#include "util/secmem.h"
#include "util/secure.h"

/* PBKDF2 over our SHA-256 needs a few KiB (6.1 KB measured, with the
 * posting of the answer: stats.secrets.stacks); ASan's larger frames keep
 * the 64 KiB it had. */
#ifdef SECMEM_ASAN
#define TCHECK_STACK (64u * 1024u)
#else
#define TCHECK_STACK (16u * 1024u)
#endif

struct tcheck {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    tcode t;
    tcheck_post_fn post;
    void *ud;
    bool busy, stopping;
    unsigned gen;
    char code[TCODE_CODE_MAX + 1];
};

static void *tcheck_main(void *arg)
{
    tcheck *k = arg;
    char code[TCODE_CODE_MAX + 1];
    unsigned gen;
    bool ok;

    pthread_setname_np(pthread_self(), "code-check"); /* for ps, gdb and the tests */
    for (;;) {
        pthread_mutex_lock(&k->mu);
        while (!k->busy && !k->stopping)
            pthread_cond_wait(&k->cv, &k->mu);
        if (k->stopping) {
            pthread_mutex_unlock(&k->mu);
            break;
        }
        memcpy(code, k->code, sizeof code);
        secure_wipe(k->code, sizeof k->code);
        gen = k->gen;
        pthread_mutex_unlock(&k->mu);

        ok = tcode_check(&k->t, code);
        secure_wipe(code, sizeof code);
        k->post(k->ud, gen, ok);

        pthread_mutex_lock(&k->mu);
        k->busy = false;
        pthread_mutex_unlock(&k->mu);
    }
    secure_wipe(code, sizeof code);
    return NULL;
}

static void tcheck_free(tcheck *k)
{
    if (secmem_owns(k))
        secure_wipe(k, sizeof *k); /* the arena is never given back */
    else {
        secure_wipe(k, sizeof *k);
        free(k);
    }
}

tcheck *tcheck_start(const tcode *t, tcheck_post_fn post, void *ud)
{
    /* It holds a typed code between ask and check: the arena if there is one. */
    tcheck *k = secmem_alloc(sizeof *k, SECMEM_ALIGN);
    int stage = 0;

    if (k == NULL)
        k = calloc(1, sizeof *k);
    if (k == NULL || t == NULL || post == NULL)
        goto fail;
    k->t = *t;
    k->post = post;
    k->ud = ud;
    if (pthread_mutex_init(&k->mu, NULL) != 0)
        goto fail;
    stage = 1;
    if (pthread_cond_init(&k->cv, NULL) != 0)
        goto fail;
    stage = 2;
    if (secmem_thread_create(&k->thread, TCHECK_STACK, tcheck_main, k) != 0)
        goto fail;
    return k;
fail:
    log_err("service", "cannot start the technician code checker");
    if (stage >= 2)
        pthread_cond_destroy(&k->cv);
    if (stage >= 1)
        pthread_mutex_destroy(&k->mu);
    if (k)
        tcheck_free(k);
    return NULL;
}

bool tcheck_ask(tcheck *k, unsigned gen, const char *code)
{
    bool taken = false;

    if (k == NULL || code == NULL)
        return false;
    pthread_mutex_lock(&k->mu);
    if (!k->busy && !k->stopping) {
        size_t n = strnlen(code, sizeof k->code);
        /* Longer than a code can be: checked as nothing, so refused (never
         * cut: a cut one could match). */
        if (n == sizeof k->code)
            n = 0;
        memcpy(k->code, code, n);
        k->code[n] = '\0';
        k->gen = gen;
        k->busy = taken = true;
        pthread_cond_signal(&k->cv);
    }
    pthread_mutex_unlock(&k->mu);
    return taken;
}

void tcheck_stop(tcheck *k)
{
    if (k == NULL)
        return;
    pthread_mutex_lock(&k->mu);
    k->stopping = true;
    pthread_cond_signal(&k->cv);
    pthread_mutex_unlock(&k->mu);
    pthread_join(k->thread, NULL);
    pthread_cond_destroy(&k->cv);
    pthread_mutex_destroy(&k->mu);
    tcheck_free(k);
}
