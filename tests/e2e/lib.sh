# shellcheck shell=bash
# tests/e2e/lib.sh — helpers for end-to-end test scripts (source it, bash).
#
#   . "$(dirname "$0")/lib.sh"
#   th_require                      # skip (exit 77) where it cannot run; fail in CI
#   th_up web                       # boot host "web" (th_up a b: two in parallel)
#   th_step "installing"            # timestamped progress line
#   th_exec web apt-get -q update   # as root inside; status passed through
#   th_ssh web 'systemctl is-active ssh'
#   th_assert "sshd answers" th_ssh web true
#   th_assert_eq "hostname" web "$(th_exec web hostname)"
#   th_timeout 300 th_exec web vps-provision --unattended /root/answers.ini
#   th_fail "what went wrong"       # console + journal tails, exit 1
#   th_tmpdir dir; th_free_port; th_port web
#   th_up web -- --private-net      # own network namespace (ufw etc. stay inside)
#   th_install_program web          # apt install of the program's .deb (th_deb) in web
#   th_install_program web BINARY   # the same, then a test build in place of the program
#
# Every host a test starts with th_up is stopped and removed when the test
# ends, passes, fails or is interrupted (EXIT/INT/TERM), each within a
# bounded time (bash runs the INT/TERM trap once the current command ends).
# VPSP_TEST_KEEP=1 keeps them for a look afterwards (testhost list, then
# testhost rm NAME or testhost gc). A test killed with SIGKILL cannot clean
# up: th_up removes a host of the same name first, testhost gc removes all.

TH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TH_TESTHOST=${TH_TESTHOST:-$TH_DIR/testhost}
TH_CACHE=${VPSP_TEST_CACHE:-/var/cache/vps-provision-tests}
TH_HOSTS=()
TH_TMPDIRS=()
TH_T0=$SECONDS
TH_CLEANED=0

# Prints a timestamped progress line: th_step "installing xrdp".
th_step() { printf '[%s +%3ds] %s\n' "$(date +%H:%M:%S)" "$((SECONDS - TH_T0))" "$*" >&2; }

# Prints an indented detail line under the current step.
th_info() { printf '               %s\n' "$*" >&2; }

# Exits 77 (ctest's skip) saying why, unless VPSP_TEST_NO_SKIP=1 or CI is set: then fails.
th_skip() {
        if [ "${VPSP_TEST_NO_SKIP:-0}" = 1 ] || [ -n "${CI:-}" ]; then
                printf 'FAIL (would skip, but this is CI): %s\n' "$*" >&2
                exit 1
        fi
        printf 'SKIP: %s\n' "$*" >&2
        exit 77
}

# Skips the test where the harness cannot run: not root, or tools missing.
th_require() {
        [ "$(id -u)" = 0 ] || th_skip "end-to-end tests boot containers: run them as root (tests/run does)"
        local c pkg
        for c in systemd-nspawn:systemd-container debootstrap:debootstrap ssh:openssh-client ss:iproute2 nsenter:util-linux apt-cacher-ng:apt-cacher-ng; do
                pkg=${c#*:}
                command -v "${c%%:*}" >/dev/null 2>&1 || th_skip "${c%%:*} missing: apt-get install $pkg"
        done
}

# Runs CMD (a command or a th_ function) with a time limit: th_timeout SECONDS CMD...;
# returns CMD's status, or 124 with a message on timeout.
th_timeout() {
        local secs=$1 rc=0
        shift
        if [ "$(type -t "$1")" = function ]; then
                # A function runs in a fresh bash that sources this file (so
                # timeout can kill it and all it started).
                # shellcheck disable=SC2016 # expanded by the child shell
                timeout -k 10 "$secs" bash -c '. "$0"; "$@"' "$TH_DIR/lib.sh" "$@" || rc=$?
        else
                timeout -k 10 "$secs" "$@" || rc=$?
        fi
        if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
                printf 'timed out after %s s: %s\n' "$secs" "$*" >&2
        fi
        return "$rc"
}

# Prints a free TCP port of this machine (30000-39999; the harness's sshd use 20000-29999).
th_free_port() {
        local used p i
        used=" $(ss -Htan 2>/dev/null | awk '{ n = split($4, a, ":"); printf "%s ", a[n] }')"
        for ((i = 0; i < 500; i++)); do
                p=$((30000 + (RANDOM * 32768 + RANDOM) % 10000))
                case $used in *" $p "*) continue ;; esac
                printf '%s\n' "$p"
                return 0
        done
        printf 'th_free_port: no free port in 30000-39999\n' >&2
        return 1
}

# Makes a temporary directory, removed when the test ends, and stores its
# path in the variable named $1: th_tmpdir src (not in $(...): a subshell
# could not register it).
th_tmpdir() {
        local _d
        _d=$(mktemp -d "${TMPDIR:-/tmp}/vpsp-e2e.XXXXXX") || th_fail "cannot create a temporary directory"
        TH_TMPDIRS+=("$_d")
        printf -v "$1" '%s' "$_d"
}

