/* SPDX-License-Identifier: MIT */
/*
 * Export: a libnn network as an ONNX ModelProto (nn_onnx.h says which
 * nodes), built from libnn's public API into protobuf-c messages that an
 * arena owns, then packed.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx_internal.h"
#include "outfile.h"

/* IR version 7 and opset 13: what onnx 1.12's checker and OpenCV 4.6's
 * importer both take, with Softmax's per-axis semantics. */
enum { IR_VERSION = 7, OPSET = 13 };

typedef struct builder {
    nn_onnx__arena arena;
    Onnx__GraphProto *graph;
    int oom; /* an allocation failed: the graph is incomplete */
} builder;

static void *alloc_array(builder *b, size_t count, size_t size)
{
    void *p = nn_onnx__alloc(&b->arena, count * size);
    if (!p)
        b->oom = 1;
    return p;
}

/* A message initialised from its protobuf-c INIT value. */
#define NEW_MESSAGE(b, type, init, out)                                        \
    do {                                                                       \
        static const type init_value_ = init;                                  \
        (out) = alloc_array((b), 1, sizeof(type));                             \
        if (out)                                                               \
            *(out) = init_value_;                                              \
    } while (0)

static char *name(builder *b, const char *fmt, size_t index)
{
    char *s = nn_onnx__printf(&b->arena, fmt, index);
    if (!s)
        b->oom = 1;
    return s;
}

/* An initializer of float `data` (not copied: it must outlive the pack). */
static void add_initializer(builder *b, const char *tensor_name,
                            const float *data, size_t rows, size_t cols)
{
    Onnx__TensorProto *t;
    NEW_MESSAGE(b, Onnx__TensorProto, ONNX__TENSOR_PROTO__INIT, t);
    int64_t *dims = alloc_array(b, 2, sizeof *dims);
    if (!t || !dims)
        return;
    dims[0] = (int64_t)rows;
    dims[1] = (int64_t)cols;
    t->n_dims = rows ? 2 : 1;
    t->dims = rows ? dims : dims + 1;
    t->has_data_type = 1;
    t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    t->name = (char *)tensor_name;
    t->n_float_data = (rows ? rows : 1) * cols;
    t->float_data = (float *)data; /* packing only reads it */
    Onnx__GraphProto *g = b->graph;
    g->initializer[g->n_initializer++] = t;
}

/* A node `op` of inputs `in` (NULL-terminated, at most 3) to `out`. */
static Onnx__NodeProto *add_node(builder *b, const char *op,
                                 const char *node_name, const char *out,
                                 const char *const *in)
{
    Onnx__NodeProto *n;
    NEW_MESSAGE(b, Onnx__NodeProto, ONNX__NODE_PROTO__INIT, n);
    char **ins = alloc_array(b, 3, sizeof *ins);
    char **outs = alloc_array(b, 1, sizeof *outs);
    if (!n || !ins || !outs)
        return NULL;
    while (n->n_input < 3 && in[n->n_input]) {
        ins[n->n_input] = (char *)in[n->n_input];
        n->n_input++;
    }
    n->input = ins;
    outs[0] = (char *)out;
    n->n_output = 1;
    n->output = outs;
    n->op_type = (char *)op;
    n->name = (char *)node_name;
    Onnx__GraphProto *g = b->graph;
    g->node[g->n_node++] = n;
    return n;
}

static void add_attribute(builder *b, Onnx__NodeProto *n, const char *key,
                          int is_float, double value)
{
    Onnx__AttributeProto *a, **list;
    if (!n)
        return;
    NEW_MESSAGE(b, Onnx__AttributeProto, ONNX__ATTRIBUTE_PROTO__INIT, a);
    list = alloc_array(b, n->n_attribute + 1, sizeof *list);
    if (!a || !list)
        return;
    a->name = (char *)key;
    a->has_type = 1;
    if (is_float) {
        a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
        a->has_f = 1;
        a->f = (float)value;
    } else {
        a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
        a->has_i = 1;
        a->i = (int64_t)value;
    }
    if (n->n_attribute)
        memcpy(list, n->attribute, n->n_attribute * sizeof *list);
    list[n->n_attribute++] = a;
    n->attribute = list;
}

