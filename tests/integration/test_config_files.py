"""config.json on disk: atomic, locked, symlink-following, permission-keeping writes."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import threading
import time

import pytest

from helpers import auth_of, login, mode_of, read_config, write_config
from support import ALICE


def test_new_file_is_private_even_with_umask_000(run_regauth, htpasswd_registry, tmp_path):
    config_dir = str(tmp_path / "fresh" / "docker")
    old = os.umask(0)
    try:
        result = login(run_regauth, config_dir, htpasswd_registry.hostport, *ALICE)
    finally:
        os.umask(old)
    assert result.returncode == 0, result.stderr
    assert mode_of(config_dir) == 0o700
    assert mode_of(os.path.join(config_dir, "config.json")) == 0o600


def test_unknown_fields_keep_value_and_place(run_regauth, htpasswd_registry, config_dir):
    original = (
        '{\n\t"auths": {\n\t\t"a.example": {\n\t\t\t"auth": "%s",\n\t\t\t"email": "a@x",'
        '\n\t\t\t"x-custom": {\n\t\t\t\t"nested": [\n\t\t\t\t\t1,\n\t\t\t\t\t2.5\n\t\t\t\t]\n'
        '\t\t\t}\n\t\t}\n\t},\n\t"psFormat": "table",\n\t"plugins": {\n\t\t"x": {\n\t\t\t"y": '
        '"z"\n\t\t}\n\t},\n\t"aliases": {\n\t\t"builder": "buildx"\n\t}\n}'
    ) % auth_of("ann", "pw")
    path = write_config(config_dir, original)
    assert login(run_regauth, config_dir, htpasswd_registry.hostport, *ALICE).returncode == 0
    changed = open(path).read()
    assert json.loads(changed)["plugins"] == {"x": {"y": "z"}}
    assert list(json.loads(changed)) == ["auths", "psFormat", "plugins", "aliases"]
    assert run_regauth(["--config", config_dir, "logout",
                        htpasswd_registry.hostport]).returncode == 0
    assert open(path).read() == original


def test_nothing_changed_means_nothing_written(run_regauth, htpasswd_registry, config_dir):
    assert login(run_regauth, config_dir, htpasswd_registry.hostport, *ALICE).returncode == 0
    path = os.path.join(config_dir, "config.json")
    before = os.stat(path)
    time.sleep(0.02)
    assert login(run_regauth, config_dir, htpasswd_registry.hostport, *ALICE).returncode == 0
    after = os.stat(path)
    assert (before.st_ino, before.st_mtime_ns) == (after.st_ino, after.st_mtime_ns)


@pytest.mark.parametrize("kind", ["absolute", "relative", "dangling"])
def test_symlinked_config_is_followed_and_stays_a_link(run_regauth, htpasswd_registry,
                                                       config_dir, tmp_path, kind):
    real_dir = tmp_path / "real"
    real_dir.mkdir()
    target = real_dir / "config.json"
    if kind != "dangling":
        target.write_text('{"auths": {}, "keep": true}')
    link = os.path.join(config_dir, "config.json")
    os.symlink(str(target) if kind != "relative" else os.path.relpath(target, config_dir), link)
    result = login(run_regauth, config_dir, htpasswd_registry.hostport, *ALICE)
    assert result.returncode == 0, result.stderr
    assert os.path.islink(link)
    content = json.loads(target.read_text())
    assert htpasswd_registry.hostport in content["auths"]
    if kind != "dangling":
        assert content["keep"] is True


def test_read_only_directory_fails_and_keeps_file(regauth, htpasswd_registry, tmp_path):
    """A directory the user cannot write: an io error, the old file byte for byte, no temp."""
    config_dir = tmp_path / "ro"
    config_dir.mkdir()
    path = write_config(str(config_dir), {"auths": {}, "keep": 1}, mode=0o644)
    before = open(path, "rb").read()
    os.chmod(config_dir, 0o555)
    argv = [regauth, "--config", str(config_dir), "login", "-u", "alice", "--password-stdin",
            htpasswd_registry.hostport]
    if os.geteuid() == 0:
        # root writes anywhere: run as nobody, for whom the directory is read-only
        os.chmod(tmp_path, 0o755)
        argv = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *argv]
    env = {"PATH": os.environ["PATH"], "HOME": "/nonexistent", "PASSWORD_STORE_DIR": "/nonexistent"}
    try:
        result = subprocess.run(argv, input="alicepw\n", capture_output=True, text=True,
                                env=env, timeout=30)
    finally:
        os.chmod(config_dir, 0o700)
    assert result.returncode == 10, result.stderr
    assert str(config_dir) in result.stderr
    assert open(path, "rb").read() == before
    assert sorted(os.listdir(config_dir)) == ["config.json"]


def test_wide_permissions_with_secrets_are_tightened(run_regauth, htpasswd_registry, config_dir):
    path = write_config(config_dir, {"auths": {}}, mode=0o644)
    result = login(run_regauth, config_dir, htpasswd_registry.hostport, *ALICE)
    assert result.returncode == 0, result.stderr
    assert mode_of(path) == 0o600
    assert "mode is now 0600" in result.stderr


def test_wide_permissions_without_secrets_are_kept(run_regauth, config_dir):
    path = write_config(config_dir, {"auths": {"a.example": {"auth": auth_of("a", "b")}},
                                     "x": 1}, mode=0o600)
    os.chmod(path, 0o644)
    # logout leaves no inline secret: the mode stays as the user chose it
    assert run_regauth(["--config", config_dir, "logout", "a.example"]).returncode == 0
    assert mode_of(path) == 0o644


def test_parallel_logins_keep_every_entry(regauth, htpasswd_registry, config_dir, tmp_path):
    """32 processes store credentials for 32 registry names at once; all 32 entries remain and
    the file is valid JSON at every moment a reader looks."""
    path = os.path.join(config_dir, "config.json")
    port = htpasswd_registry.port
    names = [f"r{i}.test:{port}" for i in range(32)]
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path),
           "PASSWORD_STORE_DIR": str(tmp_path / "none")}
    bad_reads = []
    stop = threading.Event()

    def reader():
        while not stop.is_set():
            try:
                with open(path, "rb") as f:
                    data = f.read()
                json.loads(data)
            except FileNotFoundError:
                pass
            except ValueError as e:
                bad_reads.append(str(e))
            time.sleep(0.001)

    # Every process reads its password from a file, so that all 32 log in at once (written
    # through pipes one communicate() after the other, each waited for the one before).
    password = tmp_path / "password"
    password.write_text("alicepw\n")
    watcher = threading.Thread(target=reader)
    watcher.start()
    procs = []
    try:
        for name in names:
            with open(password) as stdin:
                procs.append(subprocess.Popen(
                    [regauth, "--config", config_dir, "--resolve", f"{name}:127.0.0.1",
                     "--insecure-registry", name, "login", "-u", "alice", "--password-stdin",
                     name],
                    stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                    text=True))
        outputs = [p.communicate(timeout=120) for p in procs]
    finally:
        stop.set()
        watcher.join(timeout=10)
    for proc, (out, err) in zip(procs, outputs):
        assert proc.returncode == 0, err
        assert out == "Login Succeeded\n"
    assert bad_reads == []
    assert sorted(read_config(config_dir)["auths"]) == sorted(names)


def test_writer_killed_mid_save_leaves_old_or_new_file(regauth, htpasswd_registry, config_dir,
                                                       tmp_path):
    """SIGKILL at random moments of a save: config.json is always the old or the new file."""
    big = {"auths": {}, "padding": ["x" * 1000] * 20000}  # ~20 MB: a save takes a while
    path = write_config(config_dir, big)
    old = open(path, "rb").read()
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path),
           "PASSWORD_STORE_DIR": str(tmp_path / "none")}
    rng = random.Random(7)
    for attempt in range(12):
        proc = subprocess.Popen(
            [regauth, "--config", config_dir, "login", "-u", "alice", "--password-stdin",
             htpasswd_registry.hostport],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        proc.stdin.write(b"alicepw\n")
        proc.stdin.close()
        time.sleep(rng.uniform(0.05, 0.6))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        data = open(path, "rb").read()
        content = json.loads(data)  # never half-written
        assert content["padding"] == big["padding"]
        if data != old:
            assert htpasswd_registry.hostport in content["auths"]
            # back to the old file for the next round
            with open(path, "wb") as f:
                f.write(old)


def test_lock_timeout_names_the_holder(run_regauth, htpasswd_registry, config_dir):
    import fcntl

    write_config(config_dir, {"auths": {}})
    with open(os.path.join(config_dir, "config.json.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        lock.write(f"{os.getpid()}\n")
        lock.flush()
        result = login(run_regauth, config_dir, htpasswd_registry.hostport, *ALICE,
                       "--lock-timeout", "0.3")
    assert result.returncode == 3
    assert f"held by process {os.getpid()}" in result.stderr


def test_symlink_to_another_file_system(run_regauth, htpasswd_registry, config_dir):
    """The temp file goes beside the real target, so the rename never crosses file systems."""
    import tempfile
    shm = tempfile.mkdtemp(dir="/dev/shm")
    try:
        target = os.path.join(shm, "config.json")
        with open(target, "w") as f:
            f.write('{"auths": {}}')
        os.symlink(target, os.path.join(config_dir, "config.json"))
        result = login(run_regauth, config_dir, htpasswd_registry.hostport, *ALICE)
        assert result.returncode == 0, result.stderr
        assert os.path.islink(os.path.join(config_dir, "config.json"))
        assert htpasswd_registry.hostport in json.load(open(target))["auths"]
    finally:
        import shutil
        shutil.rmtree(shm)


def test_read_only_target_with_no_change_is_fine(run_regauth, htpasswd_registry, config_dir):
    assert login(run_regauth, config_dir, htpasswd_registry.hostport, *ALICE).returncode == 0
    path = os.path.join(config_dir, "config.json")
    os.chmod(path, 0o400)
    before = open(path, "rb").read()
    stat_before = os.stat(path)
    result = login(run_regauth, config_dir, htpasswd_registry.hostport, *ALICE)
    assert result.returncode == 0, result.stderr
    assert open(path, "rb").read() == before
    assert mode_of(path) == 0o400
    after = os.stat(path)  # not even rewritten with the same bytes
    assert (after.st_ino, after.st_mtime_ns) == (stat_before.st_ino, stat_before.st_mtime_ns)


ENOSPC_SHIM = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
/* Fails writes to regauth's temp config files with ENOSPC after a few bytes: a full disk. */
ssize_t write(int fd, const void *buf, size_t count) {
  static ssize_t (*real_write)(int, const void *, size_t);
  if (!real_write) real_write = (ssize_t (*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
  char link[64], target[4096];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, target, sizeof target - 1);
  if (n > 0) {
    target[n] = 0;
    if (strstr(target, ".config.json.tmp-") && count > 16) {
      real_write(fd, buf, 16);
      errno = ENOSPC;
      return -1;
    }
  }
  return real_write(fd, buf, count);
}
"""


def test_full_disk_during_save_keeps_the_old_file(regauth, htpasswd_registry, config_dir,
                                                  tmp_path):
    source = tmp_path / "enospc.c"
    source.write_text(ENOSPC_SHIM)
    shim = tmp_path / "enospc.so"
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(shim), str(source), "-ldl"], check=True,
                   timeout=60)
    path = write_config(config_dir, {"auths": {"keep.example": {"auth": auth_of("k", "v")}}})
    before = open(path, "rb").read()
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "LD_PRELOAD": str(shim),
           "PASSWORD_STORE_DIR": str(tmp_path / "none"),
           "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0"}
    result = subprocess.run([regauth, "--config", config_dir, "login", "-u", "alice",
                             "--password-stdin", htpasswd_registry.hostport], input="alicepw\n",
                            capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 10, result.stderr
    assert "No space left on device" in result.stderr
    assert open(path, "rb").read() == before
    assert sorted(os.listdir(config_dir)) == ["config.json", "config.json.lock"]
