/* cert.h — facts about an X.509 certificate a person needs to trust it.
 *
 * An RDP client meets the server's self-signed certificate on its first
 * connect and asks whether to trust it; comparing the fingerprint it shows
 * with the one the run printed is how a person tells the real server from
 * someone in between. */
#pragma once

#include <stddef.h>

/* "SHA256 Fingerprint" as RDP clients and "openssl x509 -fingerprint
 * -sha256" show it: the SHA-256 of the certificate's DER encoding, in
 * upper-case hex pairs separated by ':' (95 characters). Reads the first
 * certificate of the PEM file path (a symlink is followed: Debian's xrdp
 * points at the ssl-cert pair). 0, -ENOENT (no file), -EBADMSG (no
 * certificate in it), -ENOBUFS (size < CERT_FINGERPRINT_MAX) or -errno;
 * buf untouched on failure. */
#define CERT_FINGERPRINT_MAX 96
int cert_sha256_fingerprint(const char *path, char *buf, size_t size);
