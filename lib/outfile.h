/* SPDX-License-Identifier: MIT */
/*
 * Output files that never destroy what the user owns: the one rule for
 * nn_save (persist.c), nn_onnx_save and every file the `nnet` tool writes
 * (libnn_onnx and the tool compile outfile.c too; it needs nothing but the
 * C library). A one-topic
 * internal header (the rule of lib/'s headers is at the top of
 * internal.h).
 *
 * - A regular file, or a path that does not exist yet, is written whole or
 *   not at all: a temporary file beside it, synced, renamed over it. A
 *   symbolic link is followed first, so the file it points to is replaced
 *   and the link stays a link.
 * - The new file gets the replaced file's permissions, or 0666 minus the
 *   umask when it is new (mkstemp's 0600 would hide it from its group).
 * - Anything else (a character device such as /dev/null or a terminal, a
 *   FIFO, a socket) is written in place: renaming over it would replace
 *   the device or pipe with a regular file. So is an open descriptor named
 *   by /dev/stdout, /dev/stderr, /dev/fd/N or /proc/self/fd/N, whatever it
 *   is open on: it is written at its offset, as a shell redirection is.
 * - A directory is refused (EISDIR).
 *
 * Functions return 0 or an errno value, and on failure point *step at a
 * phrase for the message ("cannot create a temporary file beside it").
 */
#ifndef LIBNN_OUTFILE_H
#define LIBNN_OUTFILE_H

#include <stddef.h>

typedef struct nn__outfile {
    int fd;       /* where to write; -1 when closed */
    char *target; /* the path written: links followed; malloc'd */
    char *tmp;    /* renamed over `target` on commit; NULL: in place */
} nn__outfile;

/* Opens `path` for a whole new content, as the rules above say. */
int nn__outfile_open(nn__outfile *o, const char *path, const char **step);

/* Writes all `n` bytes to o->fd, retrying short writes and EINTR. */
int nn__outfile_write(nn__outfile *o, const void *p, size_t n,
                      const char **step);

/* Syncs, closes and renames the temporary file over the target (in place:
 * closes). On failure the temporary file is removed and the target is as
 * it was. Frees what `o` holds either way. */
int nn__outfile_commit(nn__outfile *o, const char **step);

/* Abandons the file: closes and removes the temporary file. */
void nn__outfile_abort(nn__outfile *o);

/* The whole of a file in one call: open, write the `n` bytes, commit, or
 * abort on failure (the target is then as it was). */
int nn__outfile_write_whole(const char *path, const void *data, size_t n,
                            const char **step);

/* 1 when `path` names an existing file that is written in place (not a
 * regular file, not a directory), 0 otherwise. */
int nn__outfile_in_place(const char *path);

/* `path` with the symbolic links of its last component followed, as open()
 * follows them (also to a dangling link's target): the file written.
 * malloc'd; NULL with errno set. */
char *nn__outfile_target(const char *path);

/* Checks before a long computation that `path` can be written: not a
 * directory, and, unless written in place, its directory (after following
 * links) is writable. 0 or an errno value; *where receives the directory
 * the errno is about (malloc'd, or NULL when it is about `path`). */
int nn__outfile_check(const char *path, char **where);

#endif
