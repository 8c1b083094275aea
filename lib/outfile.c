/* SPDX-License-Identifier: MIT */
/*
 * Output files that never destroy what the user owns; the rules are in
 * outfile.h. Only the C library and POSIX are used here, so that the tool
 * can compile this file as it is.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h> /* rename */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "outfile.h"

/* The directory part of `path` ("." when it has none), malloc'd. */
static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        return strdup(".");
    size_t n = slash == path ? 1 : (size_t)(slash - path);
    char *dir = malloc(n + 1);
    if (dir != NULL) {
        memcpy(dir, path, n);
        dir[n] = '\0';
    }
    return dir;
}

/* The contents of the symbolic link `path`, malloc'd; NULL with errno. */
static char *read_link(const char *path)
{
    for (size_t cap = 256;; cap *= 2) {
        char *buf = malloc(cap);
        if (buf == NULL)
            return NULL;
        ssize_t n = readlink(path, buf, cap);
        if (n < 0) {
            free(buf);
            return NULL;
        }
        if ((size_t)n < cap) {
            buf[n] = '\0';
            return buf;
        }
        free(buf);
        if (cap > 1u << 20) {
            errno = ENAMETOOLONG;
            return NULL;
        }
    }
}

/* The descriptor a path of the form /dev/fd/N or /proc/self/fd/N (or
 * /proc/PID/fd/N of this process) names; -1 for any other path. */
static int descriptor_named(const char *path)
{
    static const char *const dirs[] = {"/dev/fd/", "/proc/self/fd/"};
    char own[64];
    snprintf(own, sizeof own, "/proc/%ld/fd/", (long)getpid());
    const char *rest = NULL;
    for (size_t i = 0; i < 2 && rest == NULL; i++)
        if (strncmp(path, dirs[i], strlen(dirs[i])) == 0)
            rest = path + strlen(dirs[i]);
    if (rest == NULL && strncmp(path, own, strlen(own)) == 0)
        rest = path + strlen(own);
    if (rest == NULL || *rest < '0' || *rest > '9')
        return -1;
    char *end;
    long fd = strtol(rest, &end, 10);
    return *end == '\0' && fd <= INT_MAX ? (int)fd : -1;
}

/* Follows the symbolic links of `path`'s last component as open() would;
 * a dangling link counts as its target (open(O_CREAT) would create it).
 * *fd receives the descriptor when a step is /dev/fd/N or /proc/self/fd/N
 * (/dev/stdout and /dev/stderr lead there), else -1. malloc'd; NULL with
 * errno set. */
static char *walk_links(const char *path, int *fd)
{
    char *cur = strdup(path);
    *fd = -1;
    for (int hops = 0; cur != NULL; hops++) {
        struct stat st;
        if (*fd < 0)
            *fd = descriptor_named(cur);
        if (lstat(cur, &st) != 0 || !S_ISLNK(st.st_mode))
            return cur; /* not there yet, or not a link: this is it */
        if (hops == 40) { /* the kernel's limit too (ELOOP) */
            free(cur);
            errno = ELOOP;
            return NULL;
        }
        char *link = read_link(cur);
        char *dir = link != NULL && link[0] != '/' ? dir_of(cur) : NULL;
        char *next = NULL;
        if (link != NULL && link[0] == '/') {
            next = link;
            link = NULL;
        } else if (dir != NULL) {
            size_t d = strlen(dir), l = strlen(link);
            next = malloc(d + 1 + l + 1);
            if (next != NULL) {
                memcpy(next, dir, d);
                next[d] = '/';
                memcpy(next + d + 1, link, l + 1);
            }
        }
        free(link);
        free(dir);
        free(cur);
        cur = next;
    }
    return NULL;
}

char *nn__outfile_target(const char *path)
{
    int fd;
    return walk_links(path, &fd);
}

/* The open descriptor `path` leads to (/dev/stdout: 1), or -1. */
static int descriptor_of(const char *path)
{
    int fd;
    free(walk_links(path, &fd));
    return fd;
}

/* The calling process's umask, read without changing it (umask(2) would
 * race with other threads); 022 when /proc is not there. */
static mode_t process_umask(void)
{
    char buf[1024];
    mode_t mask = 022;
    int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return mask;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return mask;
    buf[n] = '\0';
    const char *line = strstr(buf, "\nUmask:");
    if (line != NULL)
        mask = (mode_t)strtoul(line + 7, NULL, 8) & 0777;
    return mask;
}

/* Permissions for the new file: the old file's when replacing one, else
 * what open(path, O_CREAT, 0666) would give. */
static mode_t new_file_mode(const char *target)
{
    struct stat st;
    if (stat(target, &st) == 0 && S_ISREG(st.st_mode))
        return st.st_mode & 07777;
    return 0666 & ~process_umask();
}

int nn__outfile_in_place(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0 || S_ISDIR(st.st_mode))
        return 0;
    /* /dev/stdout redirected to a file is written where the descriptor
     * points, not replaced under the shell's feet */
    return !S_ISREG(st.st_mode) || descriptor_of(path) >= 0;
}

