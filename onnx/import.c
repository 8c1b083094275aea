/* SPDX-License-Identifier: MIT */
/*
 * Import: an ONNX model (nn_onnx.h says which) as a new libnn network.
 * The graph is walked once, in node order, as a chain from the single
 * input to the single output: every node must take the value the previous
 * one made, so anything that branches, or whose weights are computed at
 * run time, stops the walk with a message naming the node and its op. The
 * network is built through libnn's public API only after the whole graph
 * has been read.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx_internal.h"

/* Dimensions above this are refused before any product is formed. */
#define MAX_DIM ((int64_t)1 << 31)

typedef struct layer {
    const float *w; /* weights, [in][out] or, if w_trans, [out][in] */
    int w_trans;
    const float *bias; /* out floats, or NULL */
    size_t in, out;
    nn_activation act;
    int has_act;
    const Onnx__NodeProto *act_node;
} layer;

typedef struct named {
    const char *name;
    const Onnx__TensorProto *tensor;
} named;

typedef struct walk {
    const Onnx__GraphProto *g;
    named *constants; /* sorted by name */
    size_t n_constants;
    nn_onnx__arena arena; /* decoded tensors */
    const char *cur;      /* the value the chain has reached */
    size_t width;         /* its columns; 0 until known */
    layer *layers;
    size_t n_layers, cap_layers;
    const float *shift, *scale;
    int shift_negated, matmul_open; /* an Add may follow the last MatMul */
    size_t input_rank;              /* of a graph input not of rank 2, else 0 */
    const char *input_name;         /* the graph input the chain starts from */
    const char *extra_input;        /* a second graph input, or NULL */
    const Onnx__NodeProto *node;    /* the node being read */
    size_t node_index;
} walk;

/* "node 'NAME' (OP)", or "node #I (OP)" for a node without a name. */
static int node_fail(const walk *w, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static int node_fail(const walk *w, const char *fmt, ...)
{
    char what[300], detail[400];
    const Onnx__NodeProto *n = w->node;
    if (n->name && n->name[0])
        snprintf(what, sizeof what, "node '%.200s'", n->name);
    else
        snprintf(what, sizeof what, "node #%zu", w->node_index);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    return nn_onnx__fail(NN_EFORMAT, "%s (%.60s): %s", what,
                         n->op_type ? n->op_type : "", detail);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const named *)a)->name, ((const named *)b)->name);
}

/* The table of constants, by name: initializers, then Constant nodes of a
 * tensor `value`, sorted so that each look-up is a binary search (a graph
 * of many nodes must not take quadratic time). */
static int index_constants(walk *w)
{
    const Onnx__GraphProto *g = w->g;
    size_t n = 0;
    named *t = nn_onnx__alloc(&w->arena,
                              (g->n_initializer + g->n_node + 1) * sizeof *t);
    if (!t)
        return nn_onnx__fail(NN_ENOMEM, "out of memory");
    for (size_t i = 0; i < g->n_initializer; i++)
        if (g->initializer[i]->name)
            t[n++] = (named){g->initializer[i]->name, g->initializer[i]};
    for (size_t i = 0; i < g->n_node; i++) {
        const Onnx__NodeProto *c = g->node[i];
        if (c->op_type && !strcmp(c->op_type, "Constant") && c->n_output == 1 &&
            c->n_attribute == 1 && c->attribute[0]->t &&
            c->attribute[0]->name && !strcmp(c->attribute[0]->name, "value"))
            t[n++] = (named){c->output[0], c->attribute[0]->t};
    }
    qsort(t, n, sizeof *t, by_name);
    w->constants = t;
    w->n_constants = n;
    return NN_OK;
}

static const Onnx__TensorProto *find_tensor(const walk *w, const char *name)
{
    named key = {name, NULL};
    const named *hit =
        bsearch(&key, w->constants, w->n_constants, sizeof key, by_name);
    return hit ? hit->tensor : NULL;
}

