#!/usr/bin/env python3
"""Checks `cmake --install`: DESTDIR and --prefix honoured, the GNUInstallDirs layout.

    check_install.py BUILD_DIR

Installs BUILD_DIR twice into temporary DESTDIRs (--prefix /usr, then --prefix /opt/regauth)
and checks each tree: bin/regauth runs, bin/docker-credential-regauth is a relative symlink to
it, every man page is there gzipped, the bash, zsh and fish completions and share/doc/regauth
are there, and every file lands under DESTDIR/PREFIX. $CMAKE names cmake (default: the one
on PATH). Prints one line per problem and
exits 1 if there is any.
"""

from __future__ import annotations

import glob
import gzip
import os
import shutil
import subprocess
import sys
import tempfile

EXPECTED = [
    "bin/regauth",
    "bin/docker-credential-regauth",
    "share/man/man1/regauth.1.gz",
    "share/man/man1/docker-credential-regauth.1.gz",
    "share/bash-completion/completions/regauth",
    "share/zsh/vendor-completions/_regauth",
    "share/fish/vendor_completions.d/regauth.fish",
    "share/doc/regauth/README.md",
    "share/doc/regauth/security.md",
    "share/doc/regauth/exit-codes.md",
    "share/doc/regauth/copyright",
    "share/doc/regauth/changelog.gz",
]


def check_tree(build_dir: str, prefix: str, problems: list[str]) -> None:
    destdir = tempfile.mkdtemp(prefix="regauth-install-")
    try:
        result = subprocess.run([os.environ.get("CMAKE", "cmake"), "--install", build_dir, "--prefix", prefix],
                                env={**os.environ, "DESTDIR": destdir}, capture_output=True,
                                text=True, timeout=120)
        if result.returncode != 0:
            problems.append(f"cmake --install --prefix {prefix} failed: {result.stderr.strip()}")
            return
        root = destdir + prefix
        for dirpath, _, filenames in os.walk(destdir):
            for name in filenames:
                path = os.path.join(dirpath, name)
                if not path.startswith(root + "/"):
                    problems.append(f"--prefix {prefix}: {path[len(destdir):]} is outside the prefix")
        for relative in EXPECTED:
            if not os.path.lexists(os.path.join(root, relative)):
                problems.append(f"--prefix {prefix}: {relative} is missing")
        link = os.path.join(root, "bin/docker-credential-regauth")
        if os.path.islink(link):
            target = os.readlink(link)
            if target != "regauth":
                problems.append(f"--prefix {prefix}: bin/docker-credential-regauth points to "
                                f"{target!r}, not the relative 'regauth'")
        elif os.path.lexists(link):
            problems.append(f"--prefix {prefix}: bin/docker-credential-regauth is not a symlink")
        regauth = os.path.join(root, "bin/regauth")
        if os.path.exists(regauth):
            version = subprocess.run([regauth, "-v"], capture_output=True, text=True, timeout=30)
            if version.returncode != 0 or not version.stdout.startswith("regauth "):
                problems.append(f"--prefix {prefix}: installed regauth -v printed "
                                f"{version.stdout!r} {version.stderr!r}")
        pages = sorted(glob.glob(os.path.join(root, "share/man/man1/*.1.gz")))
        sources = glob.glob(os.path.join(os.path.dirname(__file__), "../../docs/man/*.1.scd"))
        if len([p for p in pages if not os.path.islink(p)]) != len(sources):
            problems.append(f"--prefix {prefix}: {len(pages)} man pages installed for "
                            f"{len(sources)} sources in docs/man")
        for page in pages:
            with gzip.open(page, "rt", encoding="utf-8") as f:
                if ".TH " not in f.read():
                    problems.append(f"--prefix {prefix}: {page[len(root):]} is not a man page")
    finally:
        shutil.rmtree(destdir, ignore_errors=True)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    problems: list[str] = []
    for prefix in ("/usr", "/opt/regauth"):
        check_tree(argv[1], prefix, problems)
    for problem in problems:
        print(f"check_install: {problem}", file=sys.stderr)
    if problems:
        return 1
    print(f"check_install: {len(EXPECTED)} paths in place under /usr and /opt/regauth")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
