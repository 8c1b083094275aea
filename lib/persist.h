/* SPDX-License-Identifier: MIT */
/*
 * Constants of the model file format (docs/format.md) and the checksum,
 * shared by persist.c and the white-box tests and fuzzers that build files.
 */
#ifndef LIBNN_PERSIST_H
#define LIBNN_PERSIST_H

#include <stddef.h>
#include <stdint.h>

/* The 8 magic bytes: 0x89 "LNN" CR LF 0x1A LF, in the spirit of PNG's, so
 * that text-mode transfers and truncation to 7 bits are caught at once. */
#define NN__MODEL_MAGIC "\x89LNN\r\n\x1a\n"
#define NN__MODEL_MAGIC_LEN 8u

/* The format version this library writes (2: version 1 and the metadata
 * of nn_set_task, nn_set_classes, ... after the generator). It reads every version from 1 up
 * to this one (docs/format.md, "Compatibility"). */
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

#endif
