/* SPDX-License-Identifier: MIT */
/*
 * Labels to targets. A classifier's labels are class names (words, or
 * numbers with any values), sorted as scikit-learn sorts them and turned
 * into one-hot rows for the softmax and cross-entropy the network trains
 * with (or a single 0/1 value for a sigmoid output); a regressor's labels
 * are the target values themselves, as many per sample as the network has
 * outputs.
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "inputs.h"

/* The label of row i as text: its CSV cell, or its number. */
static const char *label_text(const dataset *y, size_t i, char *buf,
                              size_t cap)
{
    if (y->text)
        return y->text[y->text_id[i]];
    snprintf(buf, cap, "%.9g", (double)y->x[i]);
    return buf;
}

/* Whether every label is a number (the CSV column's NaN marks a word). */
static int all_numbers(const dataset *y)
{
    for (size_t i = 0; i < y->rows * y->cols; i++)
        if (isnan(y->x[i]))
            return 0;
    return 1;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static int cmp_string(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The distinct values of y's numbers, sorted, into a malloc'd array. */
static int distinct_values(const dataset *y, float **out, size_t *n)
{
    float *v = malloc((y->rows ? y->rows : 1) * sizeof *v);
    if (!v)
        return cli_fail("out of memory");
    memcpy(v, y->x, y->rows * sizeof *v);
    qsort(v, y->rows, sizeof *v, cmp_float);
    size_t k = 0;
    for (size_t i = 0; i < y->rows; i++)
        if (k == 0 || v[i] != v[k - 1])
            v[k++] = v[i];
    *out = v;
    *n = k;
    return ST_OK;
}

int labels_look_like_classes(const dataset *y)
{
    if (y->cols != 1)
        return 0;
    if (!all_numbers(y))
        return 1;
    size_t distinct = 0;
    float *v = NULL;
    if (distinct_values(y, &v, &distinct) != ST_OK)
        return 0;
    int integers = 1;
    for (size_t i = 0; i < distinct; i++)
        integers &= v[i] == floorf(v[i]);
    free(v);
    return integers && distinct <= CLASSES_MAX;
}

void classes_free(class_list *c)
{
    for (size_t j = 0; c->names && j < c->k; j++)
        free(c->names[j]);
    free(c->names);
    c->names = NULL;
    c->k = 0;
}

/* Room for k names. */
static int classes_alloc(class_list *c, size_t k)
{
    c->k = k;
    c->names = calloc(k ? k : 1, sizeof *c->names);
    return c->names ? ST_OK : cli_fail("out of memory");
}

int classes_from_labels(const dataset *y, class_list *c)
{
    memset(c, 0, sizeof *c);
    int st = ST_OK;
    if (all_numbers(y)) { /* by value: "1" and "1.0" are one class */
        float *v = NULL;
        size_t k;
        st = distinct_values(y, &v, &k);
        if (st == ST_OK)
            st = classes_alloc(c, k);
        for (size_t j = 0; st == ST_OK && j < k; j++) {
            char buf[32];
            snprintf(buf, sizeof buf, "%.9g", (double)v[j]);
            if (!(c->names[j] = strdup(buf)))
                st = cli_fail("out of memory");
        }
        free(v);
    } else { /* the distinct cells */
        st = classes_alloc(c, y->n_text);
        for (size_t j = 0; st == ST_OK && j < y->n_text; j++)
            if (!(c->names[j] = strdup(y->text[j])))
                st = cli_fail("out of memory");
        if (st == ST_OK)
            qsort(c->names, c->k, sizeof *c->names, cmp_string);
    }
    if (st != ST_OK)
        classes_free(c);
    return st;
}

int classes_numbered(class_list *c, size_t k)
{
    classes_free(c);
    int st = classes_alloc(c, k);
    for (size_t j = 0; st == ST_OK && j < k; j++) {
        char buf[32];
        snprintf(buf, sizeof buf, "%zu", j);
        if (!(c->names[j] = strdup(buf)))
            st = cli_fail("out of memory");
    }
    if (st != ST_OK)
        classes_free(c);
    return st;
}

int classes_from_model(const nn_net *net, class_list *c)
{
    const char *const *names;
    size_t k = nn_classes(net, &names);
    size_t outputs = nn_layer_size(net, nn_num_layers(net) - 1);
    memset(c, 0, sizeof *c);
    if (k == 0)
        return classes_numbered(c, outputs == 1 ? 2 : outputs);
    int st = classes_alloc(c, k);
    for (size_t j = 0; st == ST_OK && j < k; j++)
        if (!(c->names[j] = strdup(names[j])))
            st = cli_fail("out of memory");
    if (st != ST_OK)
        classes_free(c);
    return st;
}

void classes_list(const class_list *c, char *buf, size_t cap)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t j = 0; j < c->k && used + 1 < cap; j++) {
        int n = j < 12 ? snprintf(buf + used, cap - used, "%s%s",
                                  j ? ", " : "", c->names[j])
                       : snprintf(buf + used, cap - used, ", ...");
        if (n < 0)
            break;
        used += (size_t)n;
        if (j >= 12)
            break;
    }
}

