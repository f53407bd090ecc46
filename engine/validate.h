/* validate.h — the rules for every value a person types or writes into an
 * answers file. The wizard checks each field with these functions as it is
 * left, and the answers parser uses the very same ones, so both say the same
 * thing in the same words.
 *
 * Each returns 0 when the value is good, or -EINVAL (-EEXIST for a name that
 * is taken) and writes into err a sentence that names the rule broken and
 * how to fix it, without the field name (the caller adds that), e.g.
 *   must start with a lower-case letter (a-z), e.g. "devuser"
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define USERNAME_MAX 32

/* Debian's rules for a new login name: starts with a-z, then a-z 0-9 _ -,
 * at most 32 characters, not a reserved name (root, daemon, sudo, admin, …,
 * see validate.c) and not an existing system account or group (uid/gid
 * below 1000, or 65534) in passwd_path / group_path (NULL = /etc/passwd,
 * /etc/group). An existing regular account (uid >= 1000) is accepted: the
 * user phase adopts it. A file that does not exist holds no accounts; one
 * that cannot be read gives its -errno with err saying so. */
int validate_username(const char *name, const char *passwd_path, const char *group_path,
                      char *err, size_t errlen);

/* GECOS full name: UTF-8, at most 64 bytes, no ':' ',' '=' or control
 * characters (they break /etc/passwd fields). Empty is fine. */
int validate_full_name(const char *s, char *err, size_t errlen);

/* A TCP port 1..65535 written as plain decimal. */
int validate_port(const char *text, uint16_t *ret, char *err, size_t errlen);

/* RFC 1123 host name: labels of a-z A-Z 0-9 and '-', not starting or ending
 * with '-', each <= 63, total <= 253; or an IPv4 address. */
int validate_hostname(const char *s, char *err, size_t errlen);

/* An absolute path: starts with '/', no "..", no control characters, no
 * empty result, shorter than PATH_MAX. */
int validate_abs_path(const char *s, char *err, size_t errlen);

/* An http:// or https:// URL with a valid host (validate_hostname), an
 * optional :port, an optional path; no spaces, quotes or control characters.
 * Used for the apt mirror. */
int validate_url(const char *s, char *err, size_t errlen);

/* A crypt(3) hash as chpasswd -e takes it: $y$ (yescrypt), $gy$, $7$,
 * $6$ (sha512crypt), $2b$/$2y$ (bcrypt). libxcrypt's crypt_checksalt()
 * must call its method usable and not legacy (so $5$ and $1$ are refused),
 * and the hash must have its method's shape: the number of '$'-separated
 * parts, the salt and hash lengths, the rounds or cost in range, crypt's
 * base-64 alphabet — chpasswd -e sets any string, and one no password
 * matches locks the account silently. A plain-text password is refused
 * with a hint on how to make a hash (mkpasswd from the whois package). */
int validate_password_hash(const char *s, char *err, size_t errlen);
