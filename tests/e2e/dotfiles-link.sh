# shellcheck shell=bash disable=SC2016,SC2154,SC2088 # programs in single quotes run in the container; $tmp, $user come from test-provision
# dotfiles-link.sh — a home managed by GNU stow on a host the caller already
# provisioned. Sourced by test-provision (th_*, prog, prog_fail, $tmp, $user).
#
# dotfiles_link_checks HOST: the person moves ~/.bashrc into ~/dotfiles and
# links it back (what "stow dotfiles" leaves), and deletes the shell snippet;
# a run of the same answers then exits 0, writes the snippet again, leaves
# the link and the dotfile as they were, and says ~/.bashrc is left to the
# dotfiles; a second run skips the terminal phase (its check counts the
# linked ~/.bashrc as left to the person, not as undone).
dotfiles_link_checks() {
local H=$1 home sum rc=0 st
home=$(th_exec "$H" getent passwd "$user" | cut -d: -f6)
th_step "$H: ~/.bashrc linked into ~/dotfiles (GNU stow), snippet removed, run again"
th_exec "$H" runuser -u "$user" -- sh -c 'cd "$1" && mkdir -p dotfiles && mv .bashrc dotfiles/bashrc &&
        ln -s dotfiles/bashrc .bashrc && rm .bashrc.d/50-vps-provision.sh' sh "$home" ||
        th_fail "cannot set up the linked ~/.bashrc"
sum=$(th_exec "$H" sha256sum "$home/dotfiles/bashrc" | cut -d' ' -f1)
prog "$H" 900 "$tmp/dotfiles.out" --unattended /root/answers.ini || rc=$?
[ "$rc" = 0 ] || prog_fail "run with a linked ~/.bashrc: exit code $rc, want 0" "$tmp/dotfiles.out"
th_info "ok: exit 0 with a linked ~/.bashrc"
th_assert_eq "~/.bashrc is still the link" "dotfiles/bashrc" "$(th_exec "$H" readlink "$home/.bashrc")"
th_assert_eq "the dotfile behind it is unchanged" "$sum" "$(th_exec "$H" sha256sum "$home/dotfiles/bashrc" | cut -d' ' -f1)"
th_assert "the snippet is back, owned by $user" th_exec "$H" sh -c "[ \$(stat -c %U '$home/.bashrc.d/50-vps-provision.sh') = $user ]"
th_assert "the end screen says ~/.bashrc is left to the dotfiles" \
        grep -q 'Shell: ~/.bashrc left to your dotfiles' "$tmp/dotfiles.out"
th_assert "the log says which link and how to use the settings" th_exec "$H" sh -c \
        "grep -rqF '~/.bashrc is a symbolic link (to dotfiles/bashrc)' /var/log/vps-provision"
rc=0
prog "$H" 600 "$tmp/dotfiles2.out" --unattended /root/answers.ini || rc=$?
[ "$rc" = 0 ] || prog_fail "second run with a linked ~/.bashrc: exit code $rc, want 0" "$tmp/dotfiles2.out"
newest "$H" '/var/lib/vps-provision/sessions/session-*.json' >"$tmp/session-dotfiles.json"
st=$(python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
print([p["status"] for p in s["phases"] if p["phase_name"] == "terminal"][0])' "$tmp/session-dotfiles.json")
th_assert_eq "the next run's check counts the linked ~/.bashrc as done (terminal phase)" SKIPPED "$st"
}
