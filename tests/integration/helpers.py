"""Small helpers shared by the integration tests."""

from __future__ import annotations

import base64
import json
import os
import stat


def read_config(config_dir: str) -> dict:
    with open(os.path.join(config_dir, "config.json"), encoding="utf-8") as f:
        return json.load(f)


def write_config(config_dir: str, content: dict | str, mode: int = 0o600) -> str:
    path = os.path.join(config_dir, "config.json")
    text = content if isinstance(content, str) else json.dumps(content, indent="\t")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(path, mode)
    return path


def auth_of(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


def mode_of(path: str) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def login(run_regauth, config_dir: str, server: str, user: str, password: str, *extra, env=None):
    return run_regauth(
        ["--config", config_dir, *extra, "login", "-u", user, "--password-stdin", server],
        input=password + "\n",
        env=env,
    )


def make_helper(directory, name: str, script: str) -> str:
    """An executable `docker-credential-NAME` shell script in `directory`."""
    path = os.path.join(directory, f"docker-credential-{name}")
    with open(path, "w") as f:
        f.write("#!/bin/sh\n" + script)
    os.chmod(path, 0o755)
    return path


def with_stub_path(stub_bin: str) -> dict:
    """The env entry that puts `stub_bin` (see the fixture) first on PATH."""
    return {"PATH": f"{stub_bin}:{os.environ['PATH']}"}
