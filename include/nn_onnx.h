/* SPDX-License-Identifier: MIT */
/**
 * @file nn_onnx.h
 * @brief libnn_onnx: libnn networks to and from ONNX files.
 *
 * A small companion library, `libnn_onnx.so.0` (pkg-config `nn_onnx`),
 * built when Meson finds libprotobuf-c (option 'onnx'). libnn itself never
 * depends on protobuf: everything here is written on libnn's public API
 * (nn_create(), nn_layer_params(), nn_set_input_transform(), ...), and the
 * protobuf is read and written by libprotobuf-c with the `onnx.proto`
 * schema of ONNX 1.12. See docs/interop.md.
 *
 * What the files hold:
 * - Export writes ONNX IR version 7, opset 13 (checked by onnx 1.12 and
 *   read by OpenCV 4.6's dnn module): the input `input` [batch, n_in]
 *   float, the input transform as `Sub` and `Mul` with initializers, each
 *   layer as `Gemm` (transB = 1, weights [out, in], bias when the network
 *   has biases) followed by `Relu`, `LeakyRelu` (alpha 0.01), `Tanh`,
 *   `Sigmoid` or `Softmax` (axis 1), nothing for identity; the output
 *   `output` [batch, n_out]. It computes what nn_predict() computes.
 * - Import reads such chains, as `torch.onnx.export` writes them for an
 *   `nn.Sequential` of `Linear` and ReLU, LeakyReLU (slope 0.01), Tanh,
 *   Sigmoid, Softmax (last dimension) or Identity: a single float input of
 *   rank 2, then each layer as `Gemm` (alpha = beta = 1, transA = 0, any
 *   transB) or `MatMul` with an optional `Add` of a bias, and at most one
 *   activation after it; `Identity` nodes anywhere; before the first
 *   layer, an optional input transform `Sub` or `Add` of a vector, then
 *   `Mul` by a vector. Weights and biases are initializers (or `Constant`
 *   nodes) of 32-bit floats. Layers without a bias get a zero bias when
 *   others have one; when none has, the network has ::NN_NO_BIAS.
 *   Anything else is refused with ::NN_EFORMAT and a message naming the
 *   node and its op: convolutions, weights computed at run time, ops
 *   libnn has no layer for, shapes that do not chain. Settings are
 *   nn_create()'s defaults; the seed is 0.
 *
 * Conventions are those of nn.h: functions return ::NN_OK or a negative
 * `NN_E...` code, a failed call changes nothing and creates nothing, the
 * library never prints, and each failure leaves its detail, for the
 * calling thread, in nn_onnx_last_error(). All functions are thread-safe
 * in the sense of nn_predict(): any number of threads may export the same
 * handle at once while none modifies it.
 *
 * Example:
 * @code
 *     nn_net *net;
 *     if (nn_onnx_load(&net, "mlp.onnx") != NN_OK)
 *         fprintf(stderr, "%s\n", nn_onnx_last_error());
 *     nn_predict(net, x, n, y);
 *     nn_onnx_save(net, "copy.onnx");
 * @endcode
 */
#ifndef LIBNN_NN_ONNX_H
#define LIBNN_NN_ONNX_H

#include <stddef.h>

#include "nn.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief Detail of the last failure of an nn_onnx_* call in this thread,
 *        e.g. "node 'Conv_0' (Conv): op not supported ...".
 * @return a string owned by the library, valid until the next failing
 *         nn_onnx_* call in this thread; "" before any failure. Never NULL.
 */
NN_API const char *nn_onnx_last_error(void);

/**
 * @brief Write the network as an ONNX model file, by nn_save()'s rule:
 *        a regular file is written to a temporary file beside it and
 *        renamed over it, so `path` is never half-written; a symbolic link
 *        is followed (the link stays a link); a device or FIFO is written
 *        in place; a directory is refused.
 * @param[in] net  the network (read only).
 * @param[in] path the file to write.
 * @return ::NN_OK; ::NN_EINVAL for NULL pointers; ::NN_ENOMEM; ::NN_EIO
 *         when the file cannot be written (then `path` is unchanged).
 */
NN_API int nn_onnx_save(const nn_net *net, const char *path);

/**
 * @brief Serialise the network as ONNX into a caller's buffer.
 * @param[in]  net the network (read only).
 * @param[out] buf destination, or NULL to ask for the size.
 * @param[in]  cap capacity of `buf` in bytes.
 * @param[out] len receives the size needed (also when `cap` is too small).
 * @return ::NN_OK; ::NN_EINVAL for a NULL `net` or `len`; ::NN_ENOMEM;
 *         ::NN_ESHAPE when `cap` is too small (nothing written).
 */
NN_API int nn_onnx_save_buffer(const nn_net *net, void *buf, size_t cap,
                               size_t *len);

/**
 * @brief Build a network from an ONNX model file (see above for what is
 *        read). The caller owns the new handle (nn_free()).
 * @param[out] out  receives the handle; NULL on failure.
 * @param[in]  path the file.
 * @return ::NN_OK; ::NN_EINVAL for NULL pointers; ::NN_EIO when the file
 *         cannot be read; ::NN_EFORMAT when it is not an ONNX model or
 *         holds anything libnn cannot compute exactly (the detail names
 *         the node and op); ::NN_ENOMEM.
 */
NN_API int nn_onnx_load(nn_net **out, const char *path);

/**
 * @brief Build a network from ONNX model bytes, as nn_onnx_load() does.
 * @param[out] out receives the handle; NULL on failure.
 * @param[in]  buf the serialised ModelProto.
 * @param[in]  len its size in bytes.
 * @return as nn_onnx_load(), without ::NN_EIO.
 */
NN_API int nn_onnx_load_buffer(nn_net **out, const void *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* LIBNN_NN_ONNX_H */
