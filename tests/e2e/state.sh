# shellcheck shell=bash disable=SC2016,SC2154,SC2034 # programs in single quotes run in the container; $tmp, $user come from the sourcing test
# state.sh — running the program in a test host and comparing what it left.
# Sourced by test-provision and test-fleet (after lib.sh and ports.sh),
# (allow_* are used by them), which provide th_*, proxy_env, $tmp (the test's private directory) and
# $user (the developer account).
#
#   prog HOST SECS OUTFILE ARGS...       the program in HOST, bounded; its exit status
#   prog_fail MESSAGE OUTFILE            the output's end, then th_fail
#   snapshot HOST DIR                    packages, users, groups, /etc (paths, sums)
#   compare WHAT DIR1 DIR2 ALLOW         two snapshots identical, but for ALLOW
#   rollback_compare WHAT BEFORE AFTER   the same, with a rollback's justified residue
#   check_health FILE                    a health JSON: every check passes
#   check_session FILE STATUS            a session JSON against the data model
#   newest HOST GLOB                     the newest such file of HOST, on stdout
#   allow_*                              the allow-lists of /etc paths (regexes)

# Runs the program in HOST with a time limit, output to FILE: prog HOST SECS FILE ARGS...
# Returns the program's exit status.
prog() {
        local h=$1 secs=$2 out=$3 rc=0 pw=()
        shift 3
        # Standard output is a file, not a terminal: a run or a resume says
        # where the generated password goes, file descriptor 3 (OUT.pw).
        case " $* " in *" --unattended "* | *" --resume "*) pw=(--password-fd 3) ;; esac
        # In the background and waited for: bash runs the INT/TERM trap (which
        # removes the hosts) at once during a wait, not after a long command.
        # shellcheck disable=SC2046 # two words on purpose
        timeout -k 10 "$secs" "$TH_TESTHOST" exec "$h" -- env $(proxy_env "$h") \
                vps-provision "$@" "${pw[@]}" >"$out" 2>&1 </dev/null 3>>"$out.pw" &
        wait "$!" || rc=$?
        [ "$rc" != 124 ] || printf 'vps-provision %s timed out after %s s\n' "$*" "$secs" >&2
        return "$rc"
}

# Shows the end of a run's output and fails: prog_fail MESSAGE OUTFILE
prog_fail() {
        printf -- '--- last 60 lines of the program output (%s) ---\n' "$2" >&2
        tail -n 60 "$2" >&2
        th_fail "$1"
}

# Writes the comparable state of HOST into directory DIR: packages, users,
# groups, and /etc (every path with type, mode and owner; sums of files).
snapshot() {
        local h=$1 dir=$2
        mkdir -p "$dir"
        th_exec "$h" dpkg-query -W -f '${binary:Package} ${Version} ${db:Status-Abbrev}\n' | sed 's/ *$//' | sort >"$dir/packages"
        th_exec "$h" cut -d: -f1,3,4,6,7 /etc/passwd | sort >"$dir/users"
        th_exec "$h" cut -d: -f1,3,4 /etc/group | sort >"$dir/groups"
        # The hash-named link to ssl-cert's snake-oil certificate is named
        # after that per-machine certificate: kept, under a fixed name.
        th_exec "$h" find /etc -xdev -printf '%p %y %m %u:%g %l\n' |
                sed -E 's|^/etc/ssl/certs/[0-9a-f]{8}\.[0-9]+( l .* ssl-cert-snakeoil\.pem)$|/etc/ssl/certs/HASH.0\1|' |
                sort >"$dir/etc-paths"
        th_exec "$h" sh -c 'find /etc -xdev -type f -print0 | xargs -0 sha256sum' |
                awk '{ print $2, $1 }' | sort >"$dir/etc-sums"
}

# Compares two snapshots; lines whose path matches the extended regex ALLOW
# are left out of the /etc comparison. compare WHAT DIR1 DIR2 ALLOW
compare() {
        local what=$1 x=$2 y=$3 allow=$4 f bad=0
        for f in packages users groups etc-paths etc-sums; do
                if ! diff -u <(grep -Ev "^($allow) " "$x/$f") <(grep -Ev "^($allow) " "$y/$f") >"$tmp/diff.$f"; then
                        printf -- '--- %s: %s differs (- before, + after; first 40 lines) ---\n' "$what" "$f" >&2
                        sed -n '3,42p' "$tmp/diff.$f" >&2
                        bad=1
                fi
        done
        [ "$bad" = 0 ] || th_fail "$what: the states differ (above)"
        th_info "ok: $what: packages ($(wc -l <"$y/packages")), users, groups and /etc ($(wc -l <"$y/etc-paths") paths) identical"
}

