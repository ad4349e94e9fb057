"""Secrets stay secret: a canary password and token go through every command and failure path
with --debug on, and appear nowhere but the chosen store; echo survives SIGINT at the prompt."""

from __future__ import annotations

import base64
import os
import pty
import select
import signal
import subprocess
import termios
import time

from helpers import auth_of, write_config
from support import ALICE

CANARY_PASSWORD = "Canary-Passw0rd-b81c2e"
CANARY_TOKEN = "canary-identity-token-5d7a01"


def forms(secret: str) -> list[str]:
    return [secret, base64.b64encode(secret.encode()).decode(),
            base64.b64encode(f"alice:{secret}".encode()).decode(),
            base64.b64encode(f"bob:{secret}".encode()).decode()]


def assert_absent(text: str, where: str) -> None:
    for secret in (CANARY_PASSWORD, CANARY_TOKEN):
        for form in forms(secret):
            assert form not in text, f"{form!r} leaked into {where}"


def test_canary_never_leaks(run_regauth, htpasswd_registry, token_registry, config_dir,
                            tmp_path):
    spy_dir = tmp_path / "bin"
    spy_dir.mkdir()
    spy_log = tmp_path / "spy.log"
    # a helper that records its argv and environment, and stores nothing
    (spy_dir / "docker-credential-spy").write_text(
        f'#!/bin/sh\necho "argv: $*" >> {spy_log}\nenv >> {spy_log}\ncat >/dev/null\n'
        'echo "credentials not found in native keychain"\nexit 1\n')
    os.chmod(spy_dir / "docker-credential-spy", 0o755)
    env = {"PATH": f"{spy_dir}:{os.environ['PATH']}", "REGAUTH_UNUSED": "1"}
    outputs = []

    def run(args, stdin=None):
        result = run_regauth(["--config", config_dir, "--debug", *args], input=stdin, env=env,
                             timeout=60)
        outputs.append((args, result))
        return result

    basic, token = htpasswd_registry.hostport, token_registry.hostport
    # wrong password, right password, re-validation, failures of every kind
    run(["login", "-u", "alice", "--password-stdin", basic], CANARY_PASSWORD + "\n")
    run(["login", "-u", "alice", "--password-stdin", token], CANARY_PASSWORD + "\n")
    run(["login", "-u", "alice", "-p", CANARY_PASSWORD, basic])
    write_config(config_dir, {"auths": {
        basic: {"auth": auth_of("alice", CANARY_PASSWORD)},
        token: {"auth": auth_of("alice", ""), "identitytoken": CANARY_TOKEN},
    }, "credHelpers": {"spy.example": "spy"}})
    run(["login", basic])
    run(["login", token])
    run(["ls"])
    run(["ls", "--format", "json"])
    run(["push", "--check", "x", f"{basic}/a/b:1"])
    run(["push", "--check", "x", f"{token}/a/b:1"])
    run(["push", "/nonexistent", f"{token}/a/b:1"])
    # spy.example resolves to loopback, where nothing listens: no DNS query leaves the machine
    run(["--resolve", "spy.example:443:127.0.0.1", "login", "-u", "alice", "--password-stdin",
         "spy.example"], CANARY_PASSWORD + "\n")
    run(["logout", "spy.example"])
    run(["logout", basic])
    run(["logout", "--all"])
    assert len(outputs) == 14
    for args, result in outputs:
        assert_absent(result.stdout, f"stdout of {args}")
        assert_absent(result.stderr, f"stderr of {args}")
    assert spy_log.exists(), "the spy helper never ran"
    assert_absent(spy_log.read_text(), "a helper's argv or environment")
    # no file anywhere in the test's tree holds it, but the config (the chosen store)
    for root, _, files in os.walk(tmp_path):
        for name in files:
            path = os.path.join(root, name)
            if path == os.path.join(config_dir, "config.json") or "registry-" in path:
                continue
            try:
                data = open(path, "rb").read().decode(errors="replace")
            except OSError:
                continue
            assert_absent(data, path)


def test_sigint_at_the_password_prompt_leaves_echo_on(regauth, tmp_path):
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["HOME"] = str(tmp_path)
        os.execv(regauth, [regauth, "--config", str(tmp_path), "login", "-u", "alice",
                           "127.0.0.1:1"])
    try:
        output = b""
        deadline = time.monotonic() + 10
        while b"Password:" not in output and time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.2)
            if ready:
                output += os.read(fd, 1024)
        assert b"Password:" in output
        assert not termios.tcgetattr(fd)[3] & termios.ECHO  # echo off at the prompt
        os.kill(pid, signal.SIGINT)
        _, status = os.waitpid(pid, 0)
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGINT
        assert termios.tcgetattr(fd)[3] & termios.ECHO  # echo back on
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.close(fd)
