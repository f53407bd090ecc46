/* validate.c — see validate.h.
 *
 * DESIGN: every validator walks the text once, stops at the first rule it
 * breaks and writes one sentence into err: the rule, then what to do. The
 * offending character is named (quoted when printable, as U+XXXX or a byte
 * value otherwise); a whole value is never echoed back, so a password typed
 * into the wrong field does not end up in a message. The login-name check
 * reads passwd and group files itself (bounded, no NSS), so tests and the
 * preflight can point it at any file. */
#include "validate.h"

#include <crypt.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "util.h"

#define ACCOUNT_FILE_MAX (16u * 1024 * 1024)  /* a passwd or group file, bytes */
#define ACCOUNT_LINE_MAX 4096                  /* longer lines are not accounts */
#define NAME_EXAMPLE "devuser"

/* Login names a developer account may not take, even where no such account
 * exists: Debian's base-passwd accounts, the groups that grant
 * administrator rights (sudo, adm, staff …), accounts that packages this
 * program installs create (xrdp, lightdm, polkitd, sshd …), names that mean
 * "administrator" elsewhere (admin, wheel …), and this program's own name.
 * A trailing '*' matches a prefix. The other base-passwd groups (audio,
 * video, plugdev …) are refused by the group-file check, with the gid. */
static const char *const reserved_names[] = {
        /* base-passwd accounts (Debian's static uids) */
        "root", "daemon", "bin", "sys", "sync", "games", "man", "lp", "mail", "news",
        "uucp", "proxy", "www-data", "backup", "list", "irc", "gnats", "nobody",
        "nogroup", "_apt",
        /* groups that grant rights */
        "sudo", "adm", "staff", "users", "wheel", "operator", "shadow", "disk",
        /* system services on a Debian desktop server */
        "systemd-*", "messagebus", "sshd", "polkitd", "xrdp", "lightdm", "colord",
        "avahi", "avahi-autoipd", "pulse", "pulse-access", "rtkit", "tss", "ssl-cert",
        "dnsmasq", "ntp", "ntpsec", "uuidd", "tcpdump", "usbmux", "saned", "geoclue",
        "fwupd-refresh", "dhcpcd", "cups-pk-helper", "lpadmin", "speech-dispatcher",
        "postfix", "fail2ban", "ufw", "crontab", "docker",
        /* administrator names of other systems */
        "admin", "administrator", "toor", "superuser",
        /* this program */
        "vps-provision",
};

/* Writes the error sentence and returns -EINVAL. */
#define fail(err, errlen, ...) errorf(-EINVAL, (err), (errlen), __VA_ARGS__)

/* The code point of the valid UTF-8 sequence s of n (2..4) bytes. */
static uint32_t utf8_code_point(const char *s, size_t n)
{
        uint32_t cp = (unsigned char)s[0] & (n == 2 ? 0x1f : n == 3 ? 0x0f : 0x07);

        for (size_t i = 1; i < n; i++)
                cp = (cp << 6) | ((unsigned char)s[i] & 0x3f);
        return cp;
}

/* What an invisible control beyond ASCII does, or NULL for any other code
 * point. C1 controls (U+0080-U+009F) are line breaks or terminal commands
 * to some programs; the bidirectional controls reorder the text around
 * them (U+202E shows "resU veD" the other way round), so a name could read
 * differently from what it is; U+2028/U+2029 break lines. */
static const char *invisible_kind(uint32_t cp)
{
        if (cp >= 0x80 && cp <= 0x9f)
                return "a C1 control character";
        if (cp == 0x061c || cp == 0x200e || cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) ||
            (cp >= 0x2066 && cp <= 0x2069))
                return "a control that reorders text";
        if (cp == 0x2028 || cp == 0x2029)
                return "a line or paragraph separator";
        return NULL;
}

/* Names the character at s (one UTF-8 sequence, or one byte when the text
 * is not UTF-8) so a message can point at it: "D", a space, U+00E9 …
 * Returns the number of bytes it covers. */