/* A float tensor [batch, width] with a symbolic batch dimension. */
static Onnx__ValueInfoProto *value_info(builder *b, const char *vname,
                                        size_t width)
{
    Onnx__ValueInfoProto *v;
    Onnx__TypeProto *type;
    Onnx__TypeProto__Tensor *tensor;
    Onnx__TensorShapeProto *shape;
    Onnx__TensorShapeProto__Dimension *dim[2], **dims;
    NEW_MESSAGE(b, Onnx__ValueInfoProto, ONNX__VALUE_INFO_PROTO__INIT, v);
    NEW_MESSAGE(b, Onnx__TypeProto, ONNX__TYPE_PROTO__INIT, type);
    NEW_MESSAGE(b, Onnx__TypeProto__Tensor, ONNX__TYPE_PROTO__TENSOR__INIT,
                tensor);
    NEW_MESSAGE(b, Onnx__TensorShapeProto, ONNX__TENSOR_SHAPE_PROTO__INIT,
                shape);
    NEW_MESSAGE(b, Onnx__TensorShapeProto__Dimension,
                ONNX__TENSOR_SHAPE_PROTO__DIMENSION__INIT, dim[0]);
    NEW_MESSAGE(b, Onnx__TensorShapeProto__Dimension,
                ONNX__TENSOR_SHAPE_PROTO__DIMENSION__INIT, dim[1]);
    dims = alloc_array(b, 2, sizeof *dims);
    if (!v || !type || !tensor || !shape || !dim[0] || !dim[1] || !dims)
        return NULL;
    dim[0]->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
    dim[0]->dim_param = (char *)"batch";
    dim[1]->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
    dim[1]->dim_value = (int64_t)width;
    dims[0] = dim[0];
    dims[1] = dim[1];
    shape->n_dim = 2;
    shape->dim = dims;
    tensor->has_elem_type = 1;
    tensor->elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    tensor->shape = shape;
    type->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    type->tensor_type = tensor;
    v->name = (char *)vname;
    v->type = type;
    return v;
}

static const char *const activation_ops[] = {
    [NN_IDENTITY] = NULL,     [NN_SIGMOID] = "Sigmoid",
    [NN_TANH] = "Tanh",       [NN_RELU] = "Relu",
    [NN_SOFTMAX] = "Softmax", [NN_LEAKY_RELU] = "LeakyRelu"};

/* The input transform as Sub and Mul; returns the name of its output. */
static const char *add_transform(builder *b, const nn_net *net,
                                 const char *input)
{
    size_t n_in = nn_layer_size(net, 0);
    float *v = alloc_array(b, 2 * n_in, sizeof *v);
    if (!v || nn_get_input_transform(net, v, v + n_in) != 1)
        return input;
    add_initializer(b, "shift", v, 0, n_in);
    add_initializer(b, "scale", v + n_in, 0, n_in);
    add_node(b, "Sub", "transform_sub", "centred",
             (const char *const[]){input, "shift", NULL});
    add_node(b, "Mul", "transform_mul", "transformed",
             (const char *const[]){"centred", "scale", NULL});
    return "transformed";
}

/* Weight layer l as Gemm and its activation; returns the output's name. */
static const char *add_layer(builder *b, const nn_net *net, size_t l,
                             const char *input, int last)
{
    size_t in = nn_layer_size(net, l), out = nn_layer_size(net, l + 1);
    float *w = NULL, *bias = NULL;
    /* nn_layer_params only hands out pointers: the network is not
     * modified (it takes a non-const handle because the views are
     * writable). */
    if (nn_layer_params((nn_net *)net, l, &w, &bias) != NN_OK)
        return NULL;
    float *wt = alloc_array(b, in * out, sizeof *wt);
    if (!wt)
        return NULL;
    for (size_t i = 0; i < in; i++)
        for (size_t j = 0; j < out; j++)
            wt[j * in + i] = w[i * out + j];
    nn_activation act = (nn_activation)nn_layer_activation(net, l);
    const char *op = activation_ops[act];
    const char *w_name = name(b, "W%zu", l), *b_name = name(b, "B%zu", l);
    const char *z = last && !op ? "output" : name(b, "z%zu", l);
    add_initializer(b, w_name, wt, out, in);
    if (bias)
        add_initializer(b, b_name, bias, 0, out);
    Onnx__NodeProto *gemm = add_node(
        b, "Gemm", name(b, "gemm%zu", l), z,
        (const char *const[]){input, w_name, bias ? b_name : NULL, NULL});
    add_attribute(b, gemm, "transB", 0, 1);
    if (!op)
        return z;
    const char *a = last ? "output" : name(b, "a%zu", l);
    Onnx__NodeProto *n = add_node(b, op, name(b, "act%zu", l), a,
                                  (const char *const[]){z, NULL});
    if (act == NN_LEAKY_RELU)
        add_attribute(b, n, "alpha", 1, 0.01);
    else if (act == NN_SOFTMAX)
        add_attribute(b, n, "axis", 0, 1);
    return a;
}

