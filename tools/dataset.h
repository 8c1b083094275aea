/* SPDX-License-Identifier: MIT */
/*
 * Layer 2 of tools/ (the layers and their rule: cli.h).
 *
 * A data set as the tool holds it, a matrix of floats, one sample per
 * row, with where each value came from, so that every message about a bad
 * value names the file, line and column (CSV) or the element (IDX, .npy);
 * and the stream a reader fills it from. It knows no format.
 */
#ifndef NN_TOOL_DATASET_H
#define NN_TOOL_DATASET_H

#include <stddef.h>
#include <stdint.h>

typedef enum data_format { DATA_CSV, DATA_IDX, DATA_NPY } data_format;

typedef struct dataset {
    const char *path;  /* as given on the command line; not owned */
    data_format format;
    size_t rows, cols;
    float *x;          /* rows x cols, row-major, all finite but for the
                          text column */
    char **names;      /* CSV header: one name per column; NULL without */
    size_t *line;      /* CSV: 1-based line of each row; NULL otherwise */
    size_t *column;    /* CSV: 1-based file column of each column */
    /* CSV: the label column's cells as text (class names may be words):
     * its x values are the numbers the cells hold, NaN for the cells that
     * are not numbers. text is NULL when no column is kept as text. */
    size_t text_col;   /* which column */
    char **text;       /* its distinct cells, in order of appearance */
    size_t n_text;
    uint32_t *text_id; /* per row: the index of its cell in text */
    size_t dropped;    /* rows skipped for a missing value (--na drop) */
} dataset;

void data_free(dataset *d);

/* Frees the text of the text column only. */
void data_free_text(dataset *d);

/* "file.csv:LINE:COLUMN" for CSV, "file.npy: element [ROW, COL]" for the
 * array formats: where value (row, col) came from. */
void data_where(const dataset *d, size_t row, size_t col, char *buf,
                size_t cap);

/* "file.csv:LINE" for CSV, "file.npy: row ROW" (0-based) for the array
 * formats: where sample `row` came from. */
void data_where_row(const dataset *d, size_t row, char *buf, size_t cap);

/* The longest IDX header, the magic and 255 dimensions: a stream reads
 * this much first, which tells every format apart. */
#define DATA_HEAD_BYTES (4 + 4 * 255)

/* A file being read through zlib (which passes uncompressed files through
 * unchanged, so any format may be gzipped): its first bytes, read on
 * opening to tell the format, then the rest of the stream. The readers
 * convert values as they arrive, so that the file's bytes are never held
 * whole beside their floats (a training run's peak memory is then the
 * data as floats plus a chunk: docs/performance.md, "Memory"). */
typedef struct data_stream {
    void *gz;                  /* gzFile */
    const char *path;          /* for messages */
    unsigned char head[DATA_HEAD_BYTES];
    size_t head_len, head_pos; /* the first bytes, and how many are read */
} data_stream;

/* Opens `path` ("-": standard input) and reads its first bytes; `shown`
 * names it in messages. ST_OK, or ST_FAIL after one message (closed). */
int data_stream_open(data_stream *s, const char *path, const char *shown);

/* Closes the stream; a reading that went well (`st` ST_OK) fails still
 * when the gzip stream turns out truncated. Returns the status. */
int data_stream_close(data_stream *s, int st);

/* Reads up to `cap` bytes into `buf`; *got receives how many, 0 at the end
 * of the file. ST_OK, or ST_FAIL after one message. */
int data_read(data_stream *s, void *buf, size_t cap, size_t *got);

/* How a binary format stores its values. */
typedef struct data_binary {
    char kind;    /* 'f' float, 'i' signed, 'u' unsigned, 'b' bool */
    size_t size;  /* bytes per value: 1, 2, 4 or 8 (floats 4 or 8) */
    int big;      /* big-endian */
    int fortran;  /* column after column (the values stay in that order) */
} data_binary;

/* The d->rows x d->cols values of a binary format, read a chunk at a time
 * and converted into d->x, which grows as they arrive (by remapping, not
 * copying), so a header that promises more than the file holds costs no
 * more than the file. A value that is not a finite float fails, named by
 * its place. *done receives the number of whole values read: fewer than
 * rows x cols when the file is short, which the caller reports in its
 * format's words. */
int data_read_binary(dataset *d, data_stream *s, const data_binary *type,
                     size_t *done);

#endif
