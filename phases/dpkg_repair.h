/* dpkg_repair.h — finishing an interrupted dpkg before a phase installs.
 *
 * A run killed in the middle of an apt transaction (SIGKILL, power loss)
 * leaves packages unpacked but not configured, and every later apt-get
 * refuses to work until "dpkg --configure -a" has run. The preflight check
 * lets such a --resume start; the system-prep, desktop and rdp phases call
 * this before their apt transactions so that the resumed run finishes. */
#pragma once

#include "phase.h"

/* True when dpkg's journal (DIR/updates, DIR normally /var/lib/dpkg) holds
 * pending entries, the sign dpkg itself uses for "was interrupted". */
bool dpkg_interrupted(const char *dpkg_dir);

/* Runs dpkg --configure -a (configuration files: keep the local ones) when
 * dpkg was interrupted, journaled as a command with nothing to undo: it only
 * completes a transaction whose packages an earlier record already lists
 * for purging. 0 when it ran, 1 when there was nothing to do, < 0 after
 * phase_fail(). */
int dpkg_repair(struct phase_ctx *c);
