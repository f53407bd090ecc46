/* faultpoint.h — named points where a test build injects a fault.
 *
 * The kill-point matrix stops the program dead (SIGKILL) at a chosen one;
 * the disk-full tests fill the state directory's filesystem at one. The
 * points: "journal" after each journal line is on disk (detail: the line),
 * "undo" before and "undone" after each undo of a rollback (before its
 * outcome is journaled; detail: the undo's kind), "status" at each line
 * apt writes on its status channel, "backup" when a file backup's name is
 * taken but nothing copied yet, "atomic" when an atomic write's temporary
 * file is written but not yet renamed (detail: the path).
 *
 * The program never sets fault_point_hook, so in it each point is one test
 * of a NULL pointer; only test programs (tests/faults/faulthook.c) set it. */
#pragma once
#include <stddef.h>

extern void (*fault_point_hook)(const char *kind, const char *detail, size_t len);

static inline void fault_point(const char *kind, const char *detail, size_t len)
{
        if (fault_point_hook)
                fault_point_hook(kind, detail, len);
}
