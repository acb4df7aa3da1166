"""Rules for installations, known-bad versions, Node, auto-update, ripgrep, shell snapshots, OS limits, CPU."""

from __future__ import annotations

from dataclasses import replace

from claude_preflight.outcome import Finding, Result, Status, combine, fail, ok, skip, warn
from claude_preflight.probes.install import (
    AutoUpdate,
    BadVersion,
    Cpu,
    Installation,
    Limits,
    NodeFacts,
    Ripgrep,
    Snapshot,
    Terminal,
    satisfies,
)
from claude_preflight.probes.macos import CodeSignKill, MacCpu, MacLimits

DOCS = "https://code.claude.com/docs/en/troubleshooting"
DOCS_SETUP = "https://code.claude.com/docs/en/setup"
REMOVE = {
    "npm-global": "npm uninstall -g @anthropic-ai/claude-code",
    "npm-local": "rm -rf {package}   # a project-local npm install",
    "native": "rm -f ~/.local/bin/claude && rm -rf ~/.local/share/claude",
    "homebrew": "brew uninstall --cask claude-code",
    "unknown": "rm {path}",
}


BREW_UPDATES = "\nA Homebrew install is updated by Homebrew, not by Claude Code:\n  brew upgrade --cask claude-code"
# On native Windows the commands are PowerShell's (the installer: #25593, #42337).
REMOVE_WINDOWS = {
    **REMOVE,
    "npm-local": "Remove-Item -Recurse {package}   # a project-local npm install",
    "native": 'Remove-Item "$env:USERPROFILE\\.local\\bin\\claude.exe"; '
    'Remove-Item -Recurse "$env:USERPROFILE\\.local\\share\\claude"',
    "unknown": "Remove-Item {path}",
}
INSTALL = {
    "win32": "Install it (the native installer needs no Node), in PowerShell:\n  irm https://claude.ai/install.ps1 | iex\n",
}


def problem_text(i: Installation) -> str:
    """Why an installation gave no version, in words."""
    code, figure = i.problem or ("", "")
    return {
        "not-executable": "not executable",
        "cannot-run": f"cannot run: {figure}",
        "killed": f"killed by signal {figure} on --version",
        "timed-out": f"did not answer --version within {figure} s",
        "no-version": f"--version printed no version (exit {figure})",
    }.get(code, "")


def _describe(i: Installation) -> str:
    where = f"{i.path}" + (f" -> {i.real}" if i.real != i.path else "")
    state = "runs" if i.runs else ("on PATH, shadowed" if i.on_path else "not on PATH")
    problem = f"; {problem_text(i)}" if i.problem else ""
    return f"{where}: {i.method}, version {i.version or '?'}, {state}{problem}"