/* The class of a label: the class of that name, else (a number) the
 * class whose name is the same number. */
static int class_of(const class_list *c, const char *text, float value,
                    size_t *cls)
{
    for (size_t j = 0; j < c->k; j++)
        if (strcmp(c->names[j], text) == 0) {
            *cls = j;
            return 1;
        }
    for (size_t j = 0; !isnan(value) && j < c->k; j++) {
        double v;
        if (csv_number(c->names[j], &v) && (float)v == value) {
            *cls = j;
            return 1;
        }
    }
    return 0;
}

static int unknown_label(const dataset *labels, size_t i,
                         const class_list *c, const char *text)
{
    char where[512], list[256];
    data_where(labels, i, 0, where, sizeof where);
    classes_list(c, list, sizeof list);
    return cli_fail("%s: label '%.40s' is not one of the %zu classes (%s)",
                    where, text, c->k, list);
}

/* Each distinct cell's class, looked up once; (size_t)-1 for none. */
static int classes_of_cells(const dataset *labels, const class_list *c,
                            size_t **of)
{
    *of = malloc((labels->n_text ? labels->n_text : 1) * sizeof **of);
    if (!*of)
        return cli_fail("out of memory");
    for (size_t j = 0; j < labels->n_text; j++) {
        double v;
        float value = csv_number(labels->text[j], &v) ? (float)v : NAN;
        if (!class_of(c, labels->text[j], value, &(*of)[j]))
            (*of)[j] = (size_t)-1;
    }
    return ST_OK;
}

static int make_classes(const dataset *labels, const class_list *c,
                        size_t n_out, targets *t)
{
    if (labels->cols != 1)
        return cli_fail("%s: classification needs one label per sample, "
                        "this has %zu value%s per sample", labels->path,
                        labels->cols, CLI_S(labels->cols));
    if (n_out != c->k && !(n_out == 1 && c->k == 2))
        return cli_fail("%s: %zu classes, but the output layer has %zu "
                        "unit%s", labels->path, c->k, n_out, CLI_S(n_out));
    t->n_classes = c->k;
    t->y = calloc(labels->rows * n_out, sizeof *t->y);
    t->cls = malloc(labels->rows * sizeof *t->cls);
    size_t *of = NULL;
    if (!t->y || !t->cls)
        return cli_fail("out of memory for %zu targets", labels->rows);
    if (labels->text && classes_of_cells(labels, c, &of) != ST_OK)
        return ST_FAIL;
    int st = ST_OK;
    for (size_t i = 0; st == ST_OK && i < labels->rows; i++) {
        char buf[32];
        const char *text = label_text(labels, i, buf, sizeof buf);
        int found = of ? (t->cls[i] = of[labels->text_id[i]]) != (size_t)-1
                       : class_of(c, text, labels->x[i], &t->cls[i]);
        if (!found)
            st = unknown_label(labels, i, c, text);
        else if (n_out == 1) /* a sigmoid: the second class is 1 */
            t->y[i] = (float)t->cls[i];
        else
            t->y[i * n_out + t->cls[i]] = 1.0f;
    }
    free(of);
    return st;
}

static int make_values(const dataset *labels, size_t n_out, targets *t)
{
    if (labels->cols != n_out)
        return cli_fail("%s: %zu target value%s per sample, but the output "
                        "layer has %zu unit%s", labels->path, labels->cols,
                        CLI_S(labels->cols), n_out, CLI_S(n_out));
    for (size_t i = 0; i < labels->rows * n_out; i++)
        if (isnan(labels->x[i])) {
            char where[512], buf[32];
            data_where(labels, i / n_out, i % n_out, where, sizeof where);
            return cli_fail("%s: '%.40s' is not a number, and regression "
                            "needs numbers (for classes: --task classify)",
                            where, label_text(labels, i / n_out, buf,
                                              sizeof buf));
        }
    t->y = malloc(labels->rows * n_out * sizeof *t->y);
    if (!t->y)
        return cli_fail("out of memory for %zu targets", labels->rows);
    memcpy(t->y, labels->x, labels->rows * n_out * sizeof *t->y);
    return ST_OK;
}

int targets_make(const dataset *labels, const class_list *classes,
                 size_t n_out, targets *t)
{
    memset(t, 0, sizeof *t);
    t->n = labels->rows;
    t->k = n_out;
    int st = classes ? make_classes(labels, classes, n_out, t)
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