/* The floats of tensor `t` (decoded into the arena), its rank and its
 * dimensions; `name` names it in messages. */
static int tensor_floats(walk *w, const Onnx__TensorProto *t, const char *name,
                         const float **data, size_t *rank, size_t dims[2])
{
    if (!t->has_data_type ||
        t->data_type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT)
        return node_fail(w, "'%.100s' is not a tensor of 32-bit floats", name);
    if (t->segment ||
        (t->has_data_location &&
         t->data_location != ONNX__TENSOR_PROTO__DATA_LOCATION__DEFAULT))
        return node_fail(w,
                         "'%.100s' is stored outside the file or in "
                         "segments",
                         name);
    if (t->n_dims > 2)
        return node_fail(w,
                         "'%.100s' has %zu dimensions, at most 2 are "
                         "supported",
                         name, t->n_dims);
    size_t count = 1;
    dims[0] = dims[1] = 1;
    for (size_t i = 0; i < t->n_dims; i++) {
        if (t->dims[i] < 1 || t->dims[i] > MAX_DIM)
            return node_fail(w, "'%.100s' has dimension %lld", name,
                             (long long)t->dims[i]);
        dims[i] = (size_t)t->dims[i];
        if (count > SIZE_MAX / dims[i])
            return node_fail(w, "'%.100s' is too large", name);
        count *= dims[i];
    }
    *rank = t->n_dims;
    size_t have = t->has_raw_data ? t->raw_data.len / 4 : t->n_float_data;
    if ((t->has_raw_data && t->raw_data.len % 4) || have != count)
        return node_fail(w, "'%.100s' holds %zu values for a shape of %zu",
                         name, have, count);
    float *v = nn_onnx__alloc(&w->arena, count * sizeof *v);
    if (!v)
        return nn_onnx__fail(NN_ENOMEM, "out of memory for '%.100s'", name);
    for (size_t i = 0; i < count; i++) {
        if (t->has_raw_data) { /* little-endian, whatever the host */
            const uint8_t *p = t->raw_data.data + 4 * i;
            uint32_t bits = (uint32_t)p[0] | (uint32_t)p[1] << 8 |
                            (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
            memcpy(&v[i], &bits, sizeof bits);
        } else {
            v[i] = t->float_data[i];
        }
        if (!isfinite(v[i]))
            return node_fail(w, "'%.100s' holds a NaN or an infinity", name);
    }
    *data = v;
    return NN_OK;
}

/* The constant `name`, which must be a matrix (rows x cols, either
 * unknown as 0) or, with `vector`, `len` floats as [len] or [1, len]. */
static int constant(walk *w, const char *name, int vector, size_t len,
                    const float **data, size_t dims[2])
{
    const Onnx__TensorProto *t = find_tensor(w, name);
    if (!t)
        return node_fail(w,
                         "'%.100s' is not an initializer or a constant "
                         "(weights computed at run time are not supported)",
                         name);
    size_t rank = 0;
    int rc = tensor_floats(w, t, name, data, &rank, dims);
    if (rc != NN_OK)
        return rc;
    if (!vector && rank != 2)
        return node_fail(w, "'%.100s' is not a matrix", name);
    if (vector && !(rank == 1 || (rank == 2 && dims[0] == 1)))
        return node_fail(w, "'%.100s' is not a vector", name);
    size_t n = rank == 1 ? dims[0] : dims[1];
    if (vector && n != len)
        return node_fail(w,
                         "'%.100s' has %zu values where the value it "
                         "applies to has %zu columns",
                         name, n, len);
    return NN_OK;
}

/* The attribute `key` of the node, or NULL. */
static const Onnx__AttributeProto *attribute(const Onnx__NodeProto *n,
                                             const char *key)
{
    for (size_t i = 0; i < n->n_attribute; i++)
        if (n->attribute[i]->name && !strcmp(n->attribute[i]->name, key))
            return n->attribute[i];
    return NULL;
}

/* Refuses attributes outside `known` (NULL-terminated). */
static int only_attributes(const walk *w, const char *const *known)
{
    for (size_t i = 0; i < w->node->n_attribute; i++) {
        const char *key = w->node->attribute[i]->name;
        size_t k = 0;
        while (known[k] && (!key || strcmp(known[k], key)))
            k++;
        if (!known[k])
            return node_fail(w, "attribute '%.60s' is not supported",
                             key ? key : "");
    }
    return NN_OK;
}

static int int_attribute(const walk *w, const char *key, int64_t dflt,
                         int64_t *out)
{
    const Onnx__AttributeProto *a = attribute(w->node, key);
    *out = dflt;
    if (!a)
        return NN_OK;
    if (!a->has_i)
        return node_fail(w, "attribute '%s' is not an integer", key);
    *out = a->i;
    return NN_OK;
}

static int float_attribute(const walk *w, const char *key, float dflt,
                           float *out)
{
    const Onnx__AttributeProto *a = attribute(w->node, key);
    *out = dflt;
    if (!a)
        return NN_OK;
    if (!a->has_f)
        return node_fail(w, "attribute '%s' is not a float", key);
    *out = a->f;
    return NN_OK;
}

/* A new weight layer of `in` x `out`, after the previous one's end. */
static int open_layer(walk *w, const float *weights, int trans, size_t in,
                      size_t out)
{
    if (w->width && in != w->width)
        return node_fail(w,
                         "weights of %zu inputs follow a value of %zu "
                         "columns: the shapes do not chain",
                         in, w->width);
    if (w->n_layers && w->layers[w->n_layers - 1].act == NN_SOFTMAX) {
        w->node = w->layers[w->n_layers - 1].act_node;
        return node_fail(w, "libnn has softmax on the last layer only");
    }
    if (w->n_layers == w->cap_layers) { /* doubling: O(n) in the arena */
        size_t cap = w->cap_layers ? 2 * w->cap_layers : 8;
        layer *grown = nn_onnx__alloc(&w->arena, cap * sizeof *grown);
        if (!grown)
            return nn_onnx__fail(NN_ENOMEM, "out of memory");
        if (w->n_layers)
            memcpy(grown, w->layers, w->n_layers * sizeof *grown);
        w->layers = grown;
        w->cap_layers = cap;
    }
    layer *l = &w->layers[w->n_layers++];
    l->w = weights;
    l->w_trans = trans;
    l->in = in;
    l->out = out;
    l->act = NN_IDENTITY;
    w->width = out;
    return NN_OK;
}

static int read_gemm(walk *w)
{
    const Onnx__NodeProto *n = w->node;
    int rc = only_attributes(
        w, (const char *const[]){"alpha", "beta", "transA", "transB", NULL});
    int64_t trans_a, trans_b;
    float alpha, beta;
    if (rc == NN_OK)
        rc = int_attribute(w, "transA", 0, &trans_a);
    if (rc == NN_OK)
        rc = int_attribute(w, "transB", 0, &trans_b);
    if (rc == NN_OK)
        rc = float_attribute(w, "alpha", 1.0f, &alpha);
    if (rc == NN_OK)
        rc = float_attribute(w, "beta", 1.0f, &beta);
    if (rc != NN_OK)
        return rc;
    if (trans_a != 0 || alpha != 1.0f || beta != 1.0f || (trans_b >> 1))
        return node_fail(w, "only alpha = beta = 1 and transA = 0 are "
                            "supported");
    if (n->n_input < 2 || n->n_input > 3)
        return node_fail(w, "%zu inputs", n->n_input);
    const float *weights, *bias = NULL;
    size_t dims[2], bdims[2];
    if ((rc = constant(w, n->input[1], 0, 0, &weights, dims)) != NN_OK)
        return rc;
    size_t in = trans_b ? dims[1] : dims[0], out = trans_b ? dims[0] : dims[1];
    if (n->n_input == 3 && n->input[2][0] &&
        (rc = constant(w, n->input[2], 1, out, &bias, bdims)) != NN_OK)
        return rc;
    if ((rc = open_layer(w, weights, (int)trans_b, in, out)) != NN_OK)
        return rc;
    w->layers[w->n_layers - 1].bias = bias;
    return NN_OK;
}

static int read_matmul(walk *w)
{
    const Onnx__NodeProto *n = w->node;
    int rc = only_attributes(w, (const char *const[]){NULL});
    const float *weights;
    size_t dims[2];
    if (rc == NN_OK && n->n_input != 2)
        rc = node_fail(w, "%zu inputs", n->n_input);
    if (rc == NN_OK)
        rc = constant(w, n->input[1], 0, 0, &weights, dims);
    if (rc == NN_OK)
        rc = open_layer(w, weights, 0, dims[0], dims[1]);
    w->matmul_open = rc == NN_OK;
    return rc;
}

/* The constant operand of a two-input node whose other input is the
 * chain (either order when `commutes`). */
static int operand(walk *w, int commutes, const char **name)
{
    const Onnx__NodeProto *n = w->node;
    int rc = only_attributes(w, (const char *const[]){NULL});
    if (rc != NN_OK)
        return rc;
    if (n->n_input != 2)
        return node_fail(w, "%zu inputs", n->n_input);
    if (!strcmp(n->input[0], w->cur))
        *name = n->input[1];
    else if (commutes && !strcmp(n->input[1], w->cur))
        *name = n->input[0];
    else
        return node_fail(w,
                         "does not take '%.100s', the output of the "
                         "node before",
                         w->cur);
    if (!w->width)
        return node_fail(w, "the graph input's columns are not known");
    return NN_OK;
}

/* Add: a MatMul's bias, or the shift of the input transform. */
static int read_add_or_sub(walk *w, int is_add, int after_matmul)
{
    const char *name;
    const float *v;
    size_t dims[2];
    int rc = operand(w, is_add, &name);
    if (rc == NN_OK)
        rc = constant(w, name, 1, w->width, &v, dims);
    if (rc != NN_OK)
        return rc;
    if (is_add && after_matmul) {
        w->layers[w->n_layers - 1].bias = v;
        return NN_OK;
    }
    if (w->n_layers || w->shift || w->scale)
        return node_fail(w, "only a MatMul's bias, or the input transform "
                            "(Sub or Add, then Mul, before the first layer)");
    w->shift = v;
    w->shift_negated = is_add;
    return NN_OK;
}

static int read_mul(walk *w)
{
    const char *name;
    size_t dims[2];
    int rc = operand(w, 1, &name);
    if (rc == NN_OK && (w->n_layers || w->scale))
        rc = node_fail(w, "only the input transform's scale (before the "
                          "first layer) is supported");
    if (rc == NN_OK)
        rc = constant(w, name, 1, w->width, &w->scale, dims);
    return rc;
}

static int read_activation(walk *w, nn_activation act)
{
    int rc = NN_OK;
    if (act == NN_LEAKY_RELU) {
        float alpha;
        rc = only_attributes(w, (const char *const[]){"alpha", NULL});
        if (rc == NN_OK)
            rc = float_attribute(w, "alpha", 0.01f, &alpha);
        if (rc == NN_OK && alpha != 0.01f)
            rc = node_fail(w, "alpha %g: libnn's leaky ReLU has slope 0.01",
                           (double)alpha);
    } else if (act == NN_SOFTMAX) {
        int64_t axis; /* rank 2: both 1 and -1 are the row */
        rc = only_attributes(w, (const char *const[]){"axis", NULL});
        if (rc == NN_OK)
            rc = int_attribute(w, "axis", 1, &axis);
        if (rc == NN_OK && axis != 1 && axis != -1)
            rc = node_fail(w,
                           "axis %lld: libnn's softmax is over the "
                           "last axis",
                           (long long)axis);
    } else {
        rc = only_attributes(w, (const char *const[]){NULL});
    }
    if (rc != NN_OK)
        return rc;
    layer *l = w->n_layers ? &w->layers[w->n_layers - 1] : NULL;
    if (!l || l->has_act)
        return node_fail(w, "an activation must follow a Gemm or MatMul, "
                            "one per layer");
    l->act = act;
    l->has_act = 1;
    l->act_node = w->node;
    return NN_OK;
}

static const struct {
    const char *op;
    nn_activation act;
} activations[] = {{"Relu", NN_RELU},
                   {"LeakyRelu", NN_LEAKY_RELU},
                   {"Tanh", NN_TANH},
                   {"Sigmoid", NN_SIGMOID},
                   {"Softmax", NN_SOFTMAX}};
#define N_ACTIVATIONS (sizeof activations / sizeof *activations)

static int read_node(walk *w)
{
    const Onnx__NodeProto *n = w->node;
    const char *op = n->op_type ? n->op_type : "";
    if (!strcmp(op, "Constant"))
        return NN_OK; /* read where used */
    if (n->domain && n->domain[0] && strcmp(n->domain, "ai.onnx"))
        return node_fail(w, "op of domain '%.60s' not supported", n->domain);
    if (n->n_input < 1 || strcmp(n->input[0], w->cur) || n->n_output != 1) {
        /* Add and Mul may take the chain second */
        int second = n->n_input == 2 && !strcmp(n->input[1], w->cur) &&
                     (!strcmp(op, "Add") || !strcmp(op, "Mul"));
        if (!second || n->n_output != 1)
            return node_fail(w,
                             "not a step of a chain from the graph input "
                             "(it must take '%.100s' and make one output)",
                             w->cur);
    }
    size_t act = 0;
    while (act < N_ACTIVATIONS && strcmp(op, activations[act].op))
        act++;
    int known = act < N_ACTIVATIONS || !strcmp(op, "Gemm") ||
                !strcmp(op, "MatMul") || !strcmp(op, "Add") ||
                !strcmp(op, "Sub") || !strcmp(op, "Mul") ||
                !strcmp(op, "Identity");
    if (!known)
        return node_fail(w, "op not supported: libnn reads Gemm, MatMul, "
                            "Add, Sub, Mul, Relu, LeakyRelu, Tanh, Sigmoid, "
                            "Softmax, Identity and Constant");
    if (w->input_rank)
        return node_fail(w,
                         "its input '%.100s' has %zu dimensions; libnn "
                         "takes [batch, features]",
                         w->cur, w->input_rank);
    /* an Add takes the bias only right after its MatMul */
    int after_matmul = w->matmul_open, rc;
    w->matmul_open = 0;
    if (!strcmp(op, "Gemm"))
        rc = read_gemm(w);
    else if (!strcmp(op, "MatMul"))
        rc = read_matmul(w);
    else if (!strcmp(op, "Add") || !strcmp(op, "Sub"))
        rc = read_add_or_sub(w, op[0] == 'A', after_matmul);
    else if (!strcmp(op, "Mul"))
        rc = read_mul(w);
    else if (!strcmp(op, "Identity")) {
        rc = n->n_input == 1 ? NN_OK : node_fail(w, "%zu inputs", n->n_input);
        w->matmul_open = after_matmul;
    } else {
        rc = n->n_input == 1 ? read_activation(w, activations[act].act)
                             : node_fail(w, "%zu inputs", n->n_input);
    }
    w->cur = n->output[0];
    return rc;
}

/* The graph's first input (initializers listed as inputs aside), which
 * the chain starts from, and its columns (0 when not given). A second one
 * is refused after the walk, so that a node taking it as its weights is
 * named first. */
static int read_input(walk *w)
{
    const Onnx__GraphProto *g = w->g;
    const Onnx__ValueInfoProto *input = NULL;
    for (size_t i = 0; i < g->n_input; i++) {
        if (!g->input[i]->name || find_tensor(w, g->input[i]->name))
            continue;
        if (!input)
            input = g->input[i];
        else if (!w->extra_input)
            w->extra_input = g->input[i]->name;
    }
    if (!input)
        return nn_onnx__fail(NN_EFORMAT, "the graph has no input");
    w->cur = w->input_name = input->name;
    const Onnx__TypeProto *type = input->type;
    if (!type || type->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE ||
        !type->tensor_type ||
        type->tensor_type->elem_type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT)
        return nn_onnx__fail(NN_EFORMAT,
                             "graph input '%.100s' is not a "
                             "tensor of 32-bit floats",
                             input->name);
    const Onnx__TensorShapeProto *shape = type->tensor_type->shape;
    if (!shape)
        return NN_OK;
    if (shape->n_dim != 2) { /* refused by the node that takes it */
        w->input_rank = shape->n_dim;
        return NN_OK;
    }
    const Onnx__TensorShapeProto__Dimension *d = shape->dim[1];
    if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE) {
        if (d->dim_value < 1 || d->dim_value > MAX_DIM)
            return nn_onnx__fail(NN_EFORMAT,
                                 "graph input '%.100s' has "
                                 "%lld columns",
                                 input->name, (long long)d->dim_value);
        w->width = (size_t)d->dim_value;
    }
    return NN_OK;
}