# A rollback compared with the state before the run (rollback_compare WHAT
# BEFORE AFTER) allows, beyond the /etc allow-lists, two justified kinds of
# residue, each listed when found:
#  - system accounts (uid or gid below 1000) that packages' maintainer
#    scripts created (colord, polkitd, render, ...): Debian never removes
#    them on purge, as files owned by their ids may remain; the accounts
#    files then differ by those lines only (checked line by line here);
#  - a newer version of a package that was installed before the run, pulled
#    in by the run's dependencies (libzstd1 from trixie-security): rollback
#    does not downgrade (the older version may be gone from the archive).
# Packages added or removed, any other account, any other /etc file: none.
rollback_compare() {
        local what=$1 x=$2 y=$3 f
        mkdir -p "$y.norm"
        cp "$y"/* "$y.norm/"
        for f in users groups; do
                awk -F: 'NR == FNR { seen[$1] = 1; next } ($1 in seen) || $2 >= 1000' "$x/$f" "$y/$f" >"$y.norm/$f"
                comm -13 "$y.norm/$f" "$y/$f" | sed "s/^/               allowed: system account from a package ($f): /" >&2
        done
        awk 'NR == FNR { v[$1] = $2; next } ($1 in v) && v[$1] != $2 { $2 = v[$1] } { print }' \
                "$x/packages" "$y/packages" >"$y.norm/packages"
        diff "$y/packages" "$y.norm/packages" | sed -n 's/^< /               allowed: newer version kept: /p' >&2 || true
        compare "$what" "$x" "$y.norm" "$allow_backups|$allow_ldcache|$allow_accounts"
}

# Allow-lists of /etc paths (extended regexes, matched against whole paths).
# Backups that shadow's tools write beside passwd, group, shadow, gshadow on
# every change: the files themselves are compared.
allow_backups='/etc/(passwd|group|shadow|gshadow)-'
# The accounts files, when rollback_compare checked them by their lines.
allow_accounts='/etc/(passwd|group|shadow|gshadow)|/etc/sub[ug]id-'
# ldconfig's cache: rebuilt on every library install or removal, its bytes
# depend on the order of the rebuild; the package list covers its content.
allow_ldcache='/etc/ld\.so\.cache'
# Written at a boot that finds /usr newer than itself (systemd-update-done):
# D boots once more than A (after its power cut), in the middle of the run.
allow_boot='/etc/\.updated'
# Generated per machine, so different between two containers even when both
# runs did the same: host name, machine id (nspawn gives each its own), the
# password hash, ssh host keys (made at "up"), the keys and certificates
# xrdp and ssl-cert generate, and on a cloud-like host the sudoers file
# cloud-init writes at first boot (its header names the date).
allow_per_host='/etc/sudoers\.d/90-cloud-init-users|/etc/hostname|/etc/hosts|/etc/machine-id|/etc/shadow|/etc/ssh/ssh_host_.*|/etc/xrdp/(rsakeys\.ini|cert\.pem|key\.pem)|/etc/ssl/private/ssl-cert-snakeoil\.key|/etc/ssl/certs/ssl-cert-snakeoil\.pem'


# Checks a health JSON file (check.c's format): overall pass, every check pass.
check_health() {
        python3 - "$1" <<'EOF'
import json, sys
h = json.load(open(sys.argv[1]))
bad = [c for c in h["checks"] if c["status"] != "pass"]
for c in bad:
    print("  %s/%s: %s: %s" % (c.get("category"), c.get("name"), c["status"], c.get("message")), file=sys.stderr)
cats = {c.get("category") for c in h["checks"]}
missing = {"system", "services", "applications", "network", "security"} - cats
if missing:
    print("  categories missing: %s" % ", ".join(sorted(missing)), file=sys.stderr)
sys.exit(0 if h["overall_status"] == "pass" and not bad and not missing else 1)
EOF
}

# Checks a session JSON file against the data model (ProvisioningSession,
# PhaseExecution, ProvisioningAction, developer_user), status EXPECTED.
check_session() {
        python3 - "$1" "$2" "$user" <<'EOF'
import json, re, sys
path, expected, user = sys.argv[1], sys.argv[2], sys.argv[3]
s = json.load(open(path))
errors = []
def err(m): errors.append(m)
iso = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)$")
if not re.fullmatch(r"\d{8}-\d{6}", str(s.get("session_id"))): err("session_id %r is not YYYYMMDD-HHMMSS" % s.get("session_id"))
for k in ("start_time", "end_time"):
    if not iso.match(str(s.get(k))): err("%s %r is not ISO 8601" % (k, s.get(k)))
if s.get("status") != expected: err("status %r, expected %s" % (s.get("status"), expected))
if not isinstance(s.get("duration_seconds"), int) or s["duration_seconds"] < 0: err("duration_seconds %r" % s.get("duration_seconds"))
if "error_details" not in s or (expected == "COMPLETED" and s["error_details"] is not None): err("error_details %r" % s.get("error_details"))
if not isinstance(s.get("vps_info"), dict): err("vps_info is not an object")
phases = s.get("phases")
if not isinstance(phases, list) or not phases: err("phases is not a non-empty list"); phases = []
atypes = {"PACKAGE_INSTALL", "PACKAGE_REMOVE", "FILE_MODIFY", "FILE_CREATE", "SERVICE_ENABLE",
          "SERVICE_START", "USER_CREATE", "USER_MODIFY", "COMMAND_EXEC"}
for p in phases:
    n = p.get("phase_name")
    if not isinstance(n, str) or not n: err("a phase without phase_name")
    # The data model's statuses only; a phase the answers turned off (the IDE
    # phases with [ides] install = none) is SKIPPED with skip_reason "disabled".
    st = p.get("status")
    # ROLLED_BACK: the phases of a session the data model marks ROLLED_BACK
    ok = {"PENDING", "RUNNING", "COMPLETED", "SKIPPED", "FAILED"} | ({"ROLLED_BACK"} if expected == "ROLLED_BACK" else set())
    if st not in ok: err("%s: status %r" % (n, st))
    if str(n).startswith("ide-") and (st != "SKIPPED" or p.get("skip_reason") != "disabled"): err("%s: status %r (%r), want SKIPPED (disabled)" % (n, st, p.get("skip_reason")))
    if expected == "COMPLETED" and st not in {"COMPLETED", "SKIPPED"}: err("%s: status %r in a completed session" % (n, st))
    for k in ("start_time", "end_time"):
        if p.get(k) is not None and not iso.match(str(p[k])): err("%s: %s %r" % (n, k, p[k]))
    if not isinstance(p.get("duration_seconds"), int): err("%s: duration_seconds %r" % (n, p.get("duration_seconds")))
    if not isinstance(p.get("checkpoint_exists"), bool): err("%s: checkpoint_exists %r" % (n, p.get("checkpoint_exists")))
    if not isinstance(p.get("actions"), list): err("%s: actions is not a list" % n); continue
    for a in p["actions"]:
        if a.get("action_type") not in atypes: err("%s: action_type %r" % (n, a.get("action_type")))
        if not isinstance(a.get("target"), str): err("%s: action target %r" % (n, a.get("target")))
        if a.get("status") not in {"PENDING", "COMPLETED", "FAILED"}: err("%s: action status %r" % (n, a.get("status")))
        if a.get("timestamp") is not None and not iso.match(str(a["timestamp"])): err("%s: action timestamp %r" % (n, a.get("timestamp")))
u = s.get("developer_user")
if expected == "COMPLETED":
    if not isinstance(u, dict): err("developer_user is not an object")
    elif u.get("username") != user: err("developer_user.username %r" % u.get("username"))
def walk(o, where):
    if isinstance(o, dict):
        for k, v in o.items():
            # Settings about the password (its length, its expiry) are fine;
            # the password or its hash is not.
            # The yes/no choices layout_safe_password and sudo_password are
            # settings too, as long as they hold a yes/no and nothing else.
            if k in ("layout_safe_password", "sudo_password"):
                if v not in ("yes", "no"): err("%s.%s is %r, not yes or no" % (where, k, v))
            elif "password" in k.lower() and k not in ("password_length", "password_expires"):
                err("a password field: %s.%s" % (where, k))
            walk(v, where + "." + k)
    elif isinstance(o, list):
        for i, v in enumerate(o): walk(v, "%s[%d]" % (where, i))
walk(s, "session")
if not isinstance(s.get("ide_installations"), list): err("ide_installations is not a list")
for e in errors: print("  " + e, file=sys.stderr)
sys.exit(1 if errors else 0)
EOF
}

# Prints the output of the newest file matching GLOB inside HOST.
newest() { th_exec "$1" sh -c 'f=$(ls -t $1 2>/dev/null | head -n 1); [ -n "$f" ] && cat "$f"' sh "$2"; }