/* `fd`: the descriptor `path` names, or -1 to open `path`. */
static int open_in_place(nn__outfile *o, const char *path, int fd,
                         const char **step)
{
    /* the descriptor itself, at its offset and with its O_APPEND; else
     * no O_TRUNC, no O_CREAT: a device or pipe is only written to */
    o->fd = fd >= 0 ? fcntl(fd, F_DUPFD_CLOEXEC, 0)
                    : open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
    if (o->fd >= 0)
        return 0;
    *step = "cannot open";
    return errno;
}

/* A temporary file beside o->target. */
static int open_temporary(nn__outfile *o, const char **step)
{
    static const char suffix[] = ".tmp-XXXXXX";
    size_t n = strlen(o->target);
    o->tmp = malloc(n + sizeof suffix);
    if (o->tmp == NULL) {
        nn__outfile_abort(o);
        *step = "out of memory";
        return ENOMEM;
    }
    memcpy(o->tmp, o->target, n);
    memcpy(o->tmp + n, suffix, sizeof suffix);
    mode_t mode = new_file_mode(o->target);
    o->fd = mkstemp(o->tmp);
    if (o->fd < 0) {
        int err = errno;
        free(o->tmp);
        o->tmp = NULL;
        nn__outfile_abort(o);
        *step = "cannot create a temporary file beside it";
        return err;
    }
    (void)fchmod(o->fd, mode);
    return 0;
}

int nn__outfile_open(nn__outfile *o, const char *path, const char **step)
{
    o->fd = -1;
    o->tmp = NULL;
    struct stat st;
    int exists = stat(path, &st) == 0;
    if (exists && S_ISDIR(st.st_mode)) {
        *step = "cannot write over a directory";
        return EISDIR;
    }
    int fd;
    o->target = walk_links(path, &fd);
    if (o->target == NULL) {
        int err = errno;
        *step = err == ENOMEM ? "out of memory"
                              : "cannot follow its symbolic links";
        return err;
    }
    if (fd >= 0 || (exists && !S_ISREG(st.st_mode))) {
        free(o->target);
        o->target = NULL;
        return open_in_place(o, path, fd, step);
    }
    return open_temporary(o, step);
}

int nn__outfile_write(nn__outfile *o, const void *data, size_t n,
                      const char **step)
{
    const unsigned char *p = data;
    while (n > 0) {
        size_t chunk = n < (size_t)SSIZE_MAX ? n : (size_t)SSIZE_MAX;
        ssize_t k = write(o->fd, p, chunk);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            *step = o->tmp ? "cannot write the temporary file"
                           : "cannot write";
            return errno;
        }
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Makes the rename durable; best effort, as some file systems refuse
 * fsync on directories and the rename itself has already succeeded. */
static void sync_parent(const char *path)
{
    char *dir = dir_of(path);
    int fd = dir != NULL ? open(dir, O_RDONLY | O_CLOEXEC) : -1;
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
    free(dir);
}

int nn__outfile_commit(nn__outfile *o, const char **step)
{
    int err = 0;
    if (o->tmp != NULL && fsync(o->fd) != 0) {
        err = errno;
        *step = "cannot sync the temporary file";
    }
    if (close(o->fd) != 0 && err == 0) {
        err = errno;
        *step = o->tmp ? "cannot close the temporary file" : "cannot close";
    }
    o->fd = -1;
    if (err == 0 && o->tmp != NULL) {
        if (rename(o->tmp, o->target) != 0) {
            err = errno;
            *step = "cannot rename the temporary file over it";
        } else {
            sync_parent(o->target);
            free(o->tmp);
            o->tmp = NULL;
        }
    }
    nn__outfile_abort(o);
    return err;
}

void nn__outfile_abort(nn__outfile *o)
{
    if (o->fd >= 0)
        close(o->fd);
    if (o->tmp != NULL)
        (void)unlink(o->tmp);
    free(o->tmp);
    free(o->target);
    o->fd = -1;
    o->tmp = o->target = NULL;
}

int nn__outfile_write_whole(const char *path, const void *data, size_t n,
                            const char **step)
{
    nn__outfile o;
    int err = nn__outfile_open(&o, path, step);
    if (err != 0)
        return err;
    err = nn__outfile_write(&o, data, n, step);
    if (err != 0) {
        nn__outfile_abort(&o);
        return err;
    }
    return nn__outfile_commit(&o, step);
}

int nn__outfile_check(const char *path, char **where)
{
    *where = NULL;
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return EISDIR;
    if (nn__outfile_in_place(path))
        return 0;
    char *target = nn__outfile_target(path);
    char *dir = target != NULL ? dir_of(target) : NULL;
    int err = target == NULL ? errno : dir == NULL ? ENOMEM : 0;
    if (err == 0 && access(dir, W_OK | X_OK) != 0)
        err = errno;
    free(target);
    if (err != 0 && dir != NULL)
        *where = dir;
    else
        free(dir);
    return err;
}
