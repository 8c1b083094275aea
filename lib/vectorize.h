/* SPDX-License-Identifier: MIT */
/*
 * A one-topic internal header (the rule of lib/'s headers is at the top of
 * internal.h). NN__VECTORIZE marks the element-wise loops of the hot path (optimizers,
 * small products, activation passes) for function multi-versioning: with
 * GCC on x86-64 each such function is compiled twice, for AVX2 and for the
 * baseline ISA, and the dynamic loader picks one when the library loads (an
 * ifunc: no state of ours, nothing to initialise, no cost per call beyond
 * an indirect jump). The build is for generic x86-64 (SSE2), so without
 * this the loops would use a quarter of a modern core's vector width.
 *
 * The clones compute the same bits: the library is compiled in ISO C mode,
 * where GCC does not contract a * b + c into an FMA (-ffp-contract=off), and
 * vectorising an element-wise loop or a loop across the columns of a
 * reduction changes no operation's order.
 */
#ifndef LIBNN_VECTORIZE_H
#define LIBNN_VECTORIZE_H

#if defined(NN_HAVE_TARGET_CLONES)
#define NN__VECTORIZE __attribute__((target_clones("avx2", "default")))
#else
#define NN__VECTORIZE
#endif

#endif
