/* summary.h — the pure part of the summary phase, declared for the unit
 * tests. The phase itself is phase_summary_phase in phases.h (phase.h
 * already has a function called phase_summary). */
#pragma once

#include <stdbool.h>

#include "answers.h"

/* The final screen's lines: RDP and SSH directions, the SHA-256
 * fingerprint of the RDP certificate (rdp_fingerprint, NULL or "" when it
 * could not be read: said so), where the password comes from (never the
 * password or hash itself), the log and session files, how to undo.
 * password_set: the user phase set a password in this run (so a generated
 * one is shown at its end). host NULL or "" = unknown. old_ssh_port: the
 * port SSH was reached on before, kept open until a login on ssh_port is
 * seen (0 = none): what state that is in and what to try. With rdp_listen
 * = localhost the RDP directions are the SSH tunnel's. strv, caller frees. */
char **summary_lines(const struct answers *a, bool password_set, const char *host,
                     const char *rdp_fingerprint, const char *log_path, const char *session_path,
                     unsigned old_ssh_port);
