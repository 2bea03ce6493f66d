// membw: STREAM-style main-memory bandwidth meter (triad + pure read), best of N, JSON on stdout.
//
// Build: cc -O3 -march=native -fopenmp -o membw scripts/membw.c   (scripts/bench-compare.sh does this)
// Usage: membw [-t THREADS] [-m MIB_PER_ARRAY] [-r REPS] [--corrupt]
//   defaults: 2 threads, 256 MiB per array (3 arrays; >> any L3 here), best of 10 repetitions.
// Output (one line): {"triad_gbs":..,"read_gbs":..,"threads":..,"array_mib":..,"reps":..}
//   triad: a[i] = b[i] + s*c[i]  counts 24 bytes/element (2 reads + 1 write; write-allocate traffic
//          is not counted, as in STREAM), so it understates the bus traffic by up to 1/3.
//   read:  sum += a[i]           counts 8 bytes/element; the closest kernel to streaming weights.
// GB/s are 1e9 bytes per second. Exits 1 with a message on stderr on bad arguments, allocation
// failure, or when a kernel's result is wrong (so a broken build cannot print plausible numbers);
// --corrupt flips one element after timing, to show that this check fires (it must exit 1).
#include <errno.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

// Parses a positive integer option value in [1, max]; returns 0 and prints a message on failure.
static long parse_positive(const char *flag, const char *text, long max) {
  char *end = NULL;
  errno = 0;
  long v = strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || v < 1 || v > max) {
    fprintf(stderr, "membw: %s expects an integer in 1...%ld, got '%s'\n", flag, max, text);
    return 0;
  }
  return v;
}

static void usage(void) {
  fprintf(stderr, "usage: membw [-t THREADS] [-m MIB_PER_ARRAY] [-r REPS] [--corrupt]\n");
}

int main(int argc, char **argv) {
  long threads = 2, mib = 256, reps = 10;
  int corrupt = 0;
  for (int i = 1; i < argc; i++) {
    long *dst = NULL, max = 0;
    if (strcmp(argv[i], "-t") == 0) { dst = &threads; max = 1024; }
    else if (strcmp(argv[i], "-m") == 0) { dst = &mib; max = 1L << 20; }
    else if (strcmp(argv[i], "-r") == 0) { dst = &reps; max = 1000; }
    else if (strcmp(argv[i], "--corrupt") == 0) { corrupt = 1; continue; }
    else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) { usage(); return 0; }
    else { fprintf(stderr, "membw: unknown argument '%s'\n", argv[i]); usage(); return 1; }
    if (i + 1 >= argc) { fprintf(stderr, "membw: %s needs a value\n", argv[i]); usage(); return 1; }
    if ((*dst = parse_positive(argv[i], argv[i + 1], max)) == 0) return 1;
    i++;
  }

  const size_t n = (size_t)mib * (1u << 20) / sizeof(double); // elements per array
  double *a = NULL, *b = NULL, *c = NULL;
  if (posix_memalign((void **)&a, 64, n * sizeof(double)) != 0 ||
      posix_memalign((void **)&b, 64, n * sizeof(double)) != 0 ||
      posix_memalign((void **)&c, 64, n * sizeof(double)) != 0) {
    fprintf(stderr, "membw: cannot allocate 3 arrays of %ld MiB\n", mib);
    return 1;
  }
  omp_set_dynamic(0);
  omp_set_num_threads((int)threads);

  // First touch with the same static schedule as the kernels, so each thread's pages are its own.
  const long ln = (long)n;
#pragma omp parallel for schedule(static)
  for (long i = 0; i < ln; i++) { a[i] = 0.0; b[i] = 1.0; c[i] = 2.0; }

  int got_threads = 0;
#pragma omp parallel
  {
#pragma omp single
    got_threads = omp_get_num_threads();
  }

  const double s = 3.0;
  double best_triad = 1e30, best_read = 1e30, sum = 0.0;
  for (long r = 0; r < reps; r++) {
    double t0 = now_seconds();
#pragma omp parallel for simd schedule(static)
    for (long i = 0; i < ln; i++) a[i] = b[i] + s * c[i];
    double t1 = now_seconds();
    double acc = 0.0;
#pragma omp parallel for simd schedule(static) reduction(+ : acc)
    for (long i = 0; i < ln; i++) acc += a[i];
    double t2 = now_seconds();
    if (t1 - t0 < best_triad) best_triad = t1 - t0;
    if (t2 - t1 < best_read) best_read = t2 - t1;
    sum = acc;
  }

  if (corrupt) a[n / 2 / 4093 * 4093] = 0.0;

  // Check: every a[i] is 1 + 3*2 = 7, so the sum is exactly 7n (exact in double for n < 2^50).
  for (size_t i = 0; i < n; i += 4093) {
    if (a[i] != 7.0) {
      fprintf(stderr, "membw: triad result wrong at %zu: %g, expected 7\n", i, a[i]);
      return 1;
    }
  }
  if (sum != 7.0 * (double)n) {
    fprintf(stderr, "membw: read sum is %.17g, expected %.17g\n", sum, 7.0 * (double)n);
    return 1;
  }

  const double bytes = (double)n * sizeof(double);
  printf("{\"triad_gbs\":%.2f,\"read_gbs\":%.2f,\"threads\":%d,\"array_mib\":%ld,\"reps\":%ld}\n",
         3.0 * bytes / best_triad / 1e9, bytes / best_read / 1e9, got_threads, mib, reps);
  free(a);
  free(b);
  free(c);
  return 0;
}