static size_t describe_char(const char *s, char *out, size_t size)
{
        unsigned char c = (unsigned char)*s;
        size_t n = 1;

        if (c == ' ')
                (void)!snprintf(out, size, "a space");
        else if (c == '\t')
                (void)!snprintf(out, size, "a tab");
        else if (c == '"')
                (void)!snprintf(out, size, "'\"'");
        else if (c > 0x20 && c < 0x7f)
                (void)!snprintf(out, size, "\"%c\"", c);
        else if (c < 0x20 || c == 0x7f)
                (void)!snprintf(out, size, "the control character 0x%02X", c);
        else {
                if (c >= 0xc2 && c <= 0xdf)
                        n = 2;
                else if (c >= 0xe0 && c <= 0xef)
                        n = 3;
                else if (c >= 0xf0 && c <= 0xf4)
                        n = 4;
                if (n > 1 && strnlen(s, n) == n && utf8_valid(s, n)) {
                        uint32_t cp = utf8_code_point(s, n);
                        const char *kind = invisible_kind(cp);

                        /* a control is named, never written: it would act
                         * on the message itself */
                        if (kind)
                                (void)!snprintf(out, size, "U+%04X (%s)", (unsigned)cp, kind);
                        else
                                (void)!snprintf(out, size, "\"%.*s\" (U+%04X)", (int)n, s,
                                                (unsigned)cp);
                } else {
                        n = 1;
                        (void)!snprintf(out, size, "the byte 0x%02X, which is not UTF-8", c);
                }
        }
        return n;
}

/* True when name is on the reserved list (exactly, or by a "prefix*"). */
static const char *reserved_match(const char *name)
{
        for (size_t i = 0; i < ELEMENTSOF(reserved_names); i++) {
                const char *r = reserved_names[i];
                size_t len = strlen(r);

                if (len && r[len - 1] == '*') {
                        if (strncmp(name, r, len - 1) == 0)
                                return r;
                } else if (strcmp(name, r) == 0)
                        return r;
        }
        return NULL;
}

/* Looks name up as the first field of a colon-separated account file
 * (passwd or group) and returns its third field (uid or gid) in ret_id.
 * 0 found, -ENOENT not there (or the file does not exist), other -errno
 * when the file cannot be read. Lines longer than ACCOUNT_LINE_MAX and NIS
 * "+"/"-" lines are skipped: they are not local accounts. */
static int account_lookup(const char *path, const char *name, long *ret_id)
{
        _cleanup_free_ char *data = NULL;
        size_t len = 0, nlen = strlen(name);
        const char *p, *end;
        int r;

        r = read_file(path, ACCOUNT_FILE_MAX, &data, &len);
        if (r < 0)
                return r;
        end = data + len;
        for (p = data; p < end;) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                const char *le = nl ? nl : end;
                size_t ll = (size_t)(le - p);

                if (ll < ACCOUNT_LINE_MAX && ll > nlen + 1 && memcmp(p, name, nlen) == 0 &&
                    p[nlen] == ':') {
                        /* name:password:ID:… */
                        const char *f = memchr(p + nlen + 1, ':', ll - nlen - 1);
                        if (f) {
                                const char *fe = memchr(f + 1, ':', (size_t)(le - f - 1));
                                char idtext[16];
                                size_t il = (size_t)((fe ? fe : le) - (f + 1));
                                long id;

                                if (il > 0 && il < sizeof(idtext)) {
                                        memcpy(idtext, f + 1, il);
                                        idtext[il] = '\0';
                                        if (parse_long(idtext, 0, (long)UINT32_MAX, &id) == 0) {
                                                *ret_id = id;
                                                return 0;
                                        }
                                }
                        }
                }
                p = nl ? nl + 1 : end;
        }
        return -ENOENT;
}

/* Is id one of the system range (below 1000) or nobody/nogroup (65534)? */
static bool system_id(long id)
{
        return id < 1000 || id == 65534;
}