static int build_graph(builder *b, const nn_net *net)
{
    size_t n_layers = nn_num_layers(net) - 1;
    Onnx__GraphProto *g = b->graph;
    g->name = (char *)"libnn";
    g->node = alloc_array(b, 2 + 2 * n_layers, sizeof *g->node);
    g->initializer = alloc_array(b, 2 + 2 * n_layers, sizeof *g->initializer);
    g->input = alloc_array(b, 1, sizeof *g->input);
    g->output = alloc_array(b, 1, sizeof *g->output);
    if (b->oom)
        return NN_ENOMEM;
    g->input[0] = value_info(b, "input", nn_layer_size(net, 0));
    g->output[0] = value_info(b, "output", nn_layer_size(net, n_layers));
    g->n_input = g->n_output = 1;
    const char *x = add_transform(b, net, "input");
    for (size_t l = 0; l < n_layers && x; l++)
        x = add_layer(b, net, l, x, l + 1 == n_layers);
    return b->oom || !x ? NN_ENOMEM : NN_OK;
}

/* Builds the model of `net` and hands its packed size and bytes (owned by
 * the arena) to the caller. */
static int pack(builder *b, const nn_net *net, uint8_t **bytes, size_t *len)
{
    Onnx__ModelProto *m;
    Onnx__OperatorSetIdProto *opset, **opsets;
    NEW_MESSAGE(b, Onnx__ModelProto, ONNX__MODEL_PROTO__INIT, m);
    NEW_MESSAGE(b, Onnx__GraphProto, ONNX__GRAPH_PROTO__INIT, b->graph);
    NEW_MESSAGE(b, Onnx__OperatorSetIdProto, ONNX__OPERATOR_SET_ID_PROTO__INIT,
                opset);
    opsets = alloc_array(b, 1, sizeof *opsets);
    char *version = nn_onnx__printf(&b->arena, "%s", nn_version_string());
    if (b->oom || !version)
        return nn_onnx__fail(NN_ENOMEM, "out of memory");
    opset->domain = (char *)"";
    opset->has_version = 1;
    opset->version = OPSET;
    opsets[0] = opset;
    m->has_ir_version = 1;
    m->ir_version = IR_VERSION;
    m->n_opset_import = 1;
    m->opset_import = opsets;
    m->producer_name = (char *)"libnn";
    m->producer_version = version;
    m->graph = b->graph;
    if (build_graph(b, net) != NN_OK)
        return nn_onnx__fail(NN_ENOMEM, "out of memory");
    *len = onnx__model_proto__get_packed_size(m);
    *bytes = alloc_array(b, *len ? *len : 1, 1);
    if (!*bytes)
        return nn_onnx__fail(NN_ENOMEM, "out of memory for %zu bytes", *len);
    onnx__model_proto__pack(m, *bytes);
    return NN_OK;
}

static int check_net(const nn_net *net)
{
    if (nn_num_layers(net) < 2)
        return nn_onnx__fail(NN_EINVAL, "nn_onnx: net is NULL");
    return NN_OK;
}

int nn_onnx_save_buffer(const nn_net *net, void *buf, size_t cap, size_t *len)
{
    if (!len)
        return nn_onnx__fail(NN_EINVAL, "nn_onnx_save_buffer: len is NULL");
    if (check_net(net) != NN_OK)
        return NN_EINVAL;
    builder b = {0};
    uint8_t *bytes;
    int rc = pack(&b, net, &bytes, len);
    if (rc == NN_OK && buf && cap >= *len)
        memcpy(buf, bytes, *len);
    else if (rc == NN_OK && buf)
        rc = nn_onnx__fail(NN_ESHAPE,
                           "nn_onnx_save_buffer: the model needs "
                           "%zu bytes, the buffer has %zu",
                           *len, cap);
    nn_onnx__arena_free(&b.arena);
    return rc;
}

int nn_onnx_save(const nn_net *net, const char *path)
{
    if (!path)
        return nn_onnx__fail(NN_EINVAL, "nn_onnx_save: path is NULL");
    if (check_net(net) != NN_OK)
        return NN_EINVAL;
    builder b = {0};
    uint8_t *bytes;
    size_t len;
    int rc = pack(&b, net, &bytes, &len);
    const char *step = "";
    int err = rc == NN_OK ? nn__outfile_write_whole(path, bytes, len, &step)
                          : 0;
    nn_onnx__arena_free(&b.arena);
    if (err)
        rc = nn_onnx__fail(err == ENOMEM ? NN_ENOMEM : NN_EIO, "%s: %s: %s",
                           path, step, strerror(err));
    return rc;
}
