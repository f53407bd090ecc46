/* testlib.c — see testlib.h. */
#include "testlib.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *dirs[256];
static size_t n_dirs;
static int registered;

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st;
        (void)flag;
        (void)ftw;
        if (remove(p) < 0 && errno != ENOENT)
                fprintf(stderr, "testlib: cannot remove %s: %m\n", p);
        return 0;
}

void test_rmtree(const char *path)
{
        nftw(path, rm_one, 32, FTW_DEPTH | FTW_PHYS);
}

void test_cleanup_all(void)
{
        for (size_t i = 0; i < n_dirs; i++) {
                if (!getenv("VPSP_TEST_KEEP"))
                        test_rmtree(dirs[i]);
                free(dirs[i]);
        }
        n_dirs = 0;
}

char *test_tmpdir(void)
{
        const char *base = getenv("TMPDIR");
        char tmpl[PATH_MAX];

        if (!registered) {
                atexit(test_cleanup_all);
                registered = 1;
        }
        snprintf(tmpl, sizeof(tmpl), "%s/vpsp-test-XXXXXX", base && *base ? base : "/tmp");
        assert_non_null(mkdtemp(tmpl));
        assert_true(n_dirs < sizeof(dirs) / sizeof(dirs[0]));
        dirs[n_dirs] = strdup(tmpl);
        assert_non_null(dirs[n_dirs]);
        return dirs[n_dirs++];
}

static void write_mode(const char *path, const char *content, mode_t mode)
{
        FILE *f = fopen(path, "we");
        assert_non_null(f);
        assert_int_equal(fputs(content, f) >= 0, 1);
        assert_int_equal(fclose(f), 0);
        assert_int_equal(chmod(path, mode), 0);
}

void test_write(const char *path, const char *content)
{
        write_mode(path, content, 0644);
}

void test_write_exec(const char *path, const char *content)
{
        write_mode(path, content, 0755);
}

char *test_read(const char *path)
{
        FILE *f = fopen(path, "re");
        char *data = NULL;
        size_t len = 0, cap = 0;
        int c;

        if (!f)
                return NULL;
        while ((c = fgetc(f)) != EOF) {
                if (len + 2 > cap) {
                        cap = cap ? cap * 2 : 256;
                        data = realloc(data, cap);
                        assert_non_null(data);
                }
                data[len++] = (char)c;
        }
        fclose(f);
        if (!data)
                data = calloc(1, 1);
        else
                data[len] = '\0';
        return data;
}

char *test_path(const char *dir, const char *name)
{
        char *p = NULL;
        assert_true(asprintf(&p, "%s/%s", dir, name) > 0);
        return p;
}

void test_path_prepend(const char *dir)
{
        const char *old = getenv("PATH");
        char *p = NULL;
        assert_true(asprintf(&p, "%s:%s", dir, old && *old ? old : "/usr/sbin:/usr/bin:/sbin:/bin") > 0);
        setenv("PATH", p, 1);
        free(p);
}

void test_stub(const char *dir, const char *name, const char *body)
{
        char *path = test_path(dir, name);
        char *script = NULL;
        assert_true(asprintf(&script,
                             "#!/bin/sh\n"
                             "echo \"%s $*\" >> '%s/calls.log'\n"
                             "%s\n",
                             name, dir, body) > 0);
        test_write_exec(path, script);
        free(script);
        free(path);
}

char *test_stub_calls(const char *dir)
{
        char *path = test_path(dir, "calls.log");
        char *s = test_read(path);
        free(path);
        return s ? s : strdup("");
}

int test_count_fds(void)
{
        DIR *d = opendir("/proc/self/fd");
        struct dirent *de;
        int n = 0;

        assert_non_null(d);
        while ((de = readdir(d)))
                if (de->d_name[0] != '.')
                        n++;
        closedir(d);
        return n - 1; /* the DIR's own fd */
}

int test_under_valgrind(void)
{
        const char *v = getenv("VPSP_UNDER_VALGRIND");
        return v && *v == '1';
}
