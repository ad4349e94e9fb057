"""Shell completion: the scripts in completions/ loaded in real bash (with Debian's
bash-completion), zsh (compinit, on a pseudo-terminal) and fish, completing commands, flags and
the registries stored in a test config; and the hidden `regauth __complete` they all call."""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from helpers import auth_of, write_config

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COMPLETIONS = os.path.join(ROOT, "completions")
ZSH_CAPTURE = os.path.join(ROOT, "tests", "integration", "support", "zsh_complete.zsh")
SECRET = "completion-canary-secret"
REGISTRIES = ["registry.test:5000", "127.0.0.1:5001", "r.example"]

BASH_DRIVER = r"""
source /usr/share/bash-completion/bash_completion
source "$1"
COMP_LINE=$2
COMP_POINT=${#COMP_LINE}
read -r -a COMP_WORDS <<<"$COMP_LINE"
[[ $COMP_LINE == *' ' ]] && COMP_WORDS+=("")
COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
_regauth regauth "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\n' "${COMPREPLY[@]}"
"""


@pytest.fixture
def shell_env(regauth, tmp_path):
    """PATH with `regauth` (the binary under test), and DOCKER_CONFIG holding REGISTRIES."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    os.symlink(regauth, bin_dir / "regauth")
    config = tmp_path / "docker"
    config.mkdir()
    write_config(str(config), {"auths": {r: {"auth": auth_of("alice", SECRET)}
                                         for r in REGISTRIES}})
    env = {k: v for k, v in os.environ.items() if k.startswith(("ASAN_", "UBSAN_", "LSAN_"))}
    env.update(PATH=f"{bin_dir}:{os.environ.get('PATH', '/usr/bin:/bin')}",
               HOME=str(tmp_path), DOCKER_CONFIG=str(config), TERM="dumb")
    return env


def words(output: str) -> set:
    """The candidates of a completion output, descriptions (after a tab) dropped."""
    assert SECRET not in output
    return {line.split("\t")[0] for line in output.splitlines() if line}


def bash_complete(env, *lines: str) -> list:
    """The candidates bash offers for each line (bash-completion loaded, then the script)."""
    out = []
    for line in lines:
        result = subprocess.run(["bash", "--norc", "--noprofile", "-c", BASH_DRIVER, "driver",
                                 os.path.join(COMPLETIONS, "regauth.bash"), line],
                                env=env, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        out.append(words(result.stdout))
    return out


def zsh_complete(env, *lines: str) -> list:
    """The matches zsh's completion system offers for each line, in one interactive zsh."""
    result = subprocess.run(["zsh", "-f", ZSH_CAPTURE, COMPLETIONS, *lines], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"zsh capture exited {result.returncode}: {result.stderr}"
    sections = result.stdout.split("--\n")
    assert len(sections) == len(lines) + 1 and sections[-1] == "", result.stdout
    return [words(section) for section in sections[:-1]]


def fish_complete(env, *lines: str) -> list:
    """The candidates of fish's `complete -C` for each line, with the script sourced."""
    out = []
    for line in lines:
        script = (f"source {os.path.join(COMPLETIONS, 'regauth.fish')}; "
                  f"complete -C {quote_fish(line)}")
        result = subprocess.run(["fish", "--no-config", "-c", script], env=env,
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        out.append(words(result.stdout))
    return out


def quote_fish(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


SHELLS = {
    "bash": pytest.param(bash_complete, marks=pytest.mark.requires("bash")),
    "zsh": pytest.param(zsh_complete, marks=pytest.mark.requires("zsh")),
    "fish": pytest.param(fish_complete, marks=pytest.mark.requires("fish")),
}


@pytest.mark.parametrize("complete", SHELLS.values(), ids=SHELLS.keys())
def test_shell_completes_commands_and_stored_registries(complete, shell_env, tmp_path):
    if complete is bash_complete and not os.path.exists("/usr/share/bash-completion/bash_completion"):
        pytest.fail("bash-completion is not installed (scripts/install-deps)", pytrace=False)
    # --config on the command line wins over DOCKER_CONFIG.
    other = tmp_path / "other"
    other.mkdir()
    write_config(str(other), {"auths": {"other.test": {"auth": auth_of("bob", SECRET)}}})
    commands, registries, flags, configured = complete(
        shell_env, "regauth lo", "regauth logout ", "regauth push --for",
        f"regauth --config {other} logout ")
    assert commands == {"login", "logout"}
    assert registries == set(REGISTRIES)
    assert flags == {"--format"}
    assert configured == {"other.test"}


def test_bash_completes_a_registry_after_its_colon(shell_env):
    # bash breaks words at ':', so only the part after it is replaced.
    assert bash_complete(shell_env, "regauth logout registry.test:") == [{"5000"}]


def test_every_command_of_help_completes(run_regauth, shell_env):
    help_text = run_regauth(["--help"]).stdout
    listed = re.findall(r"^  ([a-z][a-z0-9-]*)\s", help_text.split("Subcommands:")[1],
                        re.MULTILINE)
    result = run_regauth(["__complete", ""], env=shell_env)
    assert result.returncode == 0 and result.stderr == ""
    assert words(result.stdout) == set(listed)
    push_help = run_regauth(["push", "--help"]).stdout
    flags = set(re.findall(r"^  (?:-\w,)?(--[a-z][a-z-]*)", push_help, re.MULTILINE))
    assert words(run_regauth(["__complete", "push", "--"], env=shell_env).stdout) == flags


def test_completion_of_option_values(run_regauth, shell_env):
    assert words(run_regauth(["__complete", "ls", "--format", ""]).stdout) == {"json", "text"}
    assert run_regauth(["__complete", "--config", ""]).stdout == ":dir\n"
    assert run_regauth(["__complete", "push", ""]).stdout == ":file\n"
    # Nothing to offer, and never an error, for an unknown command or an unreadable config.
    assert run_regauth(["__complete", "nosuch", ""]).stdout == ""
    broken = run_regauth(["__complete", "--config", "/nonexistent/dir", "logout", ""])
    assert broken.returncode == 0 and broken.stdout == "" and broken.stderr == ""
