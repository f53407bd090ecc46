/* rdp.h — the pure parts of the rdp phase, for its tests. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The group whose members the polkit rule lets do the listed actions
 * without a password (the user phase creates it and puts the developer in). */
#define RDP_POLKIT_GROUP "devusers"

/* xrdp's sound module in Debian (13 has it, 12 has not). The desktop phase
 * installs PipeWire's PulseAudio server for it in the same transaction. */
#define RDP_SOUND_MODULE "pipewire-module-xrdp"

struct phase_ctx;

/* For a plan (dry run) when apt has no RDP_SOUND_MODULE: whether that is
 * this Debian release (Debian 12 has none) or only package lists that were
 * never downloaded (a fresh image; system-prep's apt-get update comes
 * first in a real run). A static string. */
const char *rdp_plan_sound_note(struct phase_ctx *c);

/* The polkit rule file's text, and the action ids it allows (NULL-terminated). */
extern const char rdp_polkit_rule[];
extern const char *const rdp_polkit_actions[];

#define XRDP_DIR "/etc/xrdp"
#define XRDP_INI XRDP_DIR "/xrdp.ini"
#define SESMAN_INI XRDP_DIR "/sesman.ini"
/* What xrdp's [Globals] security_layer is set to: TLS only. Upstream's
 * "negotiate" also lets a client choose classic RDP security, whose
 * encryption is RC4 with a key the server signs with a fixed RSA key. */
#define RDP_SECURITY_LAYER "tls"

/* An INI text of xrdp's (xrdp.ini, sesman.ini): the value of key in
 * [section] (section and key names compared without case, spaces around
 * '=' allowed, ';' and '#' comment lines skipped) into buf, trimmed. 0,
 * -ENOENT when the section or the key is missing, -ENOBUFS when buf is too
 * small. */
int rdp_ini_get(const char *ini, const char *section, const char *key, char *buf, size_t size);
/* A copy of ini with key in [section] set to value: the first such line
 * becomes "key=value", or one is added right after the section header
 * when the section has none. Every other byte stays as it was. 0 with
 * *ret set (caller frees), 1 when it is exactly value already (*ret
 * untouched), -ENOENT when there is no such section. */
int rdp_ini_set(const char *ini, const char *section, const char *key, const char *value,
                char **ret);
/* rdp_ini_get() of [Globals] port. */
int rdp_ini_get_port(const char *ini, char *buf, size_t size);

/* A copy of ini with [Globals] port set to port: the first "port" line of
 * that section becomes "port=N", or one is added right after the section
 * header when the section has none. Every other byte stays as it was. 0 with
 * *ret set (caller frees), 1 when the port is already exactly N (*ret
 * untouched), -ENOENT when there is no [Globals] section. */
int rdp_ini_set_port(const char *ini, uint16_t port, char **ret);
/* The value of xrdp.ini's [Globals] port for the answers: "3389" listens on
 * every address; with localhost "tcp://127.0.0.1:3389", xrdp's own form for
 * one address (xrdp.ini(5): port=tcp://ADDR:PORT). */
void rdp_port_value(uint16_t port, bool localhost, char *buf, size_t size);
/* xrdp.ini as the phase wants it: [Globals] port (rdp_port_value()) and
 * security_layer=tls. Like rdp_ini_set() (0 + *ret, 1 unchanged, -ENOENT). */
int rdp_xrdp_ini(const char *ini, uint16_t port, bool localhost, char **ret);
/* sesman.ini as the phase wants it: [Security] AllowRootLogin=false (root
 * may not log in over RDP, as over SSH with a password). Like
 * rdp_ini_set(). */
int rdp_sesman_ini(const char *ini, char **ret);
/* The certificate xrdp presents: [Globals] certificate of xrdp.ini, or
 * xrdp's default XRDP_DIR/cert.pem when empty; a relative name is in
 * XRDP_DIR. 0, or -ENOBUFS. */
int rdp_cert_path(const char *ini, char *buf, size_t size);
