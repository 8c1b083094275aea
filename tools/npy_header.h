/* SPDX-License-Identifier: MIT */
/*
 * Layer 3 of tools/ (the layers and their rule: cli.h).
 *
 * Parsing the header dict of a .npy file as numpy does (npy_header.c).
 */
#ifndef NN_TOOL_NPY_HEADER_H
#define NN_TOOL_NPY_HEADER_H

#include <stddef.h>
#include <stdint.h>

#define NPY_MAX_DIMS 8
/* numpy's _MAX_HEADER_SIZE: longer headers are refused unless trusted */
#define NPY_MAX_HEADER 10000

typedef struct npy_header {
    char descr[32];   /* the dtype string; "" when longer */
    int fortran;      /* 'fortran_order' */
    size_t ndim;
    uint64_t dims[NPY_MAX_DIMS];
} npy_header;

/* Reads the `len` bytes of the header dict of a file of format `version`
 * (1 to 3). Returns 1 with *h filled, or 0 with numpy's reason for
 * refusing it in `why` (a phrase). */
int npy_parse_header(const char *text, size_t len, int version,
                     npy_header *h, char *why, size_t cap);

#endif
