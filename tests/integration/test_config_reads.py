"""config.json is read once and written at most once per command: regauth runs under strace,
and the test counts the opens of config.json and the renames onto it (a count, never a time).
`logout --all` over many registries rewrites the file once, not once per registry."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import pytest

from helpers import auth_of, write_config
from support import ALICE

# strace -f -qq lines: `PID openat(AT_FDCWD, "/path", O_RDONLY|...) = 3`,
# `PID rename("/dir/.config.json.tmp-X", "/dir/config.json") = 0`, or renameat2 with dir fds.
_OPEN = re.compile(r'\bopenat\([^,\n]+, "([^"\n]+)"')
_RENAME = re.compile(r'\brename(?:at2?)?\(')
_QUOTED = re.compile(r'"([^"]*)"')


def opens_of(trace: str, path: str) -> int:
    return sum(1 for target in _OPEN.findall(trace) if target == path)


def renames_onto(trace: str, path: str) -> int:
    """Renames whose new name (the last quoted path of the call) is `path`."""
    return sum(1 for line in trace.splitlines()
               if _RENAME.search(line) and _QUOTED.findall(line)[-1:] == [path])


@pytest.mark.build_independent  # the test's own parser, no regauth
def test_the_trace_parser_counts_opens_and_renames():
    # The negative control: what the tests below count.
    trace = ('12 openat(AT_FDCWD, "/d/config.json", O_RDONLY|O_NONBLOCK|O_CLOEXEC) = 3\n'
             '12 openat(AT_FDCWD, "/d/config.json.lock", O_RDWR|O_CREAT|O_NOFOLLOW) = 4\n'
             '12 openat(AT_FDCWD, "/d/config.json", O_RDONLY|O_NONBLOCK|O_CLOEXEC) = 3\n'
             '12 rename("/d/.config.json.tmp-AbC", "/d/config.json") = 0\n'
             '12 renameat2(AT_FDCWD, "/d/.config.json.tmp-x", AT_FDCWD, "/d/config.json", 0) = 0\n')
    assert opens_of(trace, "/d/config.json") == 2
    assert renames_onto(trace, "/d/config.json") == 2
    assert renames_onto(trace, "/d/other.json") == 0


def traced(run_regauth, tmp_path, args, name, input_text=None):
    """Runs regauth under strace; returns (result, trace text)."""
    trace = tmp_path / f"trace-{name}"
    env = dict(run_regauth.base_env)
    # LeakSanitizer cannot run under ptrace; the rest of the suite checks leaks.
    env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":detect_leaks=0"
    argv = [shutil.which("strace"), "-f", "-qq", "-e", "trace=openat,rename,renameat,renameat2",
            "-o", str(trace), run_regauth.binary, *args]
    result = subprocess.run(argv, env=env, cwd=run_regauth.home, capture_output=True, text=True,
                            timeout=60, input=input_text,
                            stdin=None if input_text is not None else subprocess.DEVNULL)
    return result, trace.read_text()


@pytest.mark.requires("strace")
def test_logout_all_rewrites_config_json_once(run_regauth, config_dir, tmp_path):
    count = 30
    entries = {f"r{i}.example:5000": {"auth": auth_of(f"user{i}", f"pw{i}")} for i in range(count)}
    # Legacy spellings of two of them go in the same single write.
    entries["https://r1.example:5000/v1/"] = {"auth": auth_of("old", "pw")}
    entries["http://r2.example:5000"] = {"auth": auth_of("old", "pw")}
    path = write_config(config_dir, json.dumps({"auths": entries, "psFormat": "table"},
                                               indent="\t"))
    result, trace = traced(run_regauth, tmp_path, ["--config", config_dir, "logout", "--all"],
                           "logout-all")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("Removing login credentials for ") == count
    assert json.load(open(path)) == {"auths": {}, "psFormat": "table"}
    assert renames_onto(trace, path) == 1, trace
    assert opens_of(trace, path) <= 2, trace  # the reading, and the re-read under the lock


@pytest.mark.requires("strace")
def test_login_and_logout_read_config_json_at_most_twice(run_regauth, htpasswd_registry,
                                                         config_dir, tmp_path):
    others = {f"o{i}.example": {"auth": auth_of("u", "p")} for i in range(5)}
    path = write_config(config_dir, json.dumps({"auths": others}, indent="\t"))
    server = htpasswd_registry.hostport
    result, trace = traced(run_regauth, tmp_path,
                           ["--config", config_dir, "login", "-u", ALICE[0], "--password-stdin",
                            server], "login", input_text=ALICE[1] + "\n")
    assert result.returncode == 0, result.stderr
    assert server in json.load(open(path))["auths"]
    assert renames_onto(trace, path) == 1, trace
    # The reading that chose the store, and the re-read under the lock (once one, then four).
    assert opens_of(trace, path) <= 2, trace

    result, trace = traced(run_regauth, tmp_path, ["--config", config_dir, "logout", server],
                           "logout")
    assert result.returncode == 0, result.stderr
    assert server not in json.load(open(path))["auths"]
    assert renames_onto(trace, path) == 1, trace
    assert opens_of(trace, path) <= 2, trace

    # Nothing to remove: one reading, no lock, no write.
    result, trace = traced(run_regauth, tmp_path, ["--config", config_dir, "logout", server],
                           "logout-again")
    assert result.returncode == 0, result.stderr
    assert renames_onto(trace, path) == 0, trace
    assert opens_of(trace, path) == 1, trace