int validate_username(const char *name, const char *passwd_path, const char *group_path,
                      char *err, size_t errlen)
{
        char what[64];
        size_t len;
        const char *reserved;
        long id;
        int r;

        if (!name || !*name)
                return fail(err, errlen, "must not be empty; choose a login name such as \"%s\"",
                            NAME_EXAMPLE);
        if (!(*name >= 'a' && *name <= 'z')) {
                if (*name >= 'A' && *name <= 'Z')
                        return fail(err, errlen,
                                    "must start with a lower-case letter (a-z), e.g. \"%s\"; "
                                    "login names are written in lower case",
                                    NAME_EXAMPLE);
                describe_char(name, what, sizeof(what));
                return fail(err, errlen,
                            "must start with a lower-case letter (a-z), not %s, e.g. \"%s\"",
                            what, NAME_EXAMPLE);
        }
        for (const char *p = name; *p; p++) {
                char c = *p;
                if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')
                        continue;
                describe_char(p, what, sizeof(what));
                if (c >= 'A' && c <= 'Z')
                        return fail(err, errlen,
                                    "may contain only a-z, 0-9, \"_\" and \"-\" (%s is not allowed; "
                                    "use lower case)",
                                    what);
                return fail(err, errlen,
                            "may contain only a-z, 0-9, \"_\" and \"-\" (%s is not allowed)", what);
        }
        len = strlen(name);
        if (len > USERNAME_MAX)
                return fail(err, errlen, "is %zu characters long; the limit is %d", len,
                            USERNAME_MAX);
        reserved = reserved_match(name);
        if (reserved) {
                if (reserved[strlen(reserved) - 1] == '*')
                        return fail(err, errlen,
                                    "names starting with \"%.*s\" are reserved for the system; "
                                    "choose another name such as \"%s\"",
                                    (int)(strlen(reserved) - 1), reserved, NAME_EXAMPLE);
                return fail(err, errlen,
                            "\"%s\" is reserved for the system; choose another name such as \"%s\"",
                            name, NAME_EXAMPLE);
        }

        if (!passwd_path)
                passwd_path = "/etc/passwd";
        if (!group_path)
                group_path = "/etc/group";
        r = account_lookup(passwd_path, name, &id);
        if (r == 0) {
                if (system_id(id)) {
                        (void)fail(err, errlen,
                                   "\"%s\" is an existing system account (uid %ld in %s); "
                                   "choose another name such as \"%s\"",
                                   name, id, passwd_path, NAME_EXAMPLE);
                        return -EEXIST;
                }
                /* A regular account: the user phase adopts it. Its own
                 * group (same name) is regular too; a system group of the
                 * same name would be odd but is the account's business. */
                return 0;
        }
        if (r != -ENOENT)
                goto io_error;
        r = account_lookup(group_path, name, &id);
        if (r == 0 && system_id(id)) {
                (void)fail(err, errlen,
                           "\"%s\" is an existing system account: a system group (gid %ld in %s); "
                           "choose another name such as \"%s\"",
                           name, id, group_path, NAME_EXAMPLE);
                return -EEXIST;
        }
        if (r == 0 || r == -ENOENT)
                return 0;
        passwd_path = group_path;
io_error:
        (void)fail(err, errlen, "cannot be checked against the existing accounts: reading %s "
                   "failed (%s); run as root on the server being set up",
                   passwd_path, strerror(-r));
        return r;
}

int validate_full_name(const char *s, char *err, size_t errlen)
{
        char what[64];
        size_t len = strlen(s);

        if (!utf8_valid(s, len))
                return fail(err, errlen, "is not valid UTF-8 text; retype it");
        if (len > 64)
                return fail(err, errlen, "is %zu bytes long; the limit is 64 bytes (letters "
                            "outside A-Z take 2 to 4 bytes each)", len);
        for (const char *p = s; *p; p++) {
                unsigned char c = (unsigned char)*p;

                if (c == ':')
                        return fail(err, errlen, "may not contain \":\" (it separates the fields "
                                    "of /etc/passwd); write the name only, e.g. \"Ada Lovelace\"");
                if (c == ',')
                        return fail(err, errlen, "may not contain \",\" (it separates the parts "
                                    "of the account's comment field); write the name only, "
                                    "e.g. \"Ada Lovelace\"");
                if (c == '=')
                        return fail(err, errlen, "may not contain \"=\" (chfn and adduser refuse "
                                    "it); write the name only, e.g. \"Ada Lovelace\"");
                if (c < 0x20 || c == 0x7f) {
                        describe_char(p, what, sizeof(what));
                        return fail(err, errlen, "may not contain %s (at byte %zu); write the "
                                    "name only, e.g. \"Ada Lovelace\"",
                                    what, (size_t)(p - s) + 1);
                }
                if (c >= 0xc2) {
                        size_t n = c <= 0xdf ? 2 : c <= 0xef ? 3 : 4;   /* valid UTF-8 */
                        const char *kind = invisible_kind(utf8_code_point(p, n));

                        if (kind)
                                return fail(err, errlen, "may not contain U+%04X (%s) (at byte "
                                            "%zu); write the name only, e.g. \"Ada Lovelace\"",
                                            (unsigned)utf8_code_point(p, n), kind,
                                            (size_t)(p - s) + 1);
                        p += n - 1;
                }
        }
        return 0;
}

