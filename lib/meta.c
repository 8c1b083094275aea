/* SPDX-License-Identifier: MIT */
/*
 * What a model knows about its data: the task, the class names, the
 * feature names and the label column's name (nn.h, "What the model knows
 * about its data"). Metadata only: kept, copied, saved and loaded, never
 * read by training or inference. Every setter builds the new value aside
 * and swaps it in only when complete, so a failed call changes nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static void names_free(nn__names *names)
{
    for (size_t i = 0; i < names->n; i++)
        free(names->s[i]);
    free(names->s);
    names->s = NULL;
    names->n = 0;
}

/* *dst = copies of the n strings at src; NN_OK or NN_ENOMEM (*dst empty). */
static int names_copy(nn__names *dst, size_t n, const char *const *src)
{
    dst->n = 0;
    dst->s = n ? calloc(n, sizeof *dst->s) : NULL;
    if (n && !dst->s)
        return NN_ENOMEM;
    for (; dst->n < n; dst->n++) {
        size_t len = strlen(src[dst->n]) + 1;
        if (!(dst->s[dst->n] = malloc(len))) {
            names_free(dst);
            return NN_ENOMEM;
        }
        memcpy(dst->s[dst->n], src[dst->n], len);
    }
    return NN_OK;
}

void nn__meta_free(nn__meta *meta)
{
    names_free(&meta->classes);
    names_free(&meta->features);
    free(meta->label);
    meta->label = NULL;
    meta->task = NN_TASK_AUTO;
}

int nn__meta_copy(nn__meta *dst, const nn__meta *src)
{
    memset(dst, 0, sizeof *dst);
    dst->task = src->task;
    size_t len = src->label ? strlen(src->label) + 1 : 0;
    if ((len && !(dst->label = malloc(len))) ||
        names_copy(&dst->classes, src->classes.n,
                   (const char *const *)src->classes.s) != NN_OK ||
        names_copy(&dst->features, src->features.n,
                   (const char *const *)src->features.s) != NN_OK) {
        nn__meta_free(dst);
        return NN_ENOMEM;
    }
    if (len)
        memcpy(dst->label, src->label, len);
    return NN_OK;
}

/* Checks that the n names are present, non-empty and distinct (n is
 * small next to the network: the quadratic check costs nothing). */
static int check_names(nn_net *net, const char *who, size_t n,
                       const char *const *names)
{
    NN__CHECK(net, n == 0 || names, NN_EINVAL, "%s: names is NULL", who);
    for (size_t i = 0; i < n; i++) {
        NN__CHECK(net, names[i] && names[i][0], NN_EINVAL,
                  "%s: names[%zu] is NULL or empty", who, i);
        for (size_t j = 0; j < i; j++)
            NN__CHECK(net, strcmp(names[i], names[j]) != 0, NN_EINVAL,
                      "%s: names[%zu] and names[%zu] are both '%.64s'", who,
                      j, i, names[i]);
    }
    return NN_OK;
}

/* Replaces *field by copies of the names, after check_names. */
static int replace_names(nn_net *net, const char *who, nn__names *field,
                         size_t n, const char *const *names)
{
    NN__TRY(check_names(net, who, n, names));
    nn__names fresh;
    NN__CHECK(net, names_copy(&fresh, n, names) == NN_OK, NN_ENOMEM,
              "%s: out of memory for %zu names", who, n);
    names_free(field);
    *field = fresh;
    return NN_OK;
}

int nn_set_task(nn_net *net, int task)
{
    NN__CHECK(NULL, net, NN_EINVAL, "nn_set_task: net is NULL");
    NN__CHECK(net, task >= NN_TASK_AUTO && task <= NN_TASK_REGRESS, NN_EINVAL,
              "nn_set_task: task %d is unknown", task);
    net->meta.task = task;
    return NN_OK;
}

int nn_get_task(const nn_net *net)
{
    NN__CHECK(NULL, net, NN_EINVAL, "nn_get_task: net is NULL");
    if (net->meta.task != NN_TASK_AUTO)
        return net->meta.task;
    int loss = net->set.loss;
    return loss == NN_LOSS_CROSS_ENTROPY ||
                   loss == NN_LOSS_BINARY_CROSS_ENTROPY
               ? NN_TASK_CLASSIFY
               : NN_TASK_REGRESS;
}

int nn_set_classes(nn_net *net, size_t n, const char *const *names)
{
    NN__CHECK(NULL, net, NN_EINVAL, "nn_set_classes: net is NULL");
    size_t outputs = net->sizes[net->n_sizes - 1];
    NN__CHECK(net, n == 0 || n == outputs || (outputs == 1 && n == 2),
              NN_ESHAPE,
              "nn_set_classes: %zu names for an output layer of %zu unit%s "
              "(give one per output%s)",
              n, outputs, outputs == 1 ? "" : "s",
              outputs == 1 ? ", or 2 for a binary classifier" : "");
    return replace_names(net, "nn_set_classes", &net->meta.classes, n, names);
}

size_t nn_classes(const nn_net *net, const char *const **names)
{
    if (names)
        *names = net && net->meta.classes.n
                     ? (const char *const *)net->meta.classes.s
                     : NULL;
    return net ? net->meta.classes.n : 0;
}

int nn_set_feature_names(nn_net *net, size_t n, const char *const *names)
{
    NN__CHECK(NULL, net, NN_EINVAL, "nn_set_feature_names: net is NULL");
    NN__CHECK(net, n == 0 || n == net->sizes[0], NN_ESHAPE,
              "nn_set_feature_names: %zu names for %zu inputs", n,
              net->sizes[0]);
    return replace_names(net, "nn_set_feature_names", &net->meta.features, n,
                         names);
}

size_t nn_feature_names(const nn_net *net, const char *const **names)
{
    if (names)
        *names = net && net->meta.features.n
                     ? (const char *const *)net->meta.features.s
                     : NULL;
    return net ? net->meta.features.n : 0;
}

int nn_set_label_name(nn_net *net, const char *name)
{
    NN__CHECK(NULL, net, NN_EINVAL, "nn_set_label_name: net is NULL");
    char *copy = NULL;
    if (name && name[0]) {
        size_t len = strlen(name) + 1;
        NN__CHECK(net, (copy = malloc(len)), NN_ENOMEM,
                  "nn_set_label_name: out of memory");
        memcpy(copy, name, len);
    }
    free(net->meta.label);
    net->meta.label = copy;
    return NN_OK;
}

const char *nn_label_name(const nn_net *net)
{
    return net ? net->meta.label : NULL;
}
