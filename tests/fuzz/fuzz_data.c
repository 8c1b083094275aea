/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the nnet tool's data readers (tools/data.c and the
 * CSV, IDX and .npy parsers, plain or gzipped): files a user points the
 * tool at. Whatever the bytes, data_load either gives a non-empty data set
 * of finite values that data_free releases (LeakSanitizer checks), or
 * fails with a message; a CSV label column can be split off. Each header
 * mode is tried; and csv_number reads every token as strtod does. Any
 * broken invariant aborts, which libFuzzer reports.
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "data.h"

#define REQUIRE(cond)                                                          \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "fuzz_data: %s:%d: %s (last message: %s)\n",       \
                    __FILE__, __LINE__, #cond, cli_last_message());            \
            abort();                                                           \
        }                                                                      \
    } while (0)

/* data_load reads files: each input is written to one temporary file. */
static char path[] = "/tmp/fuzz_data_XXXXXX";

static void remove_file(void)
{
    unlink(path);
}

static void check_loaded(dataset *d)
{
    REQUIRE(d->rows >= 1 && d->cols >= 1 && d->x != NULL);
    for (size_t i = 0; i < d->rows * d->cols; i++)
        REQUIRE(isfinite(d->x[i]));
    if (d->format == DATA_CSV && d->cols > 1) {
        dataset labels;
        size_t cols = d->cols;
        REQUIRE(data_take_column(d, cols - 1, &labels) == ST_OK);
        REQUIRE(labels.rows == d->rows && labels.cols == 1 &&
                d->cols == cols - 1);
        data_free(&labels);
    }
}

/* csv_number reads every comma- or line-separated token of the input as
 * strtod does, to the bit (its fast path for plain decimals must not round
 * differently). */
static void check_numbers(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    REQUIRE(text != NULL);
    memcpy(text, data, size);
    text[size] = '\0';
    for (char *tok = text, *next; tok; tok = next) {
        next = strpbrk(tok, ",\n");
        if (next)
            *next++ = '\0';
        double fast, slow;
        char *end;
        int ok = csv_number(tok, &fast);
        slow = strtod(tok, &end);
        REQUIRE(ok == (end != tok && *end == '\0'));
        REQUIRE(!ok || memcmp(&fast, &slow, sizeof fast) == 0 ||
                (isnan(fast) && isnan(slow)));
    }
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready = 0;
    if (!ready) {
        cli_mute(); /* messages are kept, not printed */
        int fd = mkstemp(path);
        REQUIRE(fd >= 0);
        close(fd);
        atexit(remove_file);
        ready = 1;
    }
    check_numbers(data, size);
    FILE *f = fopen(path, "wb");
    REQUIRE(f != NULL);
    REQUIRE(fwrite(data, 1, size, f) == size || size == 0);
    REQUIRE(fclose(f) == 0);
    const csv_header modes[] = {CSV_HEADER_AUTO, CSV_HEADER_NO,
                                CSV_HEADER_YES};
    for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
        dataset d;
        int st = data_load(&d, path, modes[m]);
        if (st == ST_OK)
            check_loaded(&d);
        else
            REQUIRE(cli_last_message()[0] != '\0');
        data_free(&d);
    }
    return 0;
}