int validate_port(const char *text, uint16_t *ret, char *err, size_t errlen)
{
        char what[64];
        size_t len;
        long v;

        if (!text || !*text)
                return fail(err, errlen, "is empty; write a port number between 1 and 65535");
        for (const char *p = text; *p; p++) {
                if (*p >= '0' && *p <= '9')
                        continue;
                describe_char(p, what, sizeof(what));
                return fail(err, errlen, "must be a plain decimal number between 1 and 65535 "
                            "(%s is not a digit)", what);
        }
        len = strlen(text);
        if (len > 1 && text[0] == '0') {
                size_t z = strspn(text, "0");
                if (z == len)
                        return fail(err, errlen, "must be between 1 and 65535 (0 is not a "
                                    "usable port)");
                return fail(err, errlen, "must be written without leading zeros, e.g. \"%s\"",
                            text + z);
        }
        if (len > 5)
                return fail(err, errlen, "must be between 1 and 65535 (%s is too large)", text);
        if (parse_long(text, 0, 99999, &v) < 0)
                return fail(err, errlen, "must be a plain decimal number between 1 and 65535");
        if (v == 0)
                return fail(err, errlen, "must be between 1 and 65535 (0 is not a usable port)");
        if (v > 65535)
                return fail(err, errlen, "must be between 1 and 65535 (%ld is too large)", v);
        *ret = (uint16_t)v;
        return 0;
}

/* Dotted-decimal IPv4: four numbers 0..255 without leading zeros. */
static bool ipv4_valid(const char *s)
{
        int parts = 0;

        for (const char *p = s;;) {
                size_t n = strspn(p, "0123456789");
                long v;
                char tmp[4];

                if (n == 0 || n > 3 || (n > 1 && *p == '0'))
                        return false;
                memcpy(tmp, p, n);
                tmp[n] = '\0';
                if (parse_long(tmp, 0, 255, &v) < 0)
                        return false;
                parts++;
                p += n;
                if (*p == '\0')
                        return parts == 4;
                if (*p != '.' || parts == 4)
                        return false;
                p++;
        }
}

int validate_hostname(const char *s, char *err, size_t errlen)
{
        char what[64];
        size_t len = strlen(s);

        if (len == 0)
                return fail(err, errlen, "is empty; write a host name such as "
                            "\"deb.debian.org\" or an IPv4 address");
        if (strspn(s, "0123456789.") == len) {
                if (ipv4_valid(s))
                        return 0;
                return fail(err, errlen, "is not a valid IPv4 address: write four numbers "
                            "0-255 separated by dots, e.g. \"192.0.2.10\"");
        }
        if (len > 253)
                return fail(err, errlen, "is %zu characters long; a host name may have at most "
                            "253", len);
        for (const char *label = s;;) {
                size_t n = strcspn(label, ".");

                if (n == 0)
                        return fail(err, errlen, "has an empty part (a dot at the start or end, "
                                    "or two dots in a row); write it like \"deb.debian.org\"");
                if (n > 63)
                        return fail(err, errlen, "has a part of %zu characters between dots; "
                                    "each part may have at most 63", n);
                for (size_t i = 0; i < n; i++) {
                        char c = label[i];
                        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                            (c >= '0' && c <= '9') || c == '-')
                                continue;
                        describe_char(label + i, what, sizeof(what));
                        return fail(err, errlen, "may contain only letters, digits, \"-\" and "
                                    "dots (%s is not allowed)", what);
                }
                if (label[0] == '-' || label[n - 1] == '-')
                        return fail(err, errlen, "has a part that starts or ends with \"-\"; "
                                    "each part between dots must begin and end with a letter or "
                                    "digit");
                if (label[n] == '\0')
                        return 0;
                label += n + 1;
        }
}

