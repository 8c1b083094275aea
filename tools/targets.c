/* SPDX-License-Identifier: MIT */
/*
 * Labels to targets. A classifier's labels are integer classes 0..K-1, one
 * per sample, turned into one-hot rows for the softmax and cross-entropy
 * the network trains with; a regressor's labels are the target values
 * themselves, as many per sample as the network has outputs.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "inputs.h"

static int class_of(const dataset *labels, size_t i, size_t n_out,
                    size_t *cls)
{
    float v = labels->x[i];
    char where[512];
    if (v == floorf(v) && v >= 0.0f && v < (float)n_out) {
        *cls = (size_t)v;
        return ST_OK;
    }
    data_where(labels, i, 0, where, sizeof where);
    if (v != floorf(v))
        return cli_fail("%s: label %g is not an integer class (classes are "
                        "0..%zu; for real-valued targets use --task "
                        "regress)", where, (double)v, n_out - 1);
    return cli_fail("%s: label %g is out of range: the output layer has %zu "
                    "units, so classes are 0..%zu", where, (double)v, n_out,
                    n_out - 1);
}

static int make_classes(const dataset *labels, size_t n_out, targets *t)
{
    if (labels->cols != 1)
        return cli_fail("%s: classification needs one label per sample, "
                        "this has %zu value%s per sample", labels->path,
                        labels->cols, CLI_S(labels->cols));
    t->y = calloc(labels->rows * n_out, sizeof *t->y);
    t->cls = malloc(labels->rows * sizeof *t->cls);
    if (!t->y || !t->cls)
        return cli_fail("out of memory for %zu targets", labels->rows);
    for (size_t i = 0; i < labels->rows; i++) {
        int st = class_of(labels, i, n_out, &t->cls[i]);
        if (st != ST_OK)
            return st;
        t->y[i * n_out + t->cls[i]] = 1.0f;
    }
    return ST_OK;
}

static int make_values(const dataset *labels, size_t n_out, targets *t)
{
    if (labels->cols != n_out)
        return cli_fail("%s: %zu target value%s per sample, but the output "
                        "layer has %zu unit%s", labels->path, labels->cols,
                        CLI_S(labels->cols), n_out, CLI_S(n_out));
    t->y = malloc(labels->rows * n_out * sizeof *t->y);
    if (!t->y)
        return cli_fail("out of memory for %zu targets", labels->rows);
    memcpy(t->y, labels->x, labels->rows * n_out * sizeof *t->y);
    return ST_OK;
}

int targets_make(const dataset *labels, int classify, size_t n_out,
                 targets *t)
{
    memset(t, 0, sizeof *t);
    t->n = labels->rows;
    t->k = n_out;
    int st = classify ? make_classes(labels, n_out, t)
                      : make_values(labels, n_out, t);
    if (st != ST_OK)
        targets_free(t);
    return st;
}

void targets_free(targets *t)
{
    free(t->y);
    free(t->cls);
    t->y = NULL;
    t->cls = NULL;
}