static int read_graph(walk *w)
{
    int rc = index_constants(w);
    if (rc == NN_OK)
        rc = read_input(w);
    for (size_t i = 0; rc == NN_OK && i < w->g->n_node; i++) {
        w->node = w->g->node[i];
        w->node_index = i;
        rc = read_node(w);
    }
    if (rc != NN_OK)
        return rc;
    if (w->extra_input)
        return nn_onnx__fail(NN_EFORMAT,
                             "graph inputs '%.100s' and '%.100s': libnn "
                             "networks have one",
                             w->input_name, w->extra_input);
    if (!w->n_layers)
        return nn_onnx__fail(NN_EFORMAT, "the graph has no Gemm or MatMul "
                                         "layer");
    if (w->g->n_output != 1 || !w->g->output[0]->name ||
        strcmp(w->g->output[0]->name, w->cur))
        return nn_onnx__fail(NN_EFORMAT,
                             "the graph's output must be the "
                             "one value at the end of the chain, '%.100s'",
                             w->cur);
    return NN_OK;
}

static int build_net(walk *w, nn_net **out)
{
    size_t n = w->n_layers,
           *sizes = nn_onnx__alloc(&w->arena, (n + 1) * sizeof *sizes);
    nn_activation *acts = nn_onnx__alloc(&w->arena, n * sizeof *acts);
    if (!sizes || !acts)
        return nn_onnx__fail(NN_ENOMEM, "out of memory");
    int any_bias = 0;
    sizes[0] = w->layers[0].in;
    for (size_t l = 0; l < n; l++) {
        sizes[l + 1] = w->layers[l].out;
        acts[l] = w->layers[l].act;
        any_bias |= w->layers[l].bias != NULL;
    }
    nn_net *net;
    int rc = nn_create(&net, n + 1, sizes, acts, any_bias ? 0 : NN_NO_BIAS, 0);
    if (rc != NN_OK)
        return nn_onnx__fail(rc, "nn_create: %s", nn_last_error(NULL));
    for (size_t l = 0; l < n; l++) {
        const layer *L = &w->layers[l];
        float *weights, *bias;
        (void)nn_layer_params(net, l, &weights, &bias);
        for (size_t i = 0; i < L->in; i++)
            for (size_t j = 0; j < L->out; j++)
                weights[i * L->out + j] =
                    L->w_trans ? L->w[j * L->in + i] : L->w[i * L->out + j];
        for (size_t j = 0; bias && j < L->out; j++)
            bias[j] = L->bias ? L->bias[j] : 0.0f;
    }
    if (w->shift || w->scale) {
        size_t k = sizes[0];
        float *t = nn_onnx__alloc(&w->arena, 2 * k * sizeof *t);
        if (!t) {
            nn_free(net);
            return nn_onnx__fail(NN_ENOMEM, "out of memory");
        }
        for (size_t j = 0; j < k; j++) {
            t[j] = !w->shift          ? 0.0f
                   : w->shift_negated ? -w->shift[j]
                                      : w->shift[j];
            t[k + j] = w->scale ? w->scale[j] : 1.0f;
        }
        if ((rc = nn_set_input_transform(net, t, t + k)) != NN_OK) {
            nn_onnx__fail(rc, "nn_set_input_transform: %s", nn_last_error(net));
            nn_free(net);
            return rc;
        }
    }
    *out = net;
    return NN_OK;
}