def evaluate_installations(
    found: list[Installation], codesign: list[CodeSignKill] | None = None, platform: str = "linux"
) -> Result:
    if not found:
        install = INSTALL.get(
            platform,
            "Install it (the native installer needs no Node):\n  curl -fsSL https://claude.ai/install.sh | bash\n",
        )
        return fail(
            "no Claude Code installation found",
            "no `claude` on PATH, in ~/.local/bin, ~/.local/share/claude/versions, the npm prefix or Homebrew",
            remediation=install + "or with npm (Node 22 or newer):\n  npm install -g @anthropic-ai/claude-code",
            docs=DOCS_SETUP,
        )
    evidence = [_describe(i) for i in found]
    running = next((i for i in found if i.runs), None)
    distinct = list({i.real: i for i in found}.values())
    if running is None:
        broken = next((i for i in found if i.on_path), None)
        return fail(
            "no working `claude` on PATH" + (f": {broken.path} is {problem_text(broken)}" if broken else ""),
            *evidence,
            remediation="Make the installation executable or put its directory on PATH:\n"
            '  chmod +x <path>   # or: export PATH="$HOME/.local/bin:$PATH"',
            docs=DOCS_SETUP,
        )
    if running.sigkilled and codesign is not None:
        return _codesign_killed(running, codesign, evidence)
    if running.problem:
        return fail(
            f"{running.path} {problem_text(running)}",
            *evidence,
            remediation="The `claude` your shell starts does not answer; reinstall it:\n"
            "  claude install   # or: npm install -g @anthropic-ai/claude-code",
            docs=DOCS_SETUP,
        )
    if len(distinct) > 1:
        others = [i for i in distinct if i.real != running.real]
        steps = "\n".join(
            f"  {(REMOVE_WINDOWS if platform == 'win32' else REMOVE)[i.method].format(package=i.package_dir, path=i.path)}"
            f"   # {i.path}"
            for i in others
        )
        return warn(
            f"{len(distinct)} Claude Code installations; {running.path} ({running.method} {running.version}) is the one that runs",
            *evidence,
            remediation="Several installations update separately and disagree ('Multiple installations "
            f"found', 'Auto-update failed'); the one that runs may not be the one that updates. Keep {running.path} "
            f"and remove the others:\n{steps}" + (BREW_UPDATES if running.method == "homebrew" else ""),
            docs=DOCS_SETUP,
        )
    return ok(f"Claude Code {running.version} ({running.method}) at {running.path}", *evidence)


CODESIGN = """\
macOS killed `claude` at launch for its code signature (SIGKILL (Code Signature Invalid); the shell says `zsh: killed`,
exit 137). This is not a broken download: the kill follows the binary file while other sessions run from it, and a
fresh copy of the same file runs (anthropics/claude-code#95396, #50618, #28903). Reinstalling the same version does not
help. Either end the Claude Code sessions started from it, or run a copy:
  cp '{real}' '{real}.copy' && ln -sf '{real}.copy' ~/.local/bin/claude
or go back to the previous version until a fixed release ships:
  ls ~/.local/share/claude/versions/ && ln -sf ~/.local/share/claude/versions/<previous> ~/.local/bin/claude"""


def _codesign_killed(running: Installation, reports: list[CodeSignKill], evidence: list[str]) -> Result:
    evidence += [f"{r.path} ({r.when}): {r.process} killed with SIGKILL (Code Signature Invalid)" for r in reports[-5:]]
    if not reports:
        return fail(
            f"{running.path} was killed with SIGKILL on --version (exit 137)",
            *evidence,
            "no crash report names the cause: on macOS this is usually the code-signing kill below",
            remediation=CODESIGN.format(real=running.real),
            docs="https://github.com/anthropics/claude-code/issues/95396",
        )
    return fail(
        f"macOS kills {running.path} at launch: SIGKILL (Code Signature Invalid), {len(reports)} report(s)",
        *evidence,
        remediation=CODESIGN.format(real=running.real),
        docs="https://github.com/anthropics/claude-code/issues/95396",
    )


def evaluate_known_bad(running: Installation | None, bad: list[BadVersion], platform: str = "linux") -> Result:
    if running is None or not running.version:
        return skip("no running Claude Code version to compare")
    from packaging.specifiers import SpecifierSet  # only where there is a version to compare
    from packaging.version import InvalidVersion, Version

    try:
        version = Version(running.version)
    except InvalidVersion:
        return skip(f"version {running.version!r} cannot be compared")
    hits = [b for b in bad if version in SpecifierSet(b.versions)]
    if not hits:
        return ok(f"Claude Code {running.version} is not on the list of {len(bad)} known-bad releases")
    b = hits[0]
    return fail(
        f"Claude Code {running.version} is a known-bad release: {b.symptom}",
        f"{running.path}: {running.version} matches {b.versions}",
        f"reported in {b.issue}",
        remediation=f"Install another release and keep it from updating back until a fix ships:\n"
        f"  npm install -g @anthropic-ai/claude-code@{b.install}   # or: claude install {b.install}\n"
        + (
            '  [Environment]::SetEnvironmentVariable("DISABLE_AUTOUPDATER", "1", "User")   # PowerShell'
            if platform == "win32"
            else "  export DISABLE_AUTOUPDATER=1"
        ),
        docs=b.issue,
    )


