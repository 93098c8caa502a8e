/* Checks kernel_matmul against the naive reference and times both.
 *
 *   ./bench [-n N] [-r REPETITIONS]
 *
 * Prints whether the kernel's result is correct (the largest difference from the
 * reference, relative to the size of the reference's element), then the speed-up: the
 * median time of the reference over the median time of the kernel. Exit 0 when the result
 * is correct, 1 when it is wrong, 2 on a bad command line.
 * Do not change this file. */
#define _POSIX_C_SOURCE 199309L /* clock_gettime */

#include "kernel.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Float sums of a few hundred products differ with their order by about 1e-6; a wrong
 * index or a skipped block is off by far more. */
static const double TOLERANCE = 1e-3;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void fill(float *m, int count, uint32_t seed)
{
    uint32_t x = seed;
    for (int i = 0; i < count; i++) {
        x = x * 1664525u + 1013904223u;
        m[i] = (float)((x >> 8) / 16777216.0 * 2.0 - 1.0);
    }
}

static int compare_doubles(const void *p, const void *q)
{
    double a = *(const double *)p, b = *(const double *)q;
    return (a > b) - (a < b);
}

static double median(double *v, int count)
{
    qsort(v, count, sizeof *v, compare_doubles);
    return count % 2 ? v[count / 2] : (v[count / 2 - 1] + v[count / 2]) / 2;
}

static int parse_int(const char *text, int lo, int hi, int *out)
{
    char *end;
    long v = strtol(text, &end, 10);
    if (*text == '\0' || *end != '\0' || v < lo || v > hi)
        return 0;
    *out = (int)v;
    return 1;
}

int main(int argc, char **argv)
{
    int n = 300, reps = 5;
    for (int i = 1; i < argc; i++) {
        int ok = 0;
        if (strcmp(argv[i], "-n") == 0 && i + 1 < argc)
            ok = parse_int(argv[++i], 1, 4096, &n);
        else if (strcmp(argv[i], "-r") == 0 && i + 1 < argc)
            ok = parse_int(argv[++i], 1, 101, &reps);
        if (!ok) {
            fprintf(stderr, "usage: %s [-n N (1..4096)] [-r REPETITIONS (1..101)]\n", argv[0]);
            return 2;
        }
    }

    size_t count = (size_t)n * n;
    float *a = malloc(count * sizeof *a), *b = malloc(count * sizeof *b);
    float *want = malloc(count * sizeof *want), *got = malloc(count * sizeof *got);
    double *t_ref = malloc(reps * sizeof *t_ref), *t_kernel = malloc(reps * sizeof *t_kernel);
    if (!a || !b || !want || !got || !t_ref || !t_kernel) {
        fprintf(stderr, "bench: out of memory for n=%d\n", n);
        return 2;
    }
    fill(a, (int)count, 1);
    fill(b, (int)count, 2);
    printf("matmul n=%d, median of %d runs each\n", n, reps);

    reference_matmul(n, a, b, want);
    /* NaN everywhere: an element the kernel does not write cannot pass by chance. */
    for (size_t i = 0; i < count; i++)
        got[i] = NAN;
    kernel_matmul(n, a, b, got);

    double worst = 0.0;
    size_t worst_at = 0, wrong = 0;
    for (size_t i = 0; i < count; i++) {
        double err = fabs((double)got[i] - want[i]) / fmax(1.0, fabs(want[i]));
        if (isnan(err))
            err = INFINITY;
        if (err > TOLERANCE)
            wrong++;
        if (err > worst) {
            worst = err;
            worst_at = i;
        }
    }
    if (wrong) {
        printf("correct: no (max error %.1e at c[%zu][%zu], %zu of %zu elements wrong)\n", worst,
               worst_at / n, worst_at % n, wrong, count);
        printf("speedup: not measured, the result is wrong\n");
        return 1;
    }
    printf("correct: yes (max error %.1e)\n", worst);

    /* Interleaved, so that a change of clock speed affects both alike. */
    for (int r = 0; r < reps; r++) {
        double t0 = now_ms();
        reference_matmul(n, a, b, want);
        double t1 = now_ms();
        kernel_matmul(n, a, b, got);
        double t2 = now_ms();
        t_ref[r] = t1 - t0;
        t_kernel[r] = t2 - t1;
    }
    double ref_ms = median(t_ref, reps), kernel_ms = median(t_kernel, reps);
    printf("speedup: %.2fx (naive %.1f ms, kernel %.1f ms)\n", ref_ms / fmax(kernel_ms, 1e-6),
           ref_ms, kernel_ms);
    free(a);
    free(b);
    free(want);
    free(got);
    free(t_ref);
    free(t_kernel);
    return 0;
}