# Stops and removes every host this test started (each bounded); runs once.
th__cleanup() {
        local rc=$? name pids=()
        [ "$TH_CLEANED" = 1 ] && return "$rc"
        TH_CLEANED=1
        [ ${#TH_TMPDIRS[@]} -eq 0 ] || rm -rf -- "${TH_TMPDIRS[@]}"
        [ ${#TH_HOSTS[@]} -gt 0 ] || return "$rc"
        if [ "${VPSP_TEST_KEEP:-0}" = 1 ]; then
                th_step "keeping ${TH_HOSTS[*]} (VPSP_TEST_KEEP=1): testhost ssh NAME; testhost rm NAME when done"
                return "$rc"
        fi
        th_step "cleanup: removing ${TH_HOSTS[*]}"
        # A provisioned host is a desktop's worth of files (its overlay's
        # upper directory) after up to 30 s of poweroff; several removed at
        # once on a loaded machine took more than a minute each.
        for name in "${TH_HOSTS[@]}"; do
                timeout -k 5 300 "$TH_TESTHOST" rm "$name" &
                pids+=($!)
        done
        for name in "${pids[@]}"; do
                wait "$name" || printf 'cleanup: testhost rm failed or timed out (pid %s); run: %s gc\n' "$name" "$TH_TESTHOST" >&2
        done
        return "$rc"
}

trap 'th__cleanup' EXIT
trap 'th__cleanup; trap - EXIT; exit 130' INT
trap 'th__cleanup; trap - EXIT; exit 143' TERM

# Boots hosts (in parallel when several): th_up NAME... [-- UP-OPTIONS]; fails the test on error.
th_up() {
        local names=() opts=() name pids=() i rc=0
        while [ $# -gt 0 ] && [ "$1" != -- ]; do names+=("$1"); shift; done
        [ "${1:-}" = -- ] && shift
        opts=("$@")
        for name in "${names[@]}"; do
                # A host of the same name left by a killed run of this test.
                "$TH_TESTHOST" rm "$name" >/dev/null 2>&1 || true
                TH_HOSTS+=("$name")
        done
        for name in "${names[@]}"; do
                "$TH_TESTHOST" up "$name" "${opts[@]}" &
                pids+=($!)
        done
        for i in "${!pids[@]}"; do
                wait "${pids[i]}" && continue
                # Once in a while a container's systemd-nspawn ends right
                # after its boot (seen once, in a cold run, while a second
                # host booted beside it); the harness boots it once more
                # and says so, rather than fail a test that had not begun.
                printf 'testhost up %s failed; removing it and booting it once more\n' "${names[i]}" >&2
                "$TH_TESTHOST" rm "${names[i]}" >/dev/null 2>&1 || true
                "$TH_TESTHOST" up "${names[i]}" "${opts[@]}" ||
                        { rc=1; printf 'testhost up %s failed again\n' "${names[i]}" >&2; }
        done
        [ "$rc" = 0 ] || th_fail "could not boot ${names[*]}"
}

# Runs CMD as root inside host NAME: th_exec NAME CMD...; stdin/stdout/status passed through.
th_exec() {
        local name=$1
        shift
        "$TH_TESTHOST" exec "$name" -- "$@"
}

# Runs a shell command line over ssh as root in NAME: th_ssh NAME CMD...
th_ssh() {
        local name=$1
        shift
        "$TH_TESTHOST" ssh "$name" -- "$@"
}

# The ssh port of host NAME.
th_port() { cat "$TH_CACHE/hosts/$1/ssh-port"; }

# Prints diagnosis for host NAME: console tail and journal tail.
th_diagnose() {
        local name=$1 d=$TH_CACHE/hosts/$1
        printf -- '--- %s: console (last 30 lines of %s/console.log) ---\n' "$name" "$d" >&2
        if [ -e "$d/console.log" ]; then
                tail -n 30 "$d/console.log" | sed 's/\x1b\[[0-9;]*[A-Za-z]//g' >&2
        else
                printf '(no console log)\n' >&2
        fi
        printf -- '--- %s: journal (last 40 lines) ---\n' "$name" >&2
        timeout -k 2 15 "$TH_TESTHOST" exec "$name" -- journalctl -b -n 40 --no-pager -o short-monotonic >&2 ||
                printf '(journal not readable: host not running?)\n' >&2
        printf -- '--- %s: failed units ---\n' "$name" >&2
        timeout -k 2 15 "$TH_TESTHOST" exec "$name" -- systemctl --failed --no-legend --no-pager >&2 || true
}

# Fails the test: prints MESSAGE, the diagnosis of every host of the test (or of
# the hosts named after MESSAGE), and exits 1 (the EXIT trap then cleans up).
th_fail() {
        local msg=$1 name
        shift
        printf '\nFAIL: %s  (after %d s)\n' "$msg" "$((SECONDS - TH_T0))" >&2
        if [ $# -gt 0 ]; then
                for name in "$@"; do th_diagnose "$name"; done
        else
                for name in "${TH_HOSTS[@]}"; do th_diagnose "$name"; done
        fi
        exit 1
}

# Runs CMD and fails the test with DESCRIPTION if it fails: th_assert DESCRIPTION CMD...
th_assert() {
        local what=$1
        shift
        "$@" || th_fail "$what (command: $*)"
        th_info "ok: $what"
}

# Fails unless ACTUAL equals EXPECTED: th_assert_eq DESCRIPTION EXPECTED ACTUAL.
th_assert_eq() {
        [ "$2" = "$3" ] || th_fail "$1: expected \"$2\", got \"$3\""
        th_info "ok: $1"
}

# Prints the path of the program's .deb for SUITE (default trixie), as
# tests/package/build-deb --cached --nocheck makes it in a build root of that
# release, lintian-clean: built once per content of the source tree and kept
# in the test cache (debs/SUITE-DIGEST), so that every test of a run (and the
# next run, if the source did not change) installs the same file. The unit
# tests are left out of this build: tests/run runs them.
th_deb() {
        local suite=${1:-trixie}
        th_timeout 1800 "$TH_DIR/../package/build-deb" --cached --nocheck --suite "$suite" | tail -n 1
        return "${PIPESTATUS[0]}"
}

# Installs the program into host NAME as a user gets it: the .deb of the
# host's release (th_deb) with apt install, which brings its dependencies.
#   th_install_program NAME [TEST_BINARY]
# TEST_BINARY (a test build of the program, e.g. with other phases) then
# takes the place of /usr/sbin/vps-provision, the packaged one diverted
# (dpkg-divert) beside it: the package's dependencies, data and directories
# stay. The package lists are removed again afterwards, as on a server just
# delivered: the program must fetch them itself.
th_install_program() {
        local name=$1 bin=${2:-} suite deb datadir missing
        suite=$(cat "$TH_CACHE/hosts/$name/suite") || th_fail "no host $name"
        deb=$(th_deb "$suite") || th_fail "cannot build the $suite package (tests/package/build-deb's output above)"
        [ -f "$deb" ] || th_fail "build-deb printed \"$deb\", which is no file"
        "$TH_TESTHOST" cp "$name" "$deb" /var/tmp/ || th_fail "cannot copy ${deb##*/} into $name"
        th_timeout 300 th_exec "$name" apt-get -q -o Dpkg::Use-Pty=0 update >/dev/null ||
                th_fail "apt-get update in $name failed"
        # Its own download directory: shared-net hosts share apt's archive
        # (and its lock) with every other such host.
        th_exec "$name" mkdir -p /var/tmp/th-archives/partial || th_fail "cannot make /var/tmp/th-archives in $name"
        if ! th_timeout 600 th_exec "$name" env DEBIAN_FRONTEND=noninteractive apt-get -q -y -o Dpkg::Use-Pty=0 \
                -o Dir::Cache::Archives=/var/tmp/th-archives/ install "/var/tmp/${deb##*/}" >"$TH_CACHE/hosts/$name/install.log" 2>&1; then
                tail -n 30 "$TH_CACHE/hosts/$name/install.log" >&2
                th_fail "apt install ./${deb##*/} in $name failed"
        fi
        # shellcheck disable=SC2016 # expanded by the host's shell
        th_exec "$name" sh -c 'rm -rf /var/tmp/th-archives "$1" && apt-get clean && rm -rf /var/lib/apt/lists/* &&
                mkdir -p /var/lib/apt/lists/partial' sh "/var/tmp/${deb##*/}" || th_fail "cannot clean up after the install in $name"
        if [ -n "$bin" ]; then
                [ -x "$bin" ] || th_fail "no test build to install: $bin is not an executable file"
                th_exec "$name" dpkg-divert --quiet --local --rename --divert /usr/sbin/vps-provision.packaged \
                        --add /usr/sbin/vps-provision || th_fail "dpkg-divert of /usr/sbin/vps-provision in $name failed"
                "$TH_TESTHOST" cp "$name" "$bin" /usr/sbin/vps-provision || th_fail "cannot copy $bin into $name"
                # The test build looks for its data where its build was
                # configured to (/usr/local/share/... by default).
                datadir=$(sed -n 's/^VPSP_DATADIR:[A-Z]*=//p' "$(dirname "$bin")/CMakeCache.txt" 2>/dev/null)
                if [ -n "$datadir" ] && [ "$datadir" != /usr/share/vps-provision ]; then
                        # shellcheck disable=SC2016 # expanded by the host's shell
                        th_exec "$name" sh -c 'mkdir -p "$(dirname "$1")" && ln -sfn /usr/share/vps-provision "$1"' sh "$datadir" ||
                                th_fail "cannot link $datadir to the package's data in $name"
                fi
                missing=$(th_exec "$name" ldd /usr/sbin/vps-provision | awk '$3 == "not" { print $1 }')
                [ -z "$missing" ] || th_fail "the test build needs libraries the package does not bring: $missing"
        fi
        th_exec "$name" vps-provision --version >/dev/null ||
                th_fail "the program does not start in $name (vps-provision --version failed)"
}
