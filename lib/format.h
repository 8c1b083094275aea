/* SPDX-License-Identifier: MIT */
/*
 * The model format (docs/format.md): its constants, shared with the
 * white-box tests and fuzzers that build files, and format.c's encoder and
 * decoder, which persist.c puts in files and takes out of them. A one-topic
 * internal header (the rule of lib/'s headers is at the top of
 * internal.h).
 */
#ifndef LIBNN_FORMAT_H
#define LIBNN_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "nn.h"

/* The 8 magic bytes: 0x89 "LNN" CR LF 0x1A LF, in the spirit of PNG's, so
 * that text-mode transfers and truncation to 7 bits are caught at once. */
#define NN__MODEL_MAGIC "\x89LNN\r\n\x1a\n"
#define NN__MODEL_MAGIC_LEN 8u

/* The format version this library writes (2: version 1 and the metadata
 * of nn_set_task, nn_set_classes, ... after the generator). It reads every
 * version from 1 up to this one (docs/format.md, "Compatibility"). */
#define NN__MODEL_VERSION 2u

/* Fixed header: magic, u32 version, u32 reserved (0), u64 total length. */
#define NN__MODEL_HEADER_LEN 24u
#define NN__MODEL_OFF_VERSION 8u
#define NN__MODEL_OFF_RESERVED 12u
#define NN__MODEL_OFF_LENGTH 16u

/* The trailing CRC-32 over every byte before it. */
#define NN__MODEL_CRC_LEN 4u

/* CRC-32 of ISO-HDLC / zlib / PNG (reflected polynomial 0xEDB88320, initial
 * value and final xor 0xFFFFFFFF): crc32("123456789") == 0xCBF43926. */
uint32_t nn__crc32(const void *data, size_t len);

/* Bytes of `net`'s model in *size; NN_ENOMEM, recorded under `who`, when
 * that overflows size_t. */
int nn__model_size(const nn_net *net, size_t *size, const char *who);

/* Writes `net`'s model into exactly the `size` bytes nn__model_size gave. */
void nn__model_encode(const nn_net *net, unsigned char *buf, size_t size);

/* A new network from the whole model in b[0 .. len): NN_OK, NN_EFORMAT
 * or NN_ENOMEM, recorded with `what` (the path, "model buffer") in front.
 * Nothing is allocated on failure. */
int nn__model_decode(nn_net **out, const unsigned char *b, size_t len,
                     const char *what);

/* 1 when b[0 .. len) starts with a header this library reads, with the
 * length it declares in *total; 0 otherwise. Records nothing. */
int nn__model_declared_length(const unsigned char *b, size_t len,
                              uint64_t *total);

#endif