def evaluate_node(n: NodeFacts, wsl: bool, platform: str = "linux") -> Result:
    if not n.needed_by:
        return skip("the native build does not use Node, and no MCP server is started with npx/node")
    evidence = [*n.needed_by, f"node: {n.node or 'not found'}" + (f" ({n.version})" if n.version else "")]
    if n.engines:
        evidence.append(f"engines.node {n.engines} ({n.engines_from})")
    install = "Install Linux Node.js 22 (for example with nvm: nvm install 22) and put it first on PATH."
    if platform == "darwin":
        install = (
            "Install Node.js 22 with Homebrew and put it first on PATH (in ~/.zshrc):\n  brew install node@22\n"
            '  export PATH="$(brew --prefix node@22)/bin:$PATH"'
        )
    if not n.node:
        return fail(
            "Node.js is needed here but `node` is not on PATH",
            *evidence,
            remediation=f"'exec: node: not found': {install}",
            docs=DOCS_SETUP,
        )
    if wsl and n.windows_side:
        return fail(
            f"node/npm resolve to the Windows installation ({n.node})",
            *evidence,
            f"npm: {n.npm}",
            remediation=f"Inside WSL the Windows node.exe/npm under /mnt/c break installs and MCP servers. {install}\n"
            "Check with: which node npm",
            docs=DOCS_SETUP,
        )
    if n.engines and n.version and not satisfies(n.version, n.engines):
        return fail(
            f"node {n.version} does not satisfy the installed package's engines ({n.engines})",
            *evidence,
            remediation=f"npm warns EBADENGINE and, without a pinned version, silently installs an older release "
            f"(on Node 20 `npm install @anthropic-ai/claude-code` gives 2.1.197). {install}",
            docs=DOCS_SETUP,
        )
    return ok(f"node {n.version} at {n.node}", *evidence)


def evaluate_auto_update(found: list[Installation], a: AutoUpdate) -> Result:
    npm = [i for i in found if i.method == "npm-global"]
    if not npm:
        return skip("no npm-global installation")
    evidence = [
        f"npm global prefix: {a.prefix}",
        f"{a.prefix}/lib/node_modules writable by you: {'yes' if a.prefix_writable else 'no'}",
        f"auto-update: {'disabled by ' + a.disabled_by if a.disabled_by else 'on'}",
    ]
    if a.prefix_writable or a.disabled_by:
        return ok(
            "auto-update " + ("is off (" + a.disabled_by + ")" if a.disabled_by else "can write the npm prefix"),
            *evidence,
        )
    return warn(
        "Claude Code cannot update itself: the npm global prefix is not writable by you",
        *evidence,
        remediation="Auto-update fails ('Auto-update failed') and the installation ages; `sudo npm` makes it worse. "
        "Move npm's prefix to your home, or switch to the native installer:\n"
        "  npm config set prefix ~/.npm-global && export PATH=~/.npm-global/bin:$PATH\n"
        "  npm install -g @anthropic-ai/claude-code\n  # or: claude install",
        docs=DOCS_SETUP,
    )


