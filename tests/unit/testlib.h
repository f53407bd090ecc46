/* testlib.h — helpers for the cmocka unit tests: scratch directories that
 * are removed afterwards, stub commands on PATH (the fake system), small
 * file helpers. Tests include <cmocka.h> after this header. */
#pragma once

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

/* A new empty directory under $TMPDIR (or /tmp); removed by
 * test_cleanup_all() (call it from a group teardown, or let the atexit
 * handler do it). Never NULL (fails the test instead). */
char *test_tmpdir(void);
void test_rmtree(const char *path);
void test_cleanup_all(void);

/* Writes path with content (mode 0644) / an executable script (0755). */
void test_write(const char *path, const char *content);
void test_write_exec(const char *path, const char *content);
/* Whole file as a NUL-terminated string; NULL if missing. Caller frees. */
char *test_read(const char *path);
/* path joined from parts, caller frees: test_path(dir, "a/b"). */
char *test_path(const char *dir, const char *name);

/* Makes dir a directory of stub commands placed first on PATH for the rest
 * of the test program (and for children through run_default_env()). */
void test_path_prepend(const char *dir);
/* Writes an executable stub dir/name from a shell script body. The stub
 * appends its argv (one line, words separated by spaces) to dir/calls.log
 * before running body. */
void test_stub(const char *dir, const char *name, const char *body);
/* Content of dir/calls.log ("" when no call). Caller frees. */
char *test_stub_calls(const char *dir);

/* Number of open fds of this process (for leak checks). */
int test_count_fds(void);
/* True when running under valgrind (VPSP_UNDER_VALGRIND=1): tests shrink
 * their floods there. */
int test_under_valgrind(void);
