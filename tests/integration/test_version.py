"""`regauth -v` and `regauth --version`: the version line, and the versions of the libraries
regauth loads with dlopen, compared with what those libraries report to ctypes."""

from __future__ import annotations

import ctypes
import os
import re
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# "regauth 0.1.0", "regauth 1.2.0-3-gabc1234-dirty" or "regauth 0.1.0 (git abc1234-dirty)".
VERSION_LINE = re.compile(r"^regauth (\d+\.\d+\.\d+)(-\S+)?( \(git [0-9a-f]{4,}(-dirty)?\))?$")


def project_version() -> str:
    with open(os.path.join(ROOT, "CMakeLists.txt"), encoding="utf-8") as f:
        return re.search(r"project\(regauth VERSION (\S+)", f.read()).group(1)


def library_versions() -> dict:
    """What each library says of itself, asked through ctypes."""
    def call(soname: str, function: str, *args) -> str:
        fn = getattr(ctypes.CDLL(soname), function)
        fn.restype = ctypes.c_char_p
        return fn(*args).decode()

    return {
        "libcurl": call("libcurl.so.4", "curl_version").split()[0].split("/")[1],
        "OpenSSL": call("libcrypto.so.3", "OpenSSL_version", 6),  # OPENSSL_VERSION_STRING
        "libarchive": call("libarchive.so.13", "archive_version_string").split()[1],
        "libpsl": call("libpsl.so.5", "psl_get_version"),
        "zlib": call("libz.so.1", "zlibVersion"),
        # libdeflate has no version function: the Debian package's upstream version
        "libdeflate": subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "libdeflate0"],
                                     capture_output=True, text=True, check=True,
                                     timeout=30).stdout.split("-")[0] + " (build-id ",
        "libzstd": call("libzstd.so.1", "ZSTD_versionString"),
    }


def test_short_version_is_one_line_and_loads_no_library(run_regauth):
    result = run_regauth(["-v"], env={"LD_DEBUG": "files"})
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout
    match = VERSION_LINE.match(lines[0])
    assert match, lines[0]
    if match.group(3) or not match.group(2):  # no tag: the version is the project's
        assert match.group(1) == project_version()
    # The loader's trace (LD_DEBUG) shows libcurl only when --version asks for it.
    assert "libcurl.so.4" not in result.stderr
    assert "libdeflate.so.0" not in result.stderr and "libz.so.1" not in result.stderr
    assert "libcurl.so.4" in run_regauth(["--version"], env={"LD_DEBUG": "files"}).stderr


def test_long_version_names_each_loaded_library(run_regauth):
    result = run_regauth(["--version"])
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == run_regauth(["-v"]).stdout.strip()
    printed = dict(line.split(" ", 1) for line in lines[1:])
    expected = library_versions()
    assert set(printed) == set(expected)
    for name, version in expected.items():
        assert printed[name].startswith(version), (name, printed[name], version)
