// A persistent thread pool for matrix products: workers start once, on the first product worth splitting, and
// wait for work by spinning briefly, then yielding, then sleeping on a condition variable (so an idle runtime burns
// no CPU, and a busy machine's other processes get the core). The calling thread works too, and waits for the last
// chunk the same way: a worker the OS has descheduled must be able to run on the caller's core. One product runs at
// a time; a second caller meanwhile runs its own serially.
#include "kernels_internal.h"

#include <cblas.h>
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

typedef struct job job_t;
struct job {
    void (*run)(const job_t *j, int64_t r0, int64_t r1);
    int type;
    const void *w;
    int64_t n, rows;
    const void *act;
    size_t act_stride;
    int64_t m;
    float *y;
    int64_t y_stride;
    int64_t chunk;
    const float *xf; // pk_matmul_f32: float activations, row stride ldx
    int64_t ldx;
};

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
        j->run(j, r0, r1);
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

static void run_rows(const job_t *j, int64_t r0, int64_t r1) {
    pk_matmul_rows(j->type, j->w, j->n, r0, r1, j->act, j->act_stride, j->m, j->y, j->y_stride);
}

/// Rows per tile of the prefill path: dequantised to float32 in a per-thread buffer, then one sgemm.
enum { TILE = 32 };

static void run_f32_tiles(const job_t *j, int64_t r0, int64_t r1) {
    static _Thread_local float *tile = NULL;
    static _Thread_local int64_t tile_n = 0;
    if (tile_n < j->n) {
        free(tile);
        tile = malloc((size_t)TILE * (size_t)j->n * sizeof(float));
        tile_n = tile ? j->n : 0;
        if (!tile) return; // leaves y unwritten; allocation of a few hundred KB failing is not recoverable here
    }
    size_t rb = pk_row_bytes(j->type, j->n);
    for (int64_t t = r0; t < r1; t += TILE) {
        int64_t k = r1 - t < TILE ? r1 - t : TILE;
        for (int64_t r = 0; r < k; r++) pk_dequantize_row(j->type, (const char *)j->w + (size_t)(t + r) * rb, tile + r * j->n, j->n);
        // Y[m, k] (columns t.. of y) = X[m, n] * Tile[k, n]^T
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)j->m, (int)k, (int)j->n, 1.0f, j->xf, (int)j->ldx,
                    tile, (int)j->n, 0.0f, j->y + t, (int)j->y_stride);
    }
}

/// Runs `j` over its rows on the pool (the caller included), or on the caller alone when not worth it.
static void dispatch(job_t j, int worth_splitting) {
    int threads = pk_threads();
    if (threads <= 1 || !worth_splitting || pthread_mutex_trylock(&pool.busy) != 0) {
        j.run(&j, 0, j.rows);
        return;
    }
    pthread_once(&start_once, start_workers);
    if (pool.workers == 0) {
        pthread_mutex_unlock(&pool.busy);
        j.run(&j, 0, j.rows);
        return;
    }
    // Chunks: about 8 per thread, so a thread slowed by another process does not hold everyone up.
    if (j.chunk == 0) {
        j.chunk = j.rows / (8 * (int64_t)(pool.workers + 1));
        if (j.chunk < 4) j.chunk = 4;
    }
    pool.job = j;
    atomic_store_explicit(&pool.next, 0, memory_order_relaxed);
    atomic_store_explicit(&pool.pending, pool.workers, memory_order_relaxed);
    pthread_mutex_lock(&pool.mu);
    atomic_fetch_add_explicit(&pool.generation, 1, memory_order_release);
    pthread_cond_broadcast(&pool.cv);
    pthread_mutex_unlock(&pool.mu);
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

void pk_matmul(int type, const void *w, int64_t n, int64_t rows,
               const void *act, size_t act_stride, int64_t m, float *y, int64_t y_stride) {
    job_t j = {.run = run_rows, .type = type, .w = w, .n = n, .rows = rows, .act = act, .act_stride = act_stride,
               .m = m, .y = y, .y_stride = y_stride};
    // Below about 64k multiply-adds a product is done before a worker would wake.
    dispatch(j, rows >= 2 && rows * n * m >= 65536);
}

void pk_matmul_f32(int type, const void *w, int64_t n, int64_t rows, const float *x, int64_t m, int64_t ldx,
                   float *y, int64_t ldy) {
    if (pk_row_bytes(type, n) == 0) return;
    job_t j = {.run = run_f32_tiles, .type = type, .w = w, .n = n, .rows = rows, .m = m, .y = y, .y_stride = ldy,
               .xf = x, .ldx = ldx, .chunk = TILE};
    dispatch(j, rows > TILE);
}
