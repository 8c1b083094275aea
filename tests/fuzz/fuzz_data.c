/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the nnet tool's data readers (tools/data.c and the
 * CSV, IDX and .npy parsers, plain or gzipped): files a user points the
 * tool at. Whatever the bytes, data_load either gives a non-empty data set
 * of finite values (but for the CSV label column's words, kept as text)
 * that data_free releases (LeakSanitizer checks), or fails with a message;
 * the CSV label column can be split off with its text. Each header mode is
 * tried, with the delimiter detected or given, columns ignored, rows with
 * missing values dropped; and csv_number reads every token as strtod does.
 * Any broken invariant aborts, which libFuzzer reports.
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
    REQUIRE(d->format == DATA_CSV || !d->text);
    for (size_t i = 0; i < d->rows * d->cols; i++)
        REQUIRE(isfinite(d->x[i]) || (d->text && i % d->cols == d->text_col));
    for (size_t i = 0; d->text && i < d->rows; i++)
        REQUIRE(d->text_id[i] < d->n_text && d->text[d->text_id[i]][0]);
    if (d->format == DATA_CSV && d->cols > 1 && d->text) {
        dataset labels;
        size_t cols = d->cols, n_text = d->n_text;
        REQUIRE(data_take_column(d, d->text_col, &labels) == ST_OK);
        REQUIRE(labels.rows == d->rows && labels.cols == 1 &&
                d->cols == cols - 1 && labels.n_text == n_text);
        REQUIRE(data_check_numbers(d) == ST_OK);
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
    const csv_options modes[] = {
        {CSV_HEADER_AUTO, 0, NULL, NULL, 0, NULL, 0, 0},
        {CSV_HEADER_NO, ';', NULL, NULL, 1, NULL, 0, 0},
        {CSV_HEADER_YES, 0, "0", NULL, 0, "1", 0, 1},
        {CSV_HEADER_AUTO, '\t', NULL, "a", 0, "b,2", 1, 1},
    };
    for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
        dataset d;
        int st = data_load(&d, path, &modes[m]);
        if (st == ST_OK)
            check_loaded(&d);
        else
            REQUIRE(cli_last_message()[0] != '\0');
        data_free(&d);
    }
    return 0;
}