def evaluate_ripgrep(r: Ripgrep, platform: str = "linux") -> Result:
    if not r.installed:
        return skip("no Claude Code installation runs here (see install.claude)")
    evidence = [
        f"bundled ripgrep: {'yes' if r.bundled else 'no'}",
        f"USE_BUILTIN_RIPGREP={r.use_builtin}" if r.use_builtin else "USE_BUILTIN_RIPGREP unset",
        f"rg on PATH: {r.system or 'none'}" + (f" ({r.system_version})" if r.system_version else ""),
    ]
    findings = []
    if r.config_path:
        findings.append(
            Finding(
                Status.WARN,
                f"RIPGREP_CONFIG_PATH is set ({r.config_path})",
                "Claude Code's searches read that config too: options there (--max-count, globs, --hidden) "
                "make Grep and Glob miss files. Unset it for Claude Code:\n  unset RIPGREP_CONFIG_PATH",
            )
        )
    uses_system = r.use_builtin == "0" or not r.bundled
    if uses_system and (not r.system or r.system_error):
        findings.append(
            Finding(
                Status.FAIL,
                "no working ripgrep: "
                + (r.system_error or "`rg` is not on PATH")
                + (" and USE_BUILTIN_RIPGREP=0" if r.use_builtin == "0" else ""),
                "Search finds nothing without ripgrep. Install it:\n  "
                + (
                    "brew install ripgrep"
                    if platform == "darwin"
                    else "sudo apt-get install ripgrep   # or: brew install ripgrep"
                )
                + (
                    "\nor let Claude Code use its own: unset USE_BUILTIN_RIPGREP"
                    if r.use_builtin == "0" and r.bundled
                    else ""
                ),
            )
        )
    return combine(
        findings,
        evidence,
        "ripgrep works (" + ("bundled" if r.bundled and r.use_builtin != "0" else r.system or "?") + ")",
        DOCS,
    )


def evaluate_snapshots(snaps: list[Snapshot]) -> Result:
    if not snaps:
        return skip("no shell snapshots yet (written after the first Bash tool call)")
    broken = [s for s in snaps if s.error]
    unchecked = [s for s in snaps if s.checker is None]
    evidence = [f"{s.path}: {s.error}" for s in broken] + [
        f"{s.path}: not checked ({s.shell} is not installed)" for s in unchecked
    ]
    checked = len(snaps) - len(unchecked)
    if broken:
        return fail(
            f"{len(broken)} of {checked} shell snapshot(s) do not parse",
            *evidence,
            remediation="Claude Code sources the newest snapshot before every Bash tool call: every call fails "
            "until the rc file that produced it (~/.bashrc, ~/.zshrc, files they source) is fixed. Check it with:\n"
            f"  {broken[0].shell} -n ~/.{broken[0].shell}rc\nthen remove the broken snapshots:\n"
            + "\n".join(f"  rm '{s.path}'" for s in broken),
            docs=DOCS,
        )
    if not checked:
        return skip(f"{len(unchecked)} snapshot(s), none checkable here", *evidence)
    return ok(f"{checked} shell snapshot(s) parse", *evidence)