int validate_abs_path(const char *s, char *err, size_t errlen)
{
        char what[64];
        size_t len = strlen(s);

        if (len == 0)
                return fail(err, errlen, "is empty; write a full path starting with \"/\"");
        if (s[0] != '/')
                return fail(err, errlen, "must be an absolute path starting with \"/\", e.g. "
                            "\"/root/%s\"", s[0] == '~' ? "file" : "catalog.json");
        if (len >= PATH_MAX)
                return fail(err, errlen, "is %zu bytes long; a path must be shorter than %d",
                            len, PATH_MAX);
        for (const char *p = s; *p; p++) {
                unsigned char c = (unsigned char)*p;
                if (c < 0x20 || c == 0x7f) {
                        describe_char(p, what, sizeof(what));
                        return fail(err, errlen, "may not contain %s (at byte %zu)", what,
                                    (size_t)(p - s) + 1);
                }
        }
        if (!utf8_valid(s, len))
                return fail(err, errlen, "is not valid UTF-8 text; retype it");
        for (const char *c = s; *c;) {
                size_t n = strcspn(c, "/");
                if (n == 2 && c[0] == '.' && c[1] == '.')
                        return fail(err, errlen, "may not contain \"..\"; write the path "
                                    "without going up a directory");
                c += n;
                c += strspn(c, "/");
        }
        if (strspn(s, "/") == len)
                return fail(err, errlen, "names the root directory \"/\"; write the full path "
                            "of a file");
        return 0;
}

int validate_url(const char *s, char *err, size_t errlen)
{
        char what[64], host[256], port[8];
        const char *p, *authority, *aend, *colon;
        size_t len = strlen(s), hl;
        uint16_t portnum;

        if (len == 0)
                return fail(err, errlen, "is empty; write a URL such as "
                            "\"http://deb.debian.org/debian\"");
        /* Characters first: they make the later errors misleading. */
        for (p = s; *p; p++) {
                unsigned char c = (unsigned char)*p;
                if (c == ' ')
                        return fail(err, errlen, "may not contain spaces (at character %zu); "
                                    "write a space in a path as %%20",
                                    (size_t)(p - s) + 1);
                if (c < 0x20 || c >= 0x7f || c == '"' || c == '\'' || c == '`' || c == '<' ||
                    c == '>' || c == '\\' || c == '{' || c == '}' || c == '|' || c == '^' ||
                    c == '#') {
                        describe_char(p, what, sizeof(what));
                        return fail(err, errlen, "may not contain %s (at character %zu); write "
                                    "the URL as printed by the mirror, e.g. "
                                    "\"http://deb.debian.org/debian\"",
                                    what, (size_t)(p - s) + 1);
                }
        }
        if (strncasecmp(s, "http://", 7) == 0)
                authority = s + 7;
        else if (strncasecmp(s, "https://", 8) == 0)
                authority = s + 8;
        else {
                const char *sep = strstr(s, "://");
                if (sep && sep - s < 16)
                        return fail(err, errlen, "must start with http:// or https:// (%.*s:// "
                                    "is not supported), e.g. \"http://deb.debian.org/debian\"",
                                    (int)(sep - s), s);
                return fail(err, errlen, "must start with http:// or https://, e.g. "
                            "\"http://deb.debian.org/debian\"");
        }
        /* apt's methods are named in lower case: it has no "httpS" */
        if (strncmp(s, "http://", 7) != 0 && strncmp(s, "https://", 8) != 0)
                return fail(err, errlen, "must start with http:// or https:// in lower case "
                            "(apt has no method \"%.*s\"): write \"%s\" in lower case, e.g. "
                            "\"%sdeb.debian.org/debian\"",
                            (int)(authority - s - 3), s, authority == s + 8 ? "https://" : "http://",
                            authority == s + 8 ? "https://" : "http://");
        aend = authority + strcspn(authority, "/?");
        if (memchr(authority, '@', (size_t)(aend - authority)))
                return fail(err, errlen, "may not contain a user name or password (\"@\"); "
                            "apt reads credentials from /etc/apt/auth.conf.d instead");
        colon = memchr(authority, ':', (size_t)(aend - authority));
        hl = (size_t)((colon ? colon : aend) - authority);
        if (hl == 0)
                return fail(err, errlen, "has no host name after \"://\"; write it like "
                            "\"http://deb.debian.org/debian\"");
        if (hl >= sizeof(host))
                return fail(err, errlen, "has a host name of %zu characters; a host name may "
                            "have at most 253", hl);
        memcpy(host, authority, hl);
        host[hl] = '\0';
        if (host[0] == '[')
                return fail(err, errlen, "uses an IPv6 address, which is not supported here; "
                            "use the mirror's host name");
        {
                char herr[256];
                if (validate_hostname(host, herr, sizeof(herr)) < 0)
                        return fail(err, errlen, "has a bad host name: it %s", herr);
        }
        if (colon) {
                size_t pl = (size_t)(aend - colon - 1);
                char perr[200];

                if (pl == 0 || pl >= sizeof(port))
                        return fail(err, errlen, "has a bad port after the host: write it as "
                                    "\"host:8080\" with a number between 1 and 65535");
                memcpy(port, colon + 1, pl);
                port[pl] = '\0';
                if (validate_port(port, &portnum, perr, sizeof(perr)) < 0)
                        return fail(err, errlen, "has a bad port after the host: it %s", perr);
        }
        return 0;
}

