/* SPDX-License-Identifier: MIT */
/* libnn_onnx at run time; see onnx_lib.h. */
#define _POSIX_C_SOURCE 200809L

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include <nn_onnx.h>

#include "cli.h"
#include "onnx_lib.h"

/* onnx_lib's members have nn_onnx.h's types (unevaluated: no reference
 * to the library is linked). */
#define SAME_TYPE(fn, member)                                                  \
    _Static_assert(_Generic((fn), __typeof__(((onnx_lib *)0)->member): 1,     \
                            default: 0),                                       \
                   #fn " as nn_onnx.h declares it")
SAME_TYPE(nn_onnx_save, save);
SAME_TYPE(nn_onnx_load, load);
SAME_TYPE(nn_onnx_last_error, last_error);

int onnx_lib_open(onnx_lib *lib, const char *what)
{
    const char *path = getenv("NN_ONNX_LIBRARY");
    if (path == NULL || *path == '\0')
        path = "libnn_onnx.so.0";
    void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL)
        return cli_fail("%s: ONNX needs libnn_onnx, which cannot be loaded "
                        "(%s); install it (Debian: libnn-onnx0; from source "
                        "it is built when libprotobuf-c is found) or set "
                        "NN_ONNX_LIBRARY to its path",
                        what, dlerror());
    /* The casts go through a data pointer as POSIX allows for dlsym. */
    void *save = dlsym(handle, "nn_onnx_save");
    void *load = dlsym(handle, "nn_onnx_load");
    void *last_error = dlsym(handle, "nn_onnx_last_error");
    if (!save || !load || !last_error) {
        dlclose(handle);
        return cli_fail("%s: %s is not libnn_onnx (nn_onnx_save, "
                        "nn_onnx_load or nn_onnx_last_error missing)",
                        what, path);
    }
    memcpy(&lib->save, &save, sizeof lib->save);
    memcpy(&lib->load, &load, sizeof lib->load);
    memcpy(&lib->last_error, &last_error, sizeof lib->last_error);
    return ST_OK;
}