def evaluate_limits(lim: Limits, min_watches: int, min_instances: int, min_nofile: int) -> Result:
    evidence = [
        f"fs.inotify.max_user_watches = {lim.max_user_watches}",
        f"fs.inotify.max_user_instances = {lim.max_user_instances}",
        f"open files (ulimit -n): soft {lim.nofile_soft or 'unlimited'}, hard {lim.nofile_hard or 'unlimited'}",
    ]
    findings = []
    # tee -a: both settings go into one file, the second must not overwrite the first.
    sysctl = "sudo sysctl -w {k}={v}\n  echo '{k} = {v}' | sudo tee -a /etc/sysctl.d/60-claude.conf   # persistent"
    low = [
        (k, v, m)
        for k, v, m in (
            ("fs.inotify.max_user_watches", lim.max_user_watches, min_watches),
            ("fs.inotify.max_user_instances", lim.max_user_instances, min_instances),
        )
        if v is not None and v < m
    ]
    if lim.container and low:
        # The inotify sysctls are not namespaced: a container sees the host's values and cannot change them.
        evidence.append(
            "in a container: the inotify limits are the host kernel's and cannot be raised here; "
            "if watchers run out, raise them on the host:\n  "
            + "\n  ".join(f"sudo sysctl -w {k}={m}" for k, _, m in low)
        )
        lim = replace(lim, max_user_watches=None, max_user_instances=None)
    if lim.max_user_watches is not None and lim.max_user_watches < min_watches:
        findings.append(
            Finding(
                Status.WARN,
                f"fs.inotify.max_user_watches is {lim.max_user_watches} (under {min_watches})",
                "'System limit for number of file watchers reached' stops Claude Code watching files:\n  "
                + sysctl.format(k="fs.inotify.max_user_watches", v=min_watches),
            )
        )
    if lim.max_user_instances is not None and lim.max_user_instances < min_instances:
        findings.append(
            Finding(
                Status.WARN,
                f"fs.inotify.max_user_instances is {lim.max_user_instances} (under {min_instances})",
                "Each watcher needs an inotify instance; with several sessions and editors they run out:\n  "
                + sysctl.format(k="fs.inotify.max_user_instances", v=min_instances),
            )
        )
    if lim.nofile_soft is not None and lim.nofile_soft < min_nofile:
        findings.append(
            Finding(
                Status.WARN,
                f"open-file limit is {lim.nofile_soft} (under {min_nofile})",
                f"EMFILE ('too many open files') crashes long sessions:\n  ulimit -n {min_nofile}   # this shell\n"
                f"  echo '* soft nofile {min_nofile}' | sudo tee -a /etc/security/limits.conf   # persistent",
            )
        )
    return combine(findings, evidence, "file-watch and open-file limits are high enough", DOCS)


def evaluate_cpu(c: Cpu) -> Result:
    if c.machine not in ("x86_64", "AMD64", "i686") and c.flags is None:
        return skip(f"not x86 ({c.machine}): no AVX requirement")
    if c.flags is None:
        return skip("/proc/cpuinfo is not readable here")
    if c.machine not in ("x86_64", "AMD64", "i686"):
        return skip(f"not x86 ({c.machine})")
    model = f" ({c.model})" if c.model else ""
    if "avx" not in c.flags:
        return fail(
            f"this CPU{model} has no AVX: the native build stops with 'Illegal instruction'",
            "flags lack avx",
            remediation="Claude Code's native binary needs AVX. Use a machine or VM with AVX (in a VM: pass the "
            "host CPU through, e.g. `-cpu host` in QEMU)",
            docs=DOCS,
        )
    return ok(f"the CPU has AVX{model}", "avx in /proc/cpuinfo flags" + (", avx2 too" if "avx2" in c.flags else ""))


def evaluate_terminal(t: Terminal) -> Result:
    evidence = [f"stdin is a terminal: {'yes' if t.stdin_tty else 'no'}", f"TERM={t.term or '(unset)'}"]
    if not t.stdin_tty:
        evidence.append("interactive `claude` needs a terminal ('Raw mode is not supported'); use `claude -p` here")
    return ok(
        "terminal: "
        + ("interactive" if t.stdin_tty else "not a terminal (fine for claude -p)")
        + (", CI" if t.ci else ""),
        *evidence,
    )


# -- macOS: launchd's open-file limit and the CPU ------------------------------------------------------------------------
MAXFILES = """\
A terminal started from the Dock inherits launchd's soft limit, and a long session with MCP servers runs out of file
descriptors (EMFILE, 'too many open files'; Claude Code has refused to start with "Current limit: 256",
anthropics/claude-code#29573). For this shell and what it starts:
  ulimit -n {n}   # add it to ~/.zshrc to keep it
For every program, until the next restart:
  sudo launchctl limit maxfiles {n} 200000
(to keep it across restarts, a LaunchDaemon that runs `launchctl limit maxfiles {n} 200000` at load:
/Library/LaunchDaemons/limit.maxfiles.plist)"""


