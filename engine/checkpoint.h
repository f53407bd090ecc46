/* checkpoint.h — "this phase was done and verified".
 *
 * One JSON file per phase, DIR/PHASE.json, written (atomically, 0600) only
 * after the phase's verify() passed:
 *   {"phase_name":"rdp","completed_at":"…","session_id":"…",
 *    "checksum":"<sha256 of what verify saw>",
 *    "inputs":"<sha256 of the answers the phase depends on>"}
 * A re-run skips a phase when its checkpoint exists, its inputs match the
 * current answers and verify() still passes; checksum tells whether what
 * verify saw has changed since (logged, not fatal). */
#pragma once

#include "util.h"

struct checkpoint {
        char phase[64];
        char completed_at[ISO8601_MAX];
        char session_id[32];
        char checksum[SHA256_HEX];
        char inputs[SHA256_HEX];
};

/* Creates dir (0700) if needed. */
int checkpoint_write(const char *dir, const struct checkpoint *c);
/* -ENOENT when absent, -EBADMSG when unreadable/invalid. */
int checkpoint_read(const char *dir, const char *phase, struct checkpoint *ret);
/* The same from a file's text (len bytes), without the check that the
 * phase matches the file's name. */
int checkpoint_parse(const char *text, size_t len, struct checkpoint *ret);
/* 0 or -ENOENT; other -errno on failure. */
int checkpoint_remove(const char *dir, const char *phase);
/* Removes every checkpoint written by session_id; returns how many. */
int checkpoint_remove_session(const char *dir, const char *session_id);
int checkpoint_remove_all(const char *dir);