int nn_onnx_load_buffer(nn_net **out, const void *buf, size_t len)
{
    if (!out)
        return nn_onnx__fail(NN_EINVAL, "nn_onnx_load_buffer: out is NULL");
    *out = NULL;
    if (!buf && len)
        return nn_onnx__fail(NN_EINVAL, "nn_onnx_load_buffer: buf is NULL");
    Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, len, buf);
    if (!m)
        return nn_onnx__fail(NN_EFORMAT, "not an ONNX model (the protobuf "
                                         "does not parse as a ModelProto)");
    int rc = NN_OK;
    if (!m->graph)
        rc = nn_onnx__fail(NN_EFORMAT, "the ONNX model has no graph");
    walk w = {.g = m->graph};
    if (rc == NN_OK)
        rc = read_graph(&w);
    if (rc == NN_OK)
        rc = build_net(&w, out);
    nn_onnx__arena_free(&w.arena);
    onnx__model_proto__free_unpacked(m, NULL);
    return rc;
}

/* The whole file into a malloc'd buffer. */
static int read_file(const char *path, uint8_t **data, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return nn_onnx__fail(NN_EIO, "cannot open: %s", strerror(errno));
    size_t cap = 1 << 16, used = 0;
    uint8_t *buf = malloc(cap);
    while (buf) {
        used += fread(buf + used, 1, cap - used, f);
        if (used < cap || cap > ((size_t)1 << 31))
            break;
        uint8_t *grown = realloc(buf, cap * 2);
        if (!grown) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = grown;
        cap *= 2;
    }
    int err = ferror(f) ? errno : 0;
    fclose(f);
    if (!buf)
        return nn_onnx__fail(NN_ENOMEM, "out of memory");
    if (err || used == cap) {
        free(buf);
        return err ? nn_onnx__fail(NN_EIO, "cannot read: %s", strerror(err))
                   : nn_onnx__fail(NN_EFORMAT, "larger than 2 GiB, the "
                                               "limit of a protobuf message");
    }
    *data = buf;
    *len = used;
    return NN_OK;
}

int nn_onnx_load(nn_net **out, const char *path)
{
    if (!out || !path) {
        if (out)
            *out = NULL;
        return nn_onnx__fail(NN_EINVAL, "nn_onnx_load: %s is NULL",
                             out ? "path" : "out");
    }
    *out = NULL;
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = read_file(path, &data, &len);
    if (rc == NN_OK) {
        rc = nn_onnx_load_buffer(out, data, len);
        free(data);
    }
    if (rc != NN_OK) { /* the detail names the file */
        char detail[512];
        snprintf(detail, sizeof detail, "%s", nn_onnx_last_error());
        nn_onnx__fail(rc, "%.200s: %s", path, detail);
    }
    return rc;
}