/* The crypt(3) methods chpasswd -e accepts that are still worth using, and
 * the shape of their hashes:
 *   $y$ $gy$  PARAMS$SALT$HASH43     yescrypt (Debian's default), gost-yescrypt
 *   $7$       PARAMS11+SALT$HASH43   scrypt
 *   $6$ $5$   [rounds=N$]SALT$HASH   sha512crypt (86), sha256crypt (43); SALT 1-16
 *   $2b$ $2y$ CC$SALT22+HASH31       bcrypt, cost CC 04-31
 * Every part is written in crypt's base-64 alphabet (./0-9A-Za-z). */
enum hash_shape { SHAPE_YESCRYPT, SHAPE_SCRYPT, SHAPE_SHACRYPT, SHAPE_BCRYPT };

static const struct {
        const char *prefix;
        const char *name;
        enum hash_shape shape;
        size_t hash_len;
} hash_methods[] = {
        { "$y$", "yescrypt", SHAPE_YESCRYPT, 43 },
        { "$gy$", "gost-yescrypt", SHAPE_YESCRYPT, 43 },
        { "$7$", "scrypt", SHAPE_SCRYPT, 43 },
        { "$6$", "sha512crypt", SHAPE_SHACRYPT, 86 },
        { "$5$", "sha256crypt", SHAPE_SHACRYPT, 43 },
        { "$2b$", "bcrypt", SHAPE_BCRYPT, 53 },
        { "$2y$", "bcrypt", SHAPE_BCRYPT, 53 },
};

#define HASH_HINT "make one with \"mkpasswd -m yescrypt\" (package whois) and paste its output, " \
                  "or leave it empty to have a strong password generated"
#define HASH_COPY "copy the whole line \"mkpasswd -m yescrypt\" prints"
#define SHACRYPT_SALT_MAX 16
#define CRYPT_PART_MAX 86   /* the longest salt or hash part of these methods */

/* The number of characters of crypt's base-64 alphabet at s. */
static size_t b64_span(const char *s)
{
        return strspn(s, "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");
}

/* Splits rest (what follows the method's prefix) at '$' into at most 4
 * parts; returns how many there are. */
static size_t split_parts(const char *rest, const char *part[4], size_t len[4])
{
        size_t n = 0;

        for (const char *p = rest;; n++) {
                size_t l = strcspn(p, "$");

                if (n == 4)
                        return 5;   /* more than any method has */
                part[n] = p;
                len[n] = l;
                if (p[l] == '\0')
                        return n + 1;
                p += l + 1;
        }
}

