"""The Debian package round trip, on the machine itself (as root): lintian finds no error,
`dpkg -i` installs it, the installed /usr/bin/regauth logs in to and pushes to a real registry,
and `dpkg -r` removes it leaving nothing behind, whatever happened in between.

Runs when REGAUTH_DEB names the .deb: scripts/test builds it from the release build
(`cpack -G DEB`) and sets it for the release run of this suite. Elsewhere it is skipped.
"""

from __future__ import annotations

import fcntl
import os
import re
import subprocess
import time

import pytest

from conftest import RegauthCommand
from helpers import login
from support import ALICE
from support.images import make_oci_layout

DEB = os.environ.get("REGAUTH_DEB", "")
PACKAGE = "regauth"
# The files the package must ship (under /usr), besides the man pages of each command.
SHIPPED = [
    "/usr/bin/regauth",
    "/usr/bin/docker-credential-regauth",
    "/usr/share/man/man1/regauth.1.gz",
    "/usr/share/bash-completion/completions/regauth",
    "/usr/share/zsh/vendor-completions/_regauth",
    "/usr/share/fish/vendor_completions.d/regauth.fish",
    "/usr/share/doc/regauth/copyright",
    "/usr/share/doc/regauth/changelog.gz",
    "/usr/share/doc/regauth/security.md",
    "/usr/share/doc/regauth/exit-codes.md",
]
DLOPENED = ["libcurl4", "libssl3", "libpsl5", "libarchive13", "zlib1g", "libdeflate0", "libzstd1"]

pytestmark = pytest.mark.skipif(
    not DEB, reason="REGAUTH_DEB is not set (scripts/test sets it for the release build)")


def run(*argv, timeout=300, check=True) -> subprocess.CompletedProcess:
    result = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout)
    if check:
        assert result.returncode == 0, f"{argv}: exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result


def dpkg(*args) -> subprocess.CompletedProcess:
    """dpkg ARGS, waiting (a bounded time) for a dpkg lock another process holds."""
    for _ in range(60):
        result = run("dpkg", *args, check=False)
        if result.returncode == 0 or "lock" not in result.stderr:
            return result
        time.sleep(1)
    return result


def installed_status() -> str:
    result = run("dpkg-query", "-W", "-f=${Status}", PACKAGE, check=False)
    return result.stdout.strip() if result.returncode == 0 else "not-installed"


def package_paths(deb: str, directories: bool = False) -> list[str]:
    """The files and links (or, with DIRECTORIES, the folders) in the package, absolute."""
    paths = []
    for line in run("dpkg-deb", "-c", deb).stdout.splitlines():
        mode, path = line.split()[0], line.split(None, 5)[5].split(" -> ")[0]
        if mode.startswith("d") == directories:
            paths.append(path.lstrip(".").rstrip("/") or "/")
    return paths


@pytest.fixture
def deb_lock():
    """One package round trip at a time on this machine."""
    with open("/tmp/regauth-deb-test.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def test_package_fields_and_lintian(deb_lock):
    assert os.path.isfile(DEB), f"REGAUTH_DEB={DEB} is not a file"
    version = re.search(r"project\(regauth VERSION (\S+)",
                        open(os.path.join(os.path.dirname(__file__), "../../CMakeLists.txt"))
                        .read()).group(1)
    arch = run("dpkg", "--print-architecture").stdout.strip()
    assert os.path.basename(DEB) == f"regauth_{version}_{arch}.deb"
    fields = run("dpkg-deb", "-f", DEB, "Package", "Version", "Architecture", "Depends",
                 "Maintainer", "Section", "Description").stdout
    depends = re.search(r"^Depends: (.*)$", fields, re.MULTILINE).group(1)
    names = {d.strip().split()[0] for d in depends.split(",")}
    assert set(DLOPENED) <= names and "libc6" in names, depends
    assert re.search(r"^Section: utils$", fields, re.MULTILINE), fields
    paths = package_paths(DEB)
    missing = [p for p in SHIPPED if p not in paths]
    assert not missing, f"not in the package: {missing}"
    pages = [p for p in paths if p.startswith("/usr/share/man/")]
    assert pages and all(p.endswith(".gz") for p in pages), pages
    result = run("lintian", "--fail-on", "error", "--tag-display-limit", "0", DEB, check=False)
    assert result.returncode == 0, f"lintian:\n{result.stdout}{result.stderr}"
    assert not re.search(r"^E: ", result.stdout, re.MULTILINE), result.stdout


def test_install_login_push_remove(deb_lock, htpasswd_registry, tmp_path):
    assert os.geteuid() == 0, "dpkg -i needs root (CI runs as root)"
    status = installed_status()
    assert "installed" not in status.split(), \
        f"{PACKAGE} is already installed here ({status}): the test does not replace it"
    shipped = package_paths(DEB)
    already = [p for p in shipped if os.path.lexists(p)]
    assert not already, f"files of the package exist before it is installed: {already}"
    new_folders = [p for p in package_paths(DEB, directories=True) if not os.path.exists(p)]
    try:
        result = dpkg("-i", DEB)
        assert result.returncode == 0, f"dpkg -i: {result.stdout}{result.stderr}"
        listed = set(dpkg("-L", PACKAGE).stdout.splitlines())
        assert set(shipped) <= listed, set(shipped) - listed
        assert os.readlink("/usr/bin/docker-credential-regauth") == "regauth"

        home = tmp_path / "home"
        home.mkdir()
        store = tmp_path / "no-pass-store"
        store.mkdir()
        installed = RegauthCommand("/usr/bin/regauth", str(home), str(store))
        assert installed(["-v"]).stdout.startswith("regauth ")
        config = tmp_path / "config"
        config.mkdir()
        logged_in = login(installed, str(config), htpasswd_registry.hostport, *ALICE)
        assert logged_in.returncode == 0, logged_in.stderr
        assert "Login Succeeded" in logged_in.stdout
        make_oci_layout(str(tmp_path / "oci"), layer_sizes=[4000, 3000])
        pushed = installed(["--config", str(config), "push", str(tmp_path / "oci"),
                            f"{htpasswd_registry.hostport}/deb/app:1"], timeout=120)
        assert pushed.returncode == 0, pushed.stderr
        assert pushed.stdout.strip().splitlines()[-1].startswith("1: digest: sha256:")
        assert htpasswd_registry.manifests_on_disk()["deb/app"]["tags"] == ["1"]
    finally:
        removed = dpkg("-r", PACKAGE)
        if installed_status() not in ("not-installed", "unknown ok not-installed"):
            dpkg("--purge", PACKAGE)
    assert removed.returncode == 0, f"dpkg -r: {removed.stdout}{removed.stderr}"
    left = [p for p in shipped + new_folders if os.path.lexists(p)]
    assert not left, f"left behind by dpkg -r: {left}"
    assert "installed" not in installed_status().split()
