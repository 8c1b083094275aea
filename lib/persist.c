/* SPDX-License-Identifier: MIT */
/*
 * Model files: nn_save and nn_load, the POSIX plumbing around format.c's
 * bytes. nn_save writes by outfile.c's rules (outfile.h): a temporary file
 * beside the target, synced and renamed over it, so that the path holds
 * the old model or the new one, never part of one, and a failed save
 * removes its temporary file; devices and FIFOs are written in place, and
 * links are followed. nn_load reads the whole file, but never more than
 * its header declares.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "format.h"
#include "internal.h"
#include "outfile.h"

/* NN_EIO for an errno value from `step` ("cannot open"). */
static int io_fail(int err, const char *step, const char *path)
{
    char msg[128];
    if (strerror_r(err, msg, sizeof msg) != 0)
        msg[0] = '\0';
    return nn__fail(NULL, NN_EIO, "%s: %s: %s", path, step, msg);
}

/* The file's size + 1 when it is a regular file (enough to see its end in
 * one read), else 0: a hint for the buffer, never trusted as the length. */
static size_t size_hint(int fd)
{
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= 0 &&
        (uintmax_t)st.st_size < SIZE_MAX)
        return (size_t)st.st_size + 1;
    return 0;
}

/* How many bytes are worth reading once the first `got` are in: a valid
 * header's declared length plus one (enough to see trailing data), what
 * is there when the header is not one (the decoder says what is wrong),
 * no bound before the header is complete. */
static size_t read_limit(const unsigned char *buf, size_t got)
{
    uint64_t total;
    if (got < NN__MODEL_HEADER_LEN)
        return SIZE_MAX;
    if (!nn__model_declared_length(buf, got, &total))
        return got;
    return total < SIZE_MAX ? (size_t)total + 1 : SIZE_MAX;
}

/* Grows the buffer for more of a read bounded by `limit`: doubling from
 * 4096 bytes, straight to the file's size when that is known, never past
 * `limit`, so that memory follows the bytes actually read. */
static int grow_buffer(unsigned char **buf, size_t *cap, size_t limit,
                       size_t hint, const char *path)
{
    size_t want = *cap == 0 ? 4096 : *cap > limit / 2 ? limit : *cap * 2;
    if (*cap > 0 && hint > *cap)
        want = hint < limit ? hint : limit;
    unsigned char *bigger = realloc(*buf, want);
    NN__CHECK(NULL, bigger, NN_ENOMEM, "%s: out of memory for %zu bytes", path,
              want);
    *buf = bigger;
    *cap = want;
    return NN_OK;
}

/* Reads the stream up to read_limit() into a malloc'd *out. */
static int read_model_file(int fd, const char *path, unsigned char **out,
                           size_t *out_len)
{
    size_t hint = size_hint(fd), cap = 0, got = 0;
    unsigned char *buf = NULL;
    int rc = NN_OK;
    for (;;) {
        size_t limit = read_limit(buf, got);
        if (got >= limit)
            break;
        if (got == cap && (rc = grow_buffer(&buf, &cap, limit, hint, path)))
            break;
        size_t room = cap - got < (size_t)SSIZE_MAX ? cap - got : SSIZE_MAX;
        ssize_t k = read(fd, buf + got, room);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            rc = io_fail(errno, "cannot read", path);
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    if (rc != NN_OK) {
        free(buf);
        return rc;
    }
    *out = buf;
    *out_len = got;
    return NN_OK;
}

/* Decodes the bytes read from `path`; trailing data shows as one byte past
 * the declared length (read_limit), so it is named here. */
static int decode_file(nn_net **out, const unsigned char *data, size_t len,
                       const char *path)
{
    uint64_t total = 0;
    NN__CHECK(
        NULL, !nn__model_declared_length(data, len, &total) || len <= total,
        NN_EFORMAT, "%s: trailing data after the %zu bytes the header declares",
        path, (size_t)total);
    return nn__model_decode(out, data, len, path);
}

int nn_save(const nn_net *net, const char *path)
{
    NN__CHECK(NULL, net, NN_EINVAL, "nn_save: net must not be NULL");
    NN__CHECK(NULL, path && path[0], NN_EINVAL,
              "nn_save: path must not be NULL or empty");
    size_t size;
    NN__TRY(nn__model_size(net, &size, "nn_save"));
    unsigned char *data = malloc(size);
    NN__CHECK(NULL, data, NN_ENOMEM,
              "nn_save: out of memory for a %zu-byte model", size);
    nn__model_encode(net, data, size);
    const char *step = "";
    int err = nn__outfile_write_whole(path, data, size, &step);
    free(data);
    NN__CHECK(NULL, err != ENOMEM, NN_ENOMEM, "%s: out of memory", path);
    return err ? io_fail(err, step, path) : NN_OK;
}

int nn_load(nn_net **out, const char *path)
{
    NN__CHECK(NULL, out, NN_EINVAL, "nn_load: out must not be NULL");
    *out = NULL;
    NN__CHECK(NULL, path && path[0], NN_EINVAL,
              "nn_load: path must not be NULL or empty");

    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return io_fail(errno, "cannot open", path);
    unsigned char *data = NULL;
    size_t len = 0;
    int rc = read_model_file(fd, path, &data, &len);
    close(fd);
    if (rc == NN_OK)
        rc = decode_file(out, data, len, path);
    free(data);
    return rc;
}