/* Checks the parts of a hash against its method's shape (see above). */
static int check_hash_shape(const char *rest, size_t m, char *err, size_t errlen)
{
        const char *name = hash_methods[m].name, *prefix = hash_methods[m].prefix;
        size_t want = hash_methods[m].hash_len;
        const char *part[4];
        size_t len[4], n = split_parts(rest, part, len), first = 0;

        for (size_t i = 0; i < n && i < 4; i++)
                if (b64_span(part[i]) < len[i] &&
                    !(hash_methods[m].shape == SHAPE_SHACRYPT && i == 0 &&
                      startswith(part[0], "rounds=")))
                        return fail(err, errlen, "contains a character that never appears in a "
                                    "%s hash; " HASH_COPY, name);

        switch (hash_methods[m].shape) {
        case SHAPE_YESCRYPT:
                if (n != 3) {
                        size_t parts = 1;
                        for (const char *p = rest; (p = strchr(p, '$')); p++)
                                parts++;
                        return fail(err, errlen, "is not a %s hash: it has 3 parts after \"%s\" "
                                    "(settings, salt, hash) separated by \"$\", not %zu; "
                                    HASH_COPY, name, prefix, parts);
                }
                /* flavour, N and r at least (yescrypt's own encoding) */
                if (len[0] < 3)
                        return fail(err, errlen, "is not a %s hash: its settings are cut short; "
                                    HASH_COPY, name);
                if (len[1] == 0)
                        return fail(err, errlen, "is not a %s hash: its salt is empty; "
                                    HASH_COPY, name);
                if (len[1] > CRYPT_PART_MAX)
                        return fail(err, errlen, "is not a %s hash: its salt is %zu characters "
                                    "long; " HASH_COPY, name, len[1]);
                if (len[2] != want)
                        return fail(err, errlen, "is not a %s hash: the hash part has %zu "
                                    "characters, not %zu; " HASH_COPY, name, len[2], want);
                return 0;
        case SHAPE_SCRYPT:
                /* N (1 character), r (5) and p (5), the salt; "$"; the hash */
                if (n != 2 || len[0] < 12 || len[0] > 11 + CRYPT_PART_MAX)
                        return fail(err, errlen, "is not a %s hash: after \"%s\" come its "
                                    "settings and salt, \"$\", and the hash; " HASH_COPY, name,
                                    prefix);
                if (len[1] != want)
                        return fail(err, errlen, "is not a %s hash: the hash part has %zu "
                                    "characters, not %zu; " HASH_COPY, name, len[1], want);
                return 0;
        case SHAPE_SHACRYPT:
                if (n >= 1 && startswith(part[0], "rounds=")) {
                        char num[16];
                        long rounds;
                        size_t dl = len[0] - 7;

                        /* crypt writes the rounds it used: 1000..999999999,
                         * plain decimal */
                        if (dl == 0 || dl >= sizeof(num) || part[0][7] == '0')
                                return fail(err, errlen, "is not a %s hash: \"rounds=\" must be "
                                            "followed by a number from 1000 to 999999999; "
                                            HASH_COPY, name);
                        memcpy(num, part[0] + 7, dl);
                        num[dl] = '\0';
                        if (parse_long(num, 1000, 999999999, &rounds) < 0)
                                return fail(err, errlen, "is not a %s hash: \"rounds=\" must be "
                                            "followed by a number from 1000 to 999999999; "
                                            HASH_COPY, name);
                        first = 1;
                }
                if (n - first != 2)
                        return fail(err, errlen, "is not a %s hash: after \"%s\"%s it has a salt "
                                    "and the hash separated by \"$\"; " HASH_COPY, name, prefix,
                                    first ? " and the rounds" : "");
                if (len[first] == 0)
                        return fail(err, errlen, "is not a %s hash: its salt is empty; "
                                    HASH_COPY, name);
                if (len[first] > SHACRYPT_SALT_MAX)
                        return fail(err, errlen, "is not a %s hash: its salt has %zu characters; "
                                    "at most %d (crypt cuts longer ones); " HASH_COPY, name,
                                    len[first], SHACRYPT_SALT_MAX);
                if (len[first + 1] != want)
                        return fail(err, errlen, "is not a %s hash: the hash part has %zu "
                                    "characters, not %zu; " HASH_COPY, name, len[first + 1], want);
                return 0;
        case SHAPE_BCRYPT:
                if (n != 2 || len[0] != 2 || !isdigit((unsigned char)part[0][0]) ||
                    !isdigit((unsigned char)part[0][1]))
                        return fail(err, errlen, "is not a bcrypt hash: after \"%s\" come a "
                                    "two-digit cost, \"$\", and 53 characters; " HASH_COPY,
                                    prefix);
                {
                        int cost = (part[0][0] - '0') * 10 + (part[0][1] - '0');
                        if (cost < 4 || cost > 31)
                                return fail(err, errlen, "is not a bcrypt hash: its cost %02d "
                                            "is outside 04-31; " HASH_COPY, cost);
                }
                if (len[1] != want)
                        return fail(err, errlen, "is not a bcrypt hash: after the cost it has "
                                    "%zu characters, not %zu (salt and hash); " HASH_COPY,
                                    len[1], want);
                return 0;
        }
        return -EINVAL;
}

