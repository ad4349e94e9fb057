"""The live progress lines of `push` on a real terminal (tmux) of 40 and 80 columns: every line
fits the width, and once the push is over each blob has exactly one line on the screen, none
left behind by a redraw."""

from __future__ import annotations

import os
import re
import subprocess
import time

import pytest

from helpers import auth_of, write_config
from support import ALICE
from support.images import make_oci_layout

# A repository name long enough that "ID: Mounted from REPOSITORY" is wider than 80 columns.
LONG_REPOSITORY = "a-repository-with-a-name-long-enough-to-need-more-than-one-row/of-a-terminal"


def screen_after(regauth_argv: list, columns: int, tmp_path, env: dict) -> tuple[int, list]:
    """Runs REGAUTH_ARGV in a detached tmux session of COLUMNS x 60 and returns its exit code
    and the final screen with its scrollback, wrapped rows joined (tmux capture-pane -J)."""
    socket = str(tmp_path / f"tmux-{columns}.sock")
    exit_file = tmp_path / f"exit-{columns}"
    command = " ".join(map(quote, regauth_argv)) + f"; echo $? > {quote(str(exit_file))}; sleep 60"
    tmux = ["tmux", "-S", socket, "-f", "/dev/null"]
    try:
        subprocess.run([*tmux, "new-session", "-d", "-x", str(columns), "-y", "60", "sh", "-c",
                        command], env=env, check=True, timeout=30)
        deadline = time.monotonic() + 120
        while not exit_file.exists() or not exit_file.read_text().strip():
            assert time.monotonic() < deadline, "the push in tmux did not finish within 120 s"
            time.sleep(0.1)
        screen = subprocess.run([*tmux, "capture-pane", "-p", "-J", "-S", "-", "-E", "-"],
                                capture_output=True, text=True, check=True, timeout=30).stdout
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True, timeout=30)
    return int(exit_file.read_text()), [line.rstrip() for line in screen.splitlines()]


def quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


@pytest.mark.requires("tmux")
@pytest.mark.parametrize("columns", [40, 80])
def test_live_lines_fit_the_terminal_and_none_is_left_behind(
        regauth, run_regauth, htpasswd_registry, config_dir, tmp_path, columns):
    host = htpasswd_registry.hostport
    write_config(config_dir, {"auths": {host: {"auth": auth_of(*ALICE)}}})
    made = make_oci_layout(str(tmp_path / "oci"), layer_sizes=[1_500_000, 700, 300], tag="1")
    first = run_regauth(["--config", config_dir, "push", f"oci:{tmp_path / 'oci'}:1",
                         f"{host}/{LONG_REPOSITORY}:1"], timeout=120)
    assert first.returncode == 0, first.stderr
    env = {k: v for k, v in os.environ.items() if k.startswith(("ASAN_", "UBSAN_", "LSAN_"))}
    env.update(PATH=os.environ.get("PATH", "/usr/bin:/bin"), HOME=str(tmp_path),
               TERM="xterm-256color")
    # Every blob mounted: one "ID: Mounted from LONG_REPOSITORY" line each, redrawn as each
    # mount finishes.
    code, screen = screen_after(
        [regauth, "--config", config_dir, "push", "--mount-from", LONG_REPOSITORY,
         f"oci:{tmp_path / 'oci'}:1", f"{host}/tty/app:1"], columns, tmp_path, env)
    text = "\n".join(screen)
    assert code == 0, text
    digests = [layer["digest"] for layer in made["layers"]] + [made["config"]["digest"]]
    for digest in digests:
        short = digest.split(":")[1][:12]
        rows = [line for line in screen if line.startswith(short + ":")]
        assert len(rows) == 1, f"{short} has {len(rows)} rows on a {columns}-column screen:\n{text}"
        assert rows[0].startswith(f"{short}: Mounted from a-repo"), text
    final = [line for line in screen if re.match(r"^1: digest: sha256:[0-9a-f]{64} size: \d+$",
                                                 line)]
    assert len(final) == 1, text
    for line in screen:
        if line and line not in final:
            assert len(line) < columns, f"a {len(line)}-column line on {columns} columns:\n{text}"
