/* password_out.h — where the generated password may go when the output is
 * not a terminal.
 *
 * Standard output that is not a terminal is a log file, cloud-init's
 * console log, a CI job's transcript: a password printed there is stored
 * where nobody decided it should be. So without a terminal the person names
 * the destination: a new file (--password-file FILE, created here with
 * O_CREAT|O_EXCL, mode 0600, never over an existing file or through a
 * symlink), a file descriptor they opened (--password-fd N: a pipe to a
 * secret store, 3>FILE), or --json (a program reads the output). The
 * password is written alone on one line, straight from its locked buffer. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct secret;

struct password_out {
        int fd;          /* -1 = none */
        char *path;      /* the file we created, or NULL for a given fd */
        dev_t dev;       /* the created file's identity, to remove only it */
        ino_t ino;
        bool written;
};

/* Creates path (O_CREAT|O_EXCL|O_NOFOLLOW, 0600). -EEXIST and other
 * -errno with err saying what to do. */
int password_out_file(const char *path, struct password_out *ret, char *err, size_t errlen);
/* Takes the inherited descriptor fd (3 or more, or 1 or 2) after checking
 * it is open for writing. -EBADF / -EINVAL with err. */
int password_out_fd(int fd, struct password_out *ret, char *err, size_t errlen);
/* "/root/devuser.password" or "file descriptor 3", for messages. */
const char *password_out_name(const struct password_out *o, char *buf, size_t size);
/* Writes the password and a newline (fsync'd for a file). 0 or -errno. */
int password_out_write(struct password_out *o, const struct secret *pw);
/* Closes it; a file we created that never received a password is removed
 * (when it is still the one we made). */
void password_out_close(struct password_out *o);
