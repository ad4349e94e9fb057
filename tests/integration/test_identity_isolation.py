"""No identity source opens a connection off loopback unless the environment names an endpoint:
regauth runs under strace for the cloud registries' own host names (pinned to a closed loopback
port with --resolve, so no DNS is asked) with nothing in its environment but PATH and HOME, and
every connect(2) must go to 127.0.0.0/8 or ::1."""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import signal
import subprocess

import pytest

HOSTS = ["ghcr.io", "gcr.io", "europe-docker.pkg.dev",
         "123456789012.dkr.ecr.us-east-1.amazonaws.com", "public.ecr.aws", "registry.gitlab.com"]

_INET = re.compile(r'sa_family=AF_INET, sin_port=htons\((\d+)\), sin_addr=inet_addr\("([^"]+)"\)')
_INET6 = re.compile(r'sa_family=AF_INET6, sin6_port=htons\((\d+)\).*?inet_pton\(AF_INET6, "([^"]+)"')


def inet_connects(trace: str) -> list[str]:
    """The addresses of every AF_INET and AF_INET6 connect(2) in an strace log."""
    return ([address for _, address in _INET.findall(trace)] +
            [address for _, address in _INET6.findall(trace)])


def off_loopback(addresses: list[str]) -> list[str]:
    return [a for a in addresses if not ipaddress.ip_address(a).is_loopback]


@pytest.mark.build_independent  # the test's own parser, no regauth
def test_the_trace_parser_sees_a_metadata_address():
    # The negative control: what the test below would flag.
    trace = ('123 connect(5, {sa_family=AF_INET, sin_port=htons(80), '
             'sin_addr=inet_addr("169.254.169.254")}, 16) = -1 EINPROGRESS\n'
             '123 connect(6, {sa_family=AF_INET, sin_port=htons(443), '
             'sin_addr=inet_addr("127.0.0.1")}, 16) = 0\n'
             '124 connect(7, {sa_family=AF_INET6, sin6_port=htons(80), sin6_flowinfo=htonl(0), '
             'inet_pton(AF_INET6, "fd00:ec2::254", &sin6_addr), sin6_scope_id=0}, 28) = -1\n')
    assert inet_connects(trace) == ["169.254.169.254", "127.0.0.1", "fd00:ec2::254"]
    assert off_loopback(inet_connects(trace)) == ["169.254.169.254", "fd00:ec2::254"]


@pytest.mark.requires("strace")
def test_no_connection_leaves_loopback_without_endpoint_variables(run_regauth, config_dir,
                                                                   tmp_path):
    resolve = []  # port 443 of 127.0.0.1: no registry there, so each command fails at once
    for host in HOSTS:
        resolve += ["--resolve", f"{host}:443:127.0.0.1"]
    env = {k: v for k, v in run_regauth.base_env.items() if k in ("PATH", "HOME")}
    env.update({k: v for k, v in os.environ.items() if k.endswith("SAN_OPTIONS")})
    # LeakSanitizer cannot run under ptrace; the rest of the suite checks leaks.
    env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":detect_leaks=0"
    # The commands run side by side: each spends most of its time in the backoff between its
    # attempts on the closed port. None writes to the (empty) config.
    runs = []
    for n, host in enumerate(HOSTS):
        for command in (["push", "--check", "unused", f"{host}/team/app"], ["login", host]):
            trace = tmp_path / f"trace-{n}-{command[0]}"
            argv = [shutil.which("strace"), "-f", "-qq", "-e", "trace=connect", "-o", str(trace),
                    run_regauth.binary, "--config", config_dir, "--timeout", "5", *resolve,
                    *command]
            process = subprocess.Popen(argv, env=env, cwd=run_regauth.home, text=True,
                                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, start_new_session=True)
            runs.append((host, command, trace, process))
    seen = []
    try:
        for host, command, trace, process in runs:
            _, stderr = process.communicate(timeout=60)
            # No identity, and the registry is not there: a clear failure, never a hang.
            assert process.returncode in (2, 5, 7), (host, command, stderr)
            addresses = inet_connects(trace.read_text())
            assert off_loopback(addresses) == [], (host, command, addresses)
            seen += addresses
    finally:
        for *_, process in runs:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
    assert seen and set(seen) == {"127.0.0.1"}  # the registry was tried, on loopback only
