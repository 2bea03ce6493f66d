// A persistent thread pool for matrix products: workers start once, on the first product worth splitting, and
// wait for work by spinning briefly, then yielding, then sleeping on a condition variable (so an idle runtime burns
// no CPU, and a busy machine's other processes get the core). The calling thread works too, and waits for the last
// chunk the same way: a worker the OS has descheduled must be able to run on the caller's core. One product runs at
// a time; a second caller meanwhile runs its own serially.
#include "kernels_internal.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define PAUSE() _mm_pause()
#else
#define PAUSE() ((void)0)
#endif

typedef struct {
    int type;
    const void *w;
    int64_t n, rows;
    const void *act;
    size_t act_stride;
    int64_t m;
    float *y;
    int64_t y_stride;
    int64_t chunk;
} job_t;

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_mutex_t busy; // held by the thread whose product the pool is running
    pthread_cond_t done;  // signalled (under mu) when the last worker finishes and the caller sleeps
    _Atomic int caller_sleeps;
    _Atomic uint64_t generation;
    _Atomic int64_t next;   // the next unclaimed chunk
    _Atomic int pending;    // workers not yet done with the current generation
    job_t job;
    int workers;            // threads besides the caller
    _Atomic int started;
} pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER};

/// Spins, then yields, then gives up: returns 1 while the caller should keep polling without sleeping.
static inline int keep_polling(int *spins) {
    int n = ++*spins;
    if (n < 2000) { PAUSE(); return 1; }
    if (n < 2100) { sched_yield(); return 1; }
    return 0;
}

static _Atomic int configured_threads = 0;
static pthread_once_t start_once = PTHREAD_ONCE_INIT;

static int default_threads(void) {
    const char *e = getenv("PARE_THREADS");
    if (e && *e) {
        long v = strtol(e, NULL, 10);
        if (v >= 1 && v <= 256) return (int)v;
    }
    long c = sysconf(_SC_NPROCESSORS_ONLN);
    return c >= 1 ? (c > 256 ? 256 : (int)c) : 1;
}

int pk_threads(void) {
    int t = atomic_load(&configured_threads);
    if (t == 0) {
        int want = default_threads(), zero = 0;
        atomic_compare_exchange_strong(&configured_threads, &zero, want);
        t = atomic_load(&configured_threads);
    }
    return t;
}

int pk_set_threads(int n) {
    if (n < 1) n = 1;
    if (n > 256) n = 256;
    if (!atomic_load(&pool.started)) atomic_store(&configured_threads, n);
    return pk_threads();
}

/// Claims chunks of rows until none are left.
static void work(const job_t *j) {
    for (;;) {
        int64_t c = atomic_fetch_add_explicit(&pool.next, 1, memory_order_relaxed);
        int64_t r0 = c * j->chunk;
        if (r0 >= j->rows) return;
        int64_t r1 = r0 + j->chunk < j->rows ? r0 + j->chunk : j->rows;
        pk_matmul_rows(j->type, j->w, j->n, r0, r1, j->act, j->act_stride, j->m, j->y, j->y_stride);
    }
}

static void *worker(void *arg) {
    (void)arg;
    uint64_t seen = 0;
    for (;;) {
        int spins = 0;
        while (atomic_load_explicit(&pool.generation, memory_order_acquire) == seen) {
            if (keep_polling(&spins)) continue;
            pthread_mutex_lock(&pool.mu);
            while (atomic_load_explicit(&pool.generation, memory_order_acquire) == seen) pthread_cond_wait(&pool.cv, &pool.mu);
            pthread_mutex_unlock(&pool.mu);
        }
        seen = atomic_load_explicit(&pool.generation, memory_order_acquire);
        job_t j = pool.job;
        work(&j);
        if (atomic_fetch_sub(&pool.pending, 1) == 1 && atomic_load(&pool.caller_sleeps)) {
            pthread_mutex_lock(&pool.mu);
            pthread_cond_broadcast(&pool.done);
            pthread_mutex_unlock(&pool.mu);
        }
    }
    return NULL;
}

static void start_workers(void) {
    int want = pk_threads() - 1, made = 0;
    for (int i = 0; i < want; i++) {
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&t, &attr, worker, NULL) == 0) made++;
        pthread_attr_destroy(&attr);
    }
    pool.workers = made;
    atomic_store(&pool.started, 1);
}

void pk_matmul(int type, const void *w, int64_t n, int64_t rows,
               const void *act, size_t act_stride, int64_t m, float *y, int64_t y_stride) {
    // Below about 64k multiply-adds a product is done before a worker would wake.
    int threads = pk_threads();
    if (threads <= 1 || rows < 2 || rows * n * m < 65536 || pthread_mutex_trylock(&pool.busy) != 0) {
        pk_matmul_rows(type, w, n, 0, rows, act, act_stride, m, y, y_stride);
        return;
    }
    pthread_once(&start_once, start_workers);
    if (pool.workers == 0) {
        pthread_mutex_unlock(&pool.busy);
        pk_matmul_rows(type, w, n, 0, rows, act, act_stride, m, y, y_stride);
        return;
    }
    // Chunks: about 8 per thread, so a thread slowed by another process does not hold everyone up.
    int64_t chunk = rows / (8 * (int64_t)(pool.workers + 1));
    if (chunk < 4) chunk = 4;
    pool.job = (job_t){type, w, n, rows, act, act_stride, m, y, y_stride, chunk};
    atomic_store_explicit(&pool.next, 0, memory_order_relaxed);
    atomic_store_explicit(&pool.pending, pool.workers, memory_order_relaxed);
    pthread_mutex_lock(&pool.mu);
    atomic_fetch_add_explicit(&pool.generation, 1, memory_order_release);
    pthread_cond_broadcast(&pool.cv);
    pthread_mutex_unlock(&pool.mu);
    job_t j = pool.job;
    work(&j);
    int spins = 0;
    while (atomic_load(&pool.pending) > 0) {
        if (keep_polling(&spins)) continue;
        atomic_store(&pool.caller_sleeps, 1);
        pthread_mutex_lock(&pool.mu);
        while (atomic_load(&pool.pending) > 0) pthread_cond_wait(&pool.done, &pool.mu);
        pthread_mutex_unlock(&pool.mu);
        atomic_store(&pool.caller_sleeps, 0);
    }
    pthread_mutex_unlock(&pool.busy);
}
