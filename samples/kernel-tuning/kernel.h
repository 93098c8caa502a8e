/* The kernel's fixed interface. Do not change this file. */
#ifndef KERNEL_H
#define KERNEL_H

/* C = A * B for n x n single-precision matrices stored row-major:
 * a[i*n + k] is row i, column k. The kernel must write every element of c;
 * c may hold garbage on entry. a, b and c never overlap. */
void kernel_matmul(int n, const float *a, const float *b, float *c);

/* The naive version kernel.c started from, the yardstick of the speed-up. */
void reference_matmul(int n, const float *a, const float *b, float *c);

#endif
