/* secret.h — passwords in memory that is locked, kept out of core dumps and
 * wiped when freed.
 *
 * A struct secret lives in its own mmap'd page(s): mlock()ed (never written
 * to swap), madvise(MADV_DONTDUMP) (never in a core file), and
 * explicit_bzero()ed before munmap(). The text is NUL-terminated.
 * secret_harden_process() additionally marks the whole process non-dumpable
 * and sets RLIMIT_CORE to 0; main() calls it first thing. */
#pragma once

#include <stddef.h>

struct secret;

/* Characters a generated password is drawn from: upper, lower, digits and
 * symbols, without look-alikes (0 O o 1 l I | ` ' " and space) and without
 * characters that trip up RDP clients' command lines or keyboard layouts
 * (\ , ; : < > & and quotes). */
extern const char SECRET_UPPER[], SECRET_LOWER[], SECRET_DIGITS[], SECRET_SYMBOLS[];

/* len >= 16 (else -EINVAL), <= 128. At least one character of every class;
 * uniformly random otherwise (rejection sampling over getrandom(2)). */
int secret_generate_password(size_t len, struct secret **ret);

/* A "layout-safe" password, for typing by hand at a login screen that may
 * read the keys with another layout than the keyboard's: letters only, of
 * those on the same key in QWERTY, QWERTZ and AZERTY and not look-alikes
 * (SECRET_SAFE_UPPER, SECRET_SAFE_LOWER), at least one of each case;
 * 16 <= len <= 128 as above. */
extern const char SECRET_SAFE_UPPER[], SECRET_SAFE_LOWER[];
int secret_generate_layout_safe(size_t len, struct secret **ret);
/* The length a layout-safe password needs to be as hard to guess as a
 * secret_generate_password() one of len characters (20 -> 24). */
size_t secret_layout_safe_length(size_t len);
/* Copies len bytes of text into a new secret (for a password typed in). */
int secret_from(const char *text, size_t len, struct secret **ret);

/* A zero-filled secret with room for len bytes (plus a NUL), to assemble
 * text that contains a secret (e.g. chpasswd's "user:password\n") without
 * it ever touching ordinary memory. */
int secret_alloc(size_t len, struct secret **ret);
char *secret_buffer(struct secret *s);

const char *secret_str(const struct secret *s);
size_t secret_len(const struct secret *s);
/* Wipes, unlocks and unmaps; NULL is fine. */
void secret_free(struct secret *s);
static inline void secret_freep(struct secret **s) { secret_free(*s); }

/* prctl(PR_SET_DUMPABLE, 0) and RLIMIT_CORE 0. */
void secret_harden_process(void);
