/* terminal.h — the pure parts of the terminal phase (the shell snippet, the
 * marked block in ~/.bashrc, XFCE's helpers.rc), declared for the unit
 * tests; the phase itself is phase_terminal in phases.h. */
#pragma once

#define TERMINAL_BLOCK_BEGIN "# >>> vps-provision: read ~/.bashrc.d >>>"
#define TERMINAL_BLOCK_END "# <<< vps-provision <<<"

/* What the phase installs (without Recommends): NULL-terminated apt-get
 * install words. */
extern const char *const terminal_packages[];

/* The bash snippet written to ~/.bashrc.d/50-vps-provision.sh: prompt with
 * the git branch, history settings, aliases, EDITOR. Caller frees. */
char *terminal_snippet(void);
/* The marked block that makes ~/.bashrc read ~/.bashrc.d/ (*.sh). */
const char *terminal_block(void);
/* bashrc (NULL = no file) with the marked block in it: an existing block
 * (from BEGIN to END) is replaced where it is, otherwise the block is
 * appended. Caller frees. */
char *terminal_bashrc_with_block(const char *bashrc);
/* XFCE's ~/.config/xfce4/helpers.rc (NULL = none) with
 * TerminalEmulator=xfce4-terminal. Caller frees. */
char *terminal_helpers_rc(const char *old);
