/* SPDX-License-Identifier: MIT */
/* Model files: placeholder, being written (issue 3). */
#include "internal.h"

NN_API int nn_save(const nn_net *net, const char *path)
{
    (void)net; (void)path;
    return nn__fail(NULL, NN_EIO, "nn_save: not implemented yet");
}

NN_API int nn_load(nn_net **out, const char *path)
{
    (void)path;
    if (out)
        *out = NULL;
    return nn__fail(NULL, NN_EIO, "nn_load: not implemented yet");
}

NN_API int nn_save_buffer(const nn_net *net, void *buf, size_t cap, size_t *len)
{
    (void)net; (void)buf; (void)cap; (void)len;
    return nn__fail(NULL, NN_EIO, "nn_save_buffer: not implemented yet");
}

NN_API int nn_load_buffer(nn_net **out, const void *buf, size_t len)
{
    (void)buf; (void)len;
    if (out)
        *out = NULL;
    return nn__fail(NULL, NN_EFORMAT, "nn_load_buffer: not implemented yet");
}