def evaluate_limits_mac(lim: MacLimits, min_nofile: int) -> Result:
    if not lim.read and lim.kern_maxfilesperproc is None:
        return skip("launchctl and sysctl did not answer here")

    def shown(v: int | None) -> str:
        return "unlimited" if v is None else str(v)

    evidence = [
        f"launchctl limit maxfiles: soft {shown(lim.launchd_soft)}, hard {shown(lim.launchd_hard)}"
        if lim.read
        else "launchctl limit maxfiles: no answer",
        f"kern.maxfiles = {shown(lim.kern_maxfiles)}, kern.maxfilesperproc = {shown(lim.kern_maxfilesperproc)}",
    ]
    if lim.own_soft is not None:
        evidence.append(f"this shell's open-file limit (ulimit -n): {lim.own_soft}")
    findings = []
    lowest = min((v for v in (lim.launchd_soft, lim.own_soft) if v is not None), default=None)
    if lowest is not None and lowest < min_nofile:
        findings.append(
            Finding(Status.WARN, f"open-file limit is {lowest} (under {min_nofile})", MAXFILES.format(n=min_nofile))
        )
    if lim.kern_maxfilesperproc is not None and lim.kern_maxfilesperproc < min_nofile:
        findings.append(
            Finding(
                Status.WARN,
                f"kern.maxfilesperproc is {lim.kern_maxfilesperproc} (under {min_nofile})",
                f"No process can open more files than this, whatever ulimit says:\n"
                f"  sudo sysctl -w kern.maxfilesperproc={min_nofile * 4} kern.maxfiles={min_nofile * 8}",
            )
        )
    return combine(findings, evidence, "open-file limits are high enough", DOCS)


def evaluate_cpu_mac(c: MacCpu) -> Result:
    evidence = [
        f"CPU: {c.brand or '?'}",
        f"hw.optional.arm64 = {int(c.apple_silicon) if c.apple_silicon is not None else '-'}",
        f"hw.optional.avx1_0 = {int(c.avx1) if c.avx1 is not None else '-'}, "
        f"hw.optional.avx2_0 = {int(c.avx2) if c.avx2 is not None else '-'}",
        f"sysctl.proc_translated = {int(c.translated) if c.translated is not None else '-'}",
    ]
    if c.claude_path:
        evidence.append(f"{c.claude_path}: Mach-O {c.claude_arch or 'unknown'}")
    native = (
        "Install the Apple Silicon build (the native installer picks it when run outside Rosetta):\n"
        "  arch -arm64 /bin/zsh -c 'curl -fsSL https://claude.ai/install.sh | bash'"
    )
    if c.apple_silicon and c.claude_arch == "x86_64":
        return warn(
            "Claude Code is the Intel (x86_64) build running under Rosetta on Apple Silicon",
            *evidence,
            remediation=f"Under Rosetta it runs slower and an x86_64 Node/Homebrew in /usr/local comes along. {native}",
            docs=DOCS,
        )
    if c.apple_silicon and c.translated:
        return warn(
            "this shell runs under Rosetta (sysctl.proc_translated = 1) on Apple Silicon",
            *evidence,
            remediation="Programs started from it (node, claude, Homebrew in /usr/local) are x86_64 builds under "
            f"Rosetta. Open the terminal without 'Open using Rosetta'. {native}",
            docs=DOCS,
        )
    if c.apple_silicon:
        return ok("Apple Silicon: no AVX requirement", *evidence)
    if c.avx1 is False:
        return fail(
            "this Intel Mac's CPU has no AVX: the native build stops with 'illegal hardware instruction'",
            *evidence,
            remediation="Claude Code's native binary needs AVX (as on Linux). Every release from "
            "2.1.113 ships it, through npm too; the last JavaScript build runs on Node 22 without AVX:\n"
            "  npm install -g @anthropic-ai/claude-code@2.1.112\n  export DISABLE_AUTOUPDATER=1",
            docs=DOCS,
        )
    if c.avx1:
        return ok("the CPU has AVX", *evidence)
    return skip("the CPU's features could not be read (sysctl did not answer)", *evidence)