int validate_password_hash(const char *s, char *err, size_t errlen)
{
        size_t len = strlen(s), m;
        int r;

        if (len == 0)
                return fail(err, errlen, "is empty; " HASH_HINT);
        for (m = 0; m < ELEMENTSOF(hash_methods); m++)
                if (startswith(s, hash_methods[m].prefix))
                        break;
        if (m == ELEMENTSOF(hash_methods)) {
                if (startswith(s, "$1$") || startswith(s, "$md5"))
                        return fail(err, errlen, "is an MD5 hash, which is too weak today; "
                                    HASH_HINT);
                if (s[0] == '$')
                        return fail(err, errlen, "uses a hash method chpasswd does not know "
                                    "or that is too weak (use $y$, $6$ or $2b$); " HASH_HINT);
                return fail(err, errlen, "is not a crypt(3) hash (it must start with $y$, $6$ "
                            "or $2b$); never write a plain-text password here: " HASH_HINT);
        }
        for (const char *p = s; *p; p++) {
                unsigned char c = (unsigned char)*p;
                if (c == ':')
                        return fail(err, errlen, "may not contain \":\" (it separates the fields "
                                    "of /etc/shadow); " HASH_HINT);
                if (c == ' ' || c == '\t')
                        return fail(err, errlen, "may not contain spaces; copy the hash exactly "
                                    "as mkpasswd prints it");
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '.' || c == '/' || c == '$' || c == '='))
                        return fail(err, errlen, "contains a character that never appears in a "
                                    "crypt(3) hash (at character %zu); copy the hash exactly as "
                                    "mkpasswd prints it",
                                    (size_t)(p - s) + 1);
        }
        /* settings$salt$hash (yescrypt/sha-crypt) or cost$salthash (bcrypt):
         * at least one more '$' with something after it. */
        const char *rest = s + strlen(hash_methods[m].prefix);
        const char *last = strrchr(rest, '$');
        if (!last || last[1] == '\0' || len < 20)
                return fail(err, errlen, "is cut short (a hash has its settings, a salt and the "
                            "hash itself, separated by \"$\"); " HASH_COPY);

        /* libxcrypt's own verdict on the method and its settings: one this
         * system cannot compute, has disabled or calls legacy is no good */
        switch (crypt_checksalt(s)) {
        case CRYPT_SALT_OK:
                break;
        case CRYPT_SALT_METHOD_LEGACY:
                return fail(err, errlen, "is a %s hash, a method libxcrypt marks as legacy (too "
                            "weak today); " HASH_HINT, hash_methods[m].name);
        case CRYPT_SALT_METHOD_DISABLED:
                return fail(err, errlen, "is a %s hash, a method this system's libxcrypt has "
                            "turned off; " HASH_HINT, hash_methods[m].name);
        default:
                return fail(err, errlen, "is not a %s hash libxcrypt can check (its settings "
                            "are malformed); " HASH_COPY, hash_methods[m].name);
        }
        r = check_hash_shape(rest, m, err, errlen);
        return r;
}
