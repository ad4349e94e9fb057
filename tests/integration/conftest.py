"""Fixtures for regauth's integration tests: real servers on 127.0.0.1.

Missing prerequisites (tools, REGAUTH_BIN) FAIL the test, so a broken
machine cannot pass by skipping everything; set REGAUTH_ALLOW_SKIP=1 to
skip instead.  Mark tests with `@pytest.mark.requires("skopeo", ...)` to
check extra tools before they run.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
from typing import NamedTuple

import pytest

from support import ALICE, BOB, PUBLIC_GLOB
from support.certs import TestCA, make_test_ca
from support.pass_store import make_pass_store, remove_pass_store
from support.registry import Registry
from support.token_server import TokenServer

TLS_NAMES = ["127.0.0.1", "localhost", "registry.test"]


# ---- prerequisites -------------------------------------------------------


def missing_prerequisite(message: str) -> None:
    """Fail (or skip, with REGAUTH_ALLOW_SKIP=1) for a missing prerequisite."""
    if os.environ.get("REGAUTH_ALLOW_SKIP") == "1":
        pytest.skip(message)
    pytest.fail(f"{message} (set REGAUTH_ALLOW_SKIP=1 to skip instead)", pytrace=False)


def require(*tools: str) -> None:
    """Each tool must be on PATH (or an existing absolute path)."""
    for tool in tools:
        if not shutil.which(tool):
            missing_prerequisite(f"required tool not found: {tool}")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "requires(*tools): tools that must be on PATH; missing ones fail the "
        "test unless REGAUTH_ALLOW_SKIP=1",
    )
    config.addinivalue_line(
        "markers",
        "build_independent: the test's outcome cannot depend on how regauth was built "
        "(fixture self-checks, shell scripts); scripts/test runs it in the sanitizer pass only",
    )


def pytest_runtest_setup(item: pytest.Item) -> None:
    for mark in item.iter_markers(name="requires"):
        require(*mark.args)


# ---- certificates --------------------------------------------------------


@pytest.fixture(scope="session")
def test_ca(tmp_path_factory) -> TestCA:
    """A throwaway CA (ECDSA P-256); `.ca_path`, `.issue()`, `.certs_dir()`."""
    return make_test_ca(str(tmp_path_factory.mktemp("ca")))


# ---- servers -------------------------------------------------------------


def default_users() -> dict:
    """alice: pull/push/delete on everything; bob: pull only."""
    return {
        ALICE[0]: (ALICE[1], {"*": {"pull", "push", "delete"}}),
        BOB[0]: (BOB[1], {"*": {"pull"}}),
    }


@pytest.fixture
def start_token_server(tmp_path):
    """Factory: start_token_server(**TokenServer kwargs) -> started TokenServer.

    Defaults to default_users() and anonymous pull on public/*; every server
    it started is stopped at teardown.
    """
    started = []

    def start(**kwargs) -> TokenServer:
        kwargs.setdefault("users", default_users())
        kwargs.setdefault("anonymous", {PUBLIC_GLOB: {"pull"}})
        kwargs.setdefault("state_dir", str(tmp_path / f"token-server-{len(started)}"))
        server = TokenServer(**kwargs)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def start_registry(tmp_path):
    """Factory: start_registry(**Registry kwargs) -> started Registry, stopped
    at teardown.  State goes to tmp_path/registry-N."""
    require("docker-registry")
    started = []

    def start(**kwargs) -> Registry:
        registry = Registry(str(tmp_path / f"registry-{len(started)}"), **kwargs)
        started.append(registry)
        return registry.start()

    yield start
    for registry in started:
        registry.stop()


@pytest.fixture
def token_server(start_token_server) -> TokenServer:
    """Plain-HTTP token server: alice push/pull/delete, bob pull, anonymous
    pull on public/*; realm /token, service registry.test."""
    return start_token_server()


@pytest.fixture
def token_registry(start_registry, token_server) -> Registry:
    """Plain-HTTP registry with `auth: token` backed by `token_server`."""
    return start_registry(auth="token", token_server=token_server)


@pytest.fixture
def htpasswd_registry(start_registry) -> Registry:
    """Plain-HTTP registry with htpasswd users alice/alicepw, bob/bobpw."""
    return start_registry(auth="htpasswd", users=dict([ALICE, BOB]))


@pytest.fixture
def tls_htpasswd_registry(start_registry, test_ca, tmp_path) -> Registry:
    """HTTPS registry (cert from test_ca for 127.0.0.1, localhost,
    registry.test) with htpasswd users alice and bob."""
    tls = test_ca.issue(TLS_NAMES, str(tmp_path / "tls"))
    return start_registry(auth="htpasswd", users=dict([ALICE, BOB]), tls=tls)


# ---- client side ---------------------------------------------------------


@pytest.fixture
def pass_env(tmp_path):
    """{GNUPGHOME, PASSWORD_STORE_DIR} of an initialised throwaway pass store."""
    require("gpg", "gpgconf", "pass", "docker-credential-pass")
    env = make_pass_store(str(tmp_path))
    yield env
    remove_pass_store(env)


@pytest.fixture
def config_dir(tmp_path) -> str:
    """A fresh, empty directory (e.g. for DOCKER_CONFIG or --config)."""
    d = tmp_path / "config"
    d.mkdir()
    return str(d)


@pytest.fixture
def stub_bin(tmp_path) -> str:
    """A fresh, empty directory for stub programs; put it on PATH with
    helpers.with_stub_path(stub_bin)."""
    d = tmp_path / "bin"
    d.mkdir()
    return str(d)


@pytest.fixture(scope="session")
def regauth() -> str:
    """Path of the regauth binary under test, from $REGAUTH_BIN."""
    path = os.environ.get("REGAUTH_BIN")
    if not path:
        missing_prerequisite("REGAUTH_BIN is not set (path of the built regauth binary)")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        missing_prerequisite(f"REGAUTH_BIN={path} is not an executable file")
    return os.path.abspath(path)


# Inherited by regauth besides PATH, so sanitizer builds keep ctest's settings.
_INHERITED = ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS")


class RegauthCommand:
    """Runs regauth in a clean environment: only PATH (and sanitizer options)
    are inherited; HOME is a fresh temp dir and PASSWORD_STORE_DIR an
    uninitialised one (pass the `pass_env` dict as env= to use a real store)."""

    def __init__(self, binary: str, home: str, password_store: str):
        self.binary = binary
        self.home = home
        self.base_env = {
            **{k: os.environ[k] for k in _INHERITED if k in os.environ},
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": home,
            "PASSWORD_STORE_DIR": password_store,
        }

    def __call__(self, args, env=None, input=None, timeout=30) -> subprocess.CompletedProcess:
        """Run `regauth ARGS`; returns a CompletedProcess with text stdout/stderr.
        ENV entries are added to (and override) the clean environment."""
        argv = [self.binary, *map(str, args)]
        # Own session, so a timeout kills regauth and any helper it started.
        proc = subprocess.Popen(
            argv,
            env={**self.base_env, **(env or {})},
            stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=self.home,
            start_new_session=True,
        )
        try:
            stdout, stderr = proc.communicate(input, timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            stdout, stderr = proc.communicate(timeout=10)
        else:
            return subprocess.CompletedProcess(argv, proc.returncode, stdout, stderr)
        pytest.fail(f"{argv} timed out after {timeout}s\nstdout: {stdout!r}\n"
                    f"stderr: {stderr!r}", pytrace=False)


@pytest.fixture
def run_regauth(regauth, tmp_path) -> RegauthCommand:
    """run_regauth(args, env=None, input=None, timeout=30) -> CompletedProcess."""
    home = tmp_path / "home"
    home.mkdir()
    store = tmp_path / "no-pass-store"
    store.mkdir()
    return RegauthCommand(regauth, str(home), str(store))


# ---- registries under real cloud host names --------------------------------


class CloudRegistry(NamedTuple):
    registry: Registry
    host: str  # the cloud host name, e.g. ghcr.io
    address: str  # the loopback address whose port 443 answers for it
    flags: list  # --resolve and --certs-dir for regauth


@pytest.fixture
def start_cloud_registry(start_registry, test_ca, tmp_path):
    """Factory: start_cloud_registry(host, **Registry kwargs) -> CloudRegistry.  A TLS registry
    on port 443 of a random loopback address, with a test-CA certificate for `host`, reached by
    regauth through `flags` (--resolve HOST:443:ADDRESS and --certs-dir)."""
    import random

    def start(host: str, **kwargs) -> CloudRegistry:
        for _ in range(20):
            address = ".".join(["127"] + [str(random.randint(1, 254)) for _ in range(3)])
            with socket.socket() as probe:
                try:
                    probe.bind((address, 443))
                    break
                except OSError:
                    continue
        else:
            pytest.fail("no loopback address with a free port 443", pytrace=False)
        tls = test_ca.issue([host], str(tmp_path / f"tls-{host}"))
        registry = start_registry(tls=tls, port=443, address=address, **kwargs)
        certs = test_ca.certs_dir(str(tmp_path / f"certs-{host}"), [host])
        return CloudRegistry(registry, host, address,
                             ["--resolve", f"{host}:443:{address}", "--certs-dir", certs])

    return start
