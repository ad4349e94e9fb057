"""A throwaway `pass` store for docker-credential-pass.

`make_pass_store(tmpdir)` creates a GPG key (Ed25519) without a passphrase in a private
GNUPGHOME, runs `pass init` on a store in TMPDIR, and returns the environment
(GNUPGHOME, PASSWORD_STORE_DIR) to give child processes.  Call
`remove_pass_store(env)` afterwards: it stops the gpg-agent that gpg started
for that GNUPGHOME and deletes the GNUPGHOME.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

_TIMEOUT = 60  # seconds for any gpg/pass command (key generation included)
_EMAIL = "test@regauth.invalid"
_UID = f"regauth test <{_EMAIL}>"


def _run(args: list[str], env: dict[str, str]) -> str:
    try:
        p = subprocess.run(
            args, env=env, stdin=subprocess.DEVNULL, capture_output=True,
            text=True, timeout=_TIMEOUT,
        )
    except subprocess.TimeoutExpired as e:
        raise RuntimeError(f"{args[0]} timed out after {_TIMEOUT}s: {e.stderr!r}") from e
    if p.returncode != 0:
        raise RuntimeError(
            f"{' '.join(args)} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}"
        )
    return p.stdout


def make_pass_store(tmpdir: str) -> dict[str, str]:
    """Create and `pass init` a store in TMPDIR; return {GNUPGHOME, PASSWORD_STORE_DIR}."""
    # gpg-agent puts its sockets in GNUPGHOME when /run/user/UID is missing,
    # and socket paths must stay under ~108 bytes: pytest's tmp dirs can be
    # longer, so GNUPGHOME gets a short directory of its own.
    gnupghome = tempfile.mkdtemp(prefix="regauth-gpg-", dir="/tmp")
    os.chmod(gnupghome, 0o700)
    store = os.path.join(tmpdir, "password-store")
    os.makedirs(store, exist_ok=True)
    env = {
        "GNUPGHOME": gnupghome,
        "PASSWORD_STORE_DIR": store,
    }
    child_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": tmpdir, **env}
    try:
        # Ed25519 with a Curve25519 encryption subkey: made in a tenth of the time an RSA-3072
        # key takes (gpg's "default"), which every test with a pass store paid.
        _run(["gpg", "--batch", "--passphrase", "", "--quick-gen-key", _UID,
              "future-default", "default", "never"], child_env)
        # The GNUPGHOME is fresh, so the e-mail address names exactly one key.
        _run(["pass", "init", _EMAIL], child_env)
    except BaseException:
        remove_pass_store(env)
        raise
    return env


def remove_pass_store(env: dict[str, str]) -> None:
    """Stop the gpg-agent of env's GNUPGHOME and delete that GNUPGHOME."""
    gnupghome = env.get("GNUPGHOME")
    if not gnupghome:
        return
    subprocess.run(
        ["gpgconf", "--kill", "gpg-agent"],
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GNUPGHOME": gnupghome},
        stdin=subprocess.DEVNULL, capture_output=True, timeout=_TIMEOUT,
    )
    shutil.rmtree(gnupghome, ignore_errors=True)
