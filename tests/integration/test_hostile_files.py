"""Hostile bytes and files that are not files: what reaches the terminal is escaped, JSON output
never throws, FIFOs and devices never hang regauth, symlinks never lead a push out of its layout,
and logout removes what it can when a helper fails."""

from __future__ import annotations

import base64
import json
import os

import pytest

from helpers import auth_of, make_helper, read_config, with_stub_path, write_config
from support.fake_registry import FakeRegistry
from support.fixture_server import FixtureServer, Reply
from support.images import make_docker_archive, make_oci_layout

# Every byte that could drive a terminal: ESC (CSI, OSC), BEL, C1 CSI, RLO, LRI.
HOSTILE = ["\x1b", "\x07", "\x9b", "\u202e", "\u2066"]


def raw_bytes_absent(text: str) -> bool:
    return not any(c in text for c in HOSTILE)


def config_path(config_dir):
    return os.path.join(config_dir, "config.json")


def snapshot(path):
    with open(path, "rb") as f:
        data = f.read()
    return data, os.stat(path).st_mtime_ns


# ---- logout removes what it can -------------------------------------------------------------


def missing_helper_config(config_dir):
    return write_config(config_dir, {
        "auths": {"r.example": {"auth": auth_of("ann", "s3cret")},
                  "q.example": {"auth": auth_of("bob", "pw2")}},
        "credsStore": "missing-helper",
    })


def test_logout_removes_the_inline_secret_when_the_helper_is_missing(run_regauth, config_dir):
    missing_helper_config(config_dir)
    result = run_regauth(["--config", config_dir, "logout", "r.example"])
    assert result.returncode == 4, result.stderr
    assert result.stdout == "Removing login credentials for r.example\n"
    assert "docker-credential-missing-helper" in result.stderr
    assert "not found on PATH" in result.stderr
    config = read_config(config_dir)
    assert list(config["auths"]) == ["q.example"]
    assert config["credsStore"] == "missing-helper"
    assert "s3cret" not in open(config_path(config_dir)).read()


def test_logout_all_with_a_missing_helper_clears_every_inline_secret(run_regauth, config_dir):
    path = missing_helper_config(config_dir)
    result = run_regauth(["--config", config_dir, "logout", "--all"])
    assert result.returncode == 4, result.stderr
    assert result.stdout.splitlines() == [
        f"Removing login credentials for q.example from {path}",
        f"Removing login credentials for r.example from {path}",
    ] or result.stdout.splitlines() == [
        f"Removing login credentials for r.example from {path}",
        f"Removing login credentials for q.example from {path}",
    ]
    assert "not found on PATH" in result.stderr
    assert read_config(config_dir)["auths"] == {}


def test_logout_all_json_reports_the_helper_failure_with_its_exit_code(run_regauth, config_dir):
    path = missing_helper_config(config_dir)
    result = run_regauth(["--config", config_dir, "logout", "--all", "--format", "json"])
    assert result.returncode == 4, result.stderr
    entries = {e["registry"]: e for e in json.loads(result.stdout)}
    assert set(entries) == {"r.example", "q.example"}
    for entry in entries.values():
        assert entry["removed_from"] == [path]
        assert entry["exit_code"] == 4
        assert "not found on PATH" in entry["error"]
    assert read_config(config_dir)["auths"] == {}


def test_logout_all_dry_run_lists_and_changes_nothing(run_regauth, config_dir, stub_bin, tmp_path):
    calls = tmp_path / "calls"
    # A helper that holds one entry and logs every action it is asked for.
    make_helper(stub_bin, "log", f"""read input
echo "$1 $input" >> {calls}
case "$1" in
  list) echo '{{"h.example":"hana"}}' ;;
  get) [ "$input" = h.example ] && echo '{{"ServerURL":"h.example","Username":"hana","Secret":"x"}}' \
        || {{ echo "credentials not found in native keychain"; exit 1; }} ;;
  *) exit 0 ;;
esac
""")
    path = write_config(config_dir, {
        "auths": {"a.example": {"auth": auth_of("ann", "pw1")}, "h.example": {}},
        "credsStore": "log",
    })
    before = snapshot(path)
    result = run_regauth(["--config", config_dir, "logout", "--all", "--dry-run"],
                         env=with_stub_path(stub_bin))
    assert result.returncode == 0, result.stderr
    assert sorted(result.stdout.splitlines()) == sorted([
        f"Would remove login credentials for a.example from {path}",
        "Would remove login credentials for h.example from credential helper docker-credential-log",
    ])
    assert snapshot(path) == before
    assert not any(line.startswith("erase") for line in calls.read_text().splitlines())
    assert not os.path.exists(path + ".lock")

    # The same without --dry-run: each registry and store it cleared.
    result = run_regauth(["--config", config_dir, "logout", "--all"], env=with_stub_path(stub_bin))
    assert result.returncode == 0, result.stderr
    assert sorted(result.stdout.splitlines()) == sorted([
        f"Removing login credentials for a.example from {path}",
        "Removing login credentials for h.example from credential helper docker-credential-log",
    ])
    assert "erase h.example" in calls.read_text()
    assert read_config(config_dir)["auths"] == {}


def test_logout_dry_run_json(run_regauth, config_dir):
    path = write_config(config_dir, {"auths": {"a.example": {"auth": auth_of("ann", "pw1")}}})
    before = snapshot(path)
    result = run_regauth(["--config", config_dir, "logout", "--dry-run", "--format", "json",
                          "a.example"])
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"registry": "a.example", "removed_from": [path],
                                         "dry_run": True}
    assert snapshot(path) == before


# ---- files that are not regular files -------------------------------------------------------

# A FIFO nobody writes to: open(2) without O_NONBLOCK would wait for a writer forever. Every
# command runs with a bounded timeout (run_regauth fails the test when it expires).
FIFO_TIMEOUT = 20


def test_config_json_that_is_a_fifo_is_refused_by_every_command(run_regauth, config_dir):
    os.mkfifo(config_path(config_dir))
    for args, input in [(["ls"], None), (["logout", "r.example"], None),
                        (["logout", "--all"], None),
                        (["login", "-u", "u", "--password-stdin", "127.0.0.1:9"], "pw\n"),
                        (["push", "--check", "oci:/nonexistent", "127.0.0.1:9/x/y:1"], None)]:
        result = run_regauth(["--config", config_dir, *args], input=input, timeout=FIFO_TIMEOUT)
        assert result.returncode == 3, (args, result.stderr)
        assert f"{config_path(config_dir)}: a FIFO, not a regular file" in result.stderr, args
        assert result.stderr.count("\n") == 1, result.stderr
    assert os.path.exists(config_path(config_dir))


def test_config_json_that_is_a_device_or_a_folder_is_refused(run_regauth, config_dir, tmp_path):
    os.symlink("/dev/zero", config_path(config_dir))
    result = run_regauth(["--config", config_dir, "ls"], timeout=FIFO_TIMEOUT)
    assert result.returncode == 3
    assert "a character device, not a regular file" in result.stderr
    os.unlink(config_path(config_dir))
    os.mkdir(config_path(config_dir))
    result = run_regauth(["--config", config_dir, "ls"], timeout=FIFO_TIMEOUT)
    assert result.returncode == 3
    assert "a directory, not a regular file" in result.stderr


def test_lock_file_that_is_a_fifo_is_refused(run_regauth, config_dir):
    write_config(config_dir, {"auths": {"a.example": {"auth": auth_of("ann", "pw1")}}})
    os.mkfifo(config_path(config_dir) + ".lock")
    result = run_regauth(["--config", config_dir, "logout", "a.example"], timeout=FIFO_TIMEOUT)
    assert result.returncode == 3, result.stderr
    assert "lock file: opening" in result.stderr and "a FIFO" in result.stderr
    assert "a.example" in read_config(config_dir)["auths"]


@pytest.mark.parametrize("which", ["oci-layout", "index.json", "blob", "manifest"])
def test_layout_files_that_are_fifos_are_refused(run_regauth, config_dir, tmp_path, which):
    layout = str(tmp_path / "oci")
    image = make_oci_layout(layout, layer_sizes=[2000])
    if which == "blob":
        target = os.path.join(layout, "blobs", "sha256", image["layers"][0]["digest"][7:])
    elif which == "manifest":
        target = os.path.join(layout, "blobs", "sha256", image["manifest"]["digest"][7:])
    else:
        target = os.path.join(layout, which)
    os.unlink(target)
    os.mkfifo(target)
    fake = FakeRegistry().start()
    try:
        write_config(config_dir, {"auths": {fake.hostport: {"auth": auth_of("u", "p")}}})
        # (push --check reads no image: its FIFO case is config.json's, above)
        result = run_regauth(["--config", config_dir, "push", f"oci:{layout}",
                              f"{fake.hostport}/t/app:1"], timeout=FIFO_TIMEOUT)
        assert result.returncode == 10, result.stderr
        assert f"{target}: a FIFO, not a regular file" in result.stderr
        assert result.stderr.count("\n") == 1, result.stderr
        assert not any(r.method in ("PUT", "PATCH") for r in fake.requests)
    finally:
        fake.stop()


def test_docker_archive_that_is_a_fifo_is_refused(run_regauth, config_dir, tmp_path):
    path = str(tmp_path / "image.tar")
    os.mkfifo(path)
    for source in (f"docker-archive:{path}", path):
        result = run_regauth(["--config", config_dir, "push", source, "127.0.0.1:9/t/app:1"],
                             timeout=FIFO_TIMEOUT)
        assert result.returncode == 10, result.stderr
        assert f"{path}: a FIFO, not a regular file" in result.stderr


def test_docker_archive_still_pushes(run_regauth, config_dir, tmp_path):
    path = str(tmp_path / "image.tar")
    make_docker_archive(path, layer_sizes=[3000])
    fake = FakeRegistry().start()
    try:
        write_config(config_dir, {"auths": {fake.hostport: {"auth": auth_of("u", "p")}}})
        result = run_regauth(["--config", config_dir, "push", f"docker-archive:{path}",
                              f"{fake.hostport}/t/app:1"], timeout=60)
        assert result.returncode == 0, result.stderr
        assert "1" in fake.manifests
    finally:
        fake.stop()


# ---- symlinks inside an OCI layout ----------------------------------------------------------


def test_blob_symlink_out_of_the_layout_is_refused_before_any_byte(run_regauth, config_dir,
                                                                   tmp_path):
    layout = str(tmp_path / "oci")
    image = make_oci_layout(layout, layer_sizes=[2000])
    digest = image["layers"][0]["digest"]
    blob = os.path.join(layout, "blobs", "sha256", digest[7:])
    outside = tmp_path / "outside-secret"
    with open(blob, "rb") as f:
        outside.write_bytes(f.read())  # same bytes, same size: only the place is wrong
    os.unlink(blob)
    os.symlink(str(outside), blob)
    fake = FakeRegistry().start()
    try:
        write_config(config_dir, {"auths": {fake.hostport: {"auth": auth_of("u", "p")}}})
        result = run_regauth(["--config", config_dir, "push", f"oci:{layout}",
                              f"{fake.hostport}/t/app:1"], timeout=60)
        assert result.returncode == 10, result.stderr
        assert f"blob {digest}" in result.stderr
        assert f"resolves to {outside}, outside the layout" in result.stderr
        assert not any(r.method in ("PUT", "PATCH", "POST") for r in fake.requests)
        assert not fake.blobs
    finally:
        fake.stop()


def test_symlinks_that_stay_inside_the_layout_are_fine(run_regauth, config_dir, tmp_path):
    layout = str(tmp_path / "oci")
    image = make_oci_layout(layout, layer_sizes=[2000])
    digest = image["layers"][0]["digest"]
    blob = os.path.join(layout, "blobs", "sha256", digest[7:])
    os.makedirs(os.path.join(layout, "store"))
    os.rename(blob, os.path.join(layout, "store", "layer"))
    os.symlink("../../store/layer", blob)
    # The layout itself reached through a symlink is fine too.
    os.symlink(layout, str(tmp_path / "link"))
    fake = FakeRegistry().start()
    try:
        write_config(config_dir, {"auths": {fake.hostport: {"auth": auth_of("u", "p")}}})
        result = run_regauth(["--config", config_dir, "push", f"oci:{tmp_path / 'link'}",
                              f"{fake.hostport}/t/app:1"], timeout=60)
        assert result.returncode == 0, result.stderr
        assert digest in fake.blobs
    finally:
        fake.stop()


# ---- one sanitiser for everything that reaches a terminal -----------------------------------


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_ls_escapes_keys_and_usernames_from_config_json(run_regauth, config_dir):
    write_config(config_dir, {"auths": {
        "evil\u001b]0;pwned\u0007.example": {"auth": b64(b"ann\x1b[2J\xc2\x9b31m:pw")},
        "bidi.example": {"auth": b64("user\u202egnp.exe\u2066:pw".encode())},
        "bad-utf8.example": {"auth": b64(b"\xff\xfebob:pw")},
    }})
    result = run_regauth(["--config", config_dir, "ls"])
    assert result.returncode == 0, result.stderr
    assert raw_bytes_absent(result.stdout) and raw_bytes_absent(result.stderr)
    assert "evil\\x1b]0;pwned\\x07.example" in result.stdout
    assert "ann\\x1b[2J\\u009b31m" in result.stdout
    assert "user\\u202egnp.exe\\u2066" in result.stdout
    assert "\\xff\\xfebob" in result.stdout

    listed = run_regauth(["--config", config_dir, "ls", "--format", "json"])
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.isascii()  # every non-ASCII character as \uXXXX
    users = {e["registry"]: e["username"] for e in json.loads(listed.stdout)}
    assert users["bidi.example"] == "user\u202egnp.exe\u2066"
    assert users["bad-utf8.example"] == "\ufffd\ufffdbob"  # replaced, never an internal error
    assert users["evil\u001b]0;pwned\u0007.example"] == "ann\x1b[2J\x9b31m"


def test_helper_list_is_escaped(run_regauth, config_dir, stub_bin):
    make_helper(stub_bin, "loud", r"""read input
case "$1" in
  list) printf '{"r.example\\u001b[2J":"eve\\u202e\\u0007", "s.example":"sam"}' ;;
  *) echo "credentials not found in native keychain"; exit 1 ;;
esac
""")
    write_config(config_dir, {"credsStore": "loud"})
    result = run_regauth(["--config", config_dir, "ls"], env=with_stub_path(stub_bin))
    assert result.returncode == 0, result.stderr
    assert raw_bytes_absent(result.stdout)
    assert "r.example\\x1b[2J" in result.stdout and "eve\\u202e\\x07" in result.stdout
    assert "s.example" in result.stdout

    dry = run_regauth(["--config", config_dir, "logout", "--all", "--dry-run"],
                      env=with_stub_path(stub_bin))
    assert raw_bytes_absent(dry.stdout + dry.stderr)


def test_logout_all_escapes_keys(run_regauth, config_dir):
    write_config(config_dir, {"auths": {"a\u001b[2J.example": {"auth": auth_of("a", "b")}}})
    result = run_regauth(["--config", config_dir, "logout", "--all"])
    assert raw_bytes_absent(result.stdout + result.stderr)
    assert "a\\x1b[2J.example" in result.stdout
    json_result = run_regauth(["--config", config_dir, "logout", "--all", "--format", "json"])
    assert json_result.returncode == 0 and json.loads(json_result.stdout) == []


def accept_any_basic(extra_headers=()):
    def route(request):
        if request.headers.get("authorization", "").startswith("Basic "):
            return Reply(200, [("Docker-Distribution-Api-Version", "registry/2.0"),
                               *extra_headers])
        return Reply(401, [("WWW-Authenticate", 'Basic realm="test"'), *extra_headers])
    return route


def test_login_with_invalid_utf8_username_stores_and_prints_json(run_regauth, config_dir):
    server = FixtureServer(accept_any_basic()).start()
    host = server.hostport
    try:
        username = "\udcff\udcfebob\u001b]0;x\u0007"  # bytes ff fe: invalid UTF-8, via argv
        result = run_regauth(["--config", config_dir, "login", "-u", username,
                              "--password-stdin", "--format", "json", server.hostport],
                             input="pw\n")
    finally:
        server.stop()
    assert result.returncode == 0, result.stderr
    assert result.stdout.isascii()
    doc = json.loads(result.stdout)
    assert doc["username"] == "\ufffd\ufffdbob\x1b]0;x\x07"
    stored = read_config(config_dir)["auths"][host]["auth"]
    assert base64.b64decode(stored) == b"\xff\xfebob\x1b]0;x\x07:pw"


def test_debug_response_headers_are_escaped(run_regauth, config_dir):
    hostile = ("X-Evil", "a\x1b]0;pwned\x07b\x9b2J\xe2\x80\xae")  # latin-1 on the wire
    server = FixtureServer(accept_any_basic([hostile])).start()
    try:
        result = run_regauth(["--config", config_dir, "--debug", "login", "-u", "u",
                              "--password-stdin", server.hostport], input="pw\n")
    finally:
        server.stop()
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr
    assert "X-Evil: a\\x1b]0;pwned\\x07b" in result.stderr
    assert raw_bytes_absent(result.stdout)


def test_registry_message_with_bidi_override_is_escaped(run_regauth, config_dir):
    def route(request):
        return Reply(403, [("Content-Type", "application/json")], json.dumps(
            {"errors": [{"code": "DENIED", "message": "go to \u202egro.live\u202c now\u001b[2J"}]}
        ).encode())
    server = FixtureServer(route).start()
    try:
        result = run_regauth(["--config", config_dir, "login", "-u", "u", "--password-stdin",
                              server.hostport], input="pw\n")
    finally:
        server.stop()
    assert result.returncode == 6, result.stderr
    assert raw_bytes_absent(result.stderr)
    assert "\\u202egro.live\\u202c now\\x1b[2J" in result.stderr
    assert not os.path.exists(config_path(config_dir))


def test_push_check_escapes_the_username_and_writes_valid_json(run_regauth, config_dir):
    fake = FakeRegistry().start()
    try:
        write_config(config_dir, {"auths": {fake.hostport: {
            "auth": b64(b"u\x1b]0;t\x07\xe2\x80\xae\xff:p")}}})
        target = f"{fake.hostport}/t/app:1"
        result = run_regauth(["--config", config_dir, "push", "--check", "oci:/x", target])
        assert result.returncode == 0, result.stderr
        assert raw_bytes_absent(result.stdout + result.stderr)
        assert "as u\\x1b]0;t\\x07\\u202e\\xff" in result.stdout
        result = run_regauth(["--config", config_dir, "push", "--check", "--format", "json",
                              "oci:/x", target])
        assert result.returncode == 0, result.stderr
        assert result.stdout.isascii()
        events = [json.loads(line) for line in result.stdout.splitlines()]
        assert events[-1]["event"] == "check"
        assert events[-1]["username"] == "u\x1b]0;t\x07\u202e\ufffd"
    finally:
        fake.stop()


def hostile_header_registry(header: str, value: str) -> FakeRegistry:
    """A FakeRegistry whose manifest PUT answers with `header: value`."""
    fake = FakeRegistry()
    plain = fake.route

    def route(request):
        reply = plain(request)
        if request.method == "PUT" and "/manifests/" in request.path:
            reply.headers = [(header, value)]
        return reply
    fake.server.route = route
    return fake.start()


@pytest.mark.parametrize("value", ["sha256:\xff\xfe", "sha256:abc\x1b[2J", "\xe2\x80\xaesha256:1"])
def test_invalid_bytes_in_docker_content_digest_are_a_protocol_error(run_regauth, config_dir,
                                                                     tmp_path, value):
    layout = str(tmp_path / "oci")
    make_oci_layout(layout, layer_sizes=[1000])
    fake = hostile_header_registry("Docker-Content-Digest", value)
    try:
        write_config(config_dir, {"auths": {fake.hostport: {"auth": auth_of("u", "p")}}})
        for extra in ([], ["--format", "json"]):
            result = run_regauth(["--config", config_dir, "push", *extra, f"oci:{layout}",
                                  f"{fake.hostport}/t/app:1"], timeout=60)
            assert result.returncode == 9, result.stderr
            assert "Docker-Content-Digest header is not a digest" in result.stderr
            assert raw_bytes_absent(result.stdout + result.stderr)
            assert "internal error" not in result.stderr
    finally:
        fake.stop()


def test_invalid_utf8_in_location_is_a_protocol_error(run_regauth, config_dir, tmp_path):
    layout = str(tmp_path / "oci")
    make_oci_layout(layout, layer_sizes=[1000])
    fake = FakeRegistry()
    plain = fake.route

    def route(request):
        reply = plain(request)
        if request.method == "POST":
            reply.headers = [("Location", "/v2/upload/\xff\xfe?x=1"), ("Range", "0-0")]
        return reply
    fake.server.route = route
    fake.start()
    try:
        write_config(config_dir, {"auths": {fake.hostport: {"auth": auth_of("u", "p")}}})
        result = run_regauth(["--config", config_dir, "push", "--format", "json",
                              f"oci:{layout}", f"{fake.hostport}/t/app:1"], timeout=60)
        assert result.returncode == 9, result.stderr
        assert "Location header holds control bytes or invalid UTF-8" in result.stderr
        assert "\\xff\\xfe" in result.stderr
        assert not any(r.method in ("PUT", "PATCH") for r in fake.requests)
    finally:
        fake.stop()


# ---- repeated keys and many entries ---------------------------------------------------------

DUPLICATED = """{
\t"auths": {
\t\t"a.example": {"auth": "%s"}
\t},
\t"auths": {
\t\t"b.example": {"auth": "%s"},
\t\t"a.example": {"auth": "%s"}
\t}
}""" % (auth_of("ann", "old"), auth_of("bob", "pw"), auth_of("ann", "new"))


def test_repeated_keys_are_read_as_docker_does_and_warned_about(run_regauth, config_dir):
    path = write_config(config_dir, DUPLICATED)
    result = run_regauth(["--config", config_dir, "ls", "--format", "json"])
    assert result.returncode == 0, result.stderr
    assert {(e["registry"], e["username"]) for e in json.loads(result.stdout)} == {
        ("a.example", "ann"), ("b.example", "bob")}
    assert f'{path}: key "auths" appears on lines 2 and 5' in result.stderr
    assert f'{path}: key "auths"."a.example" appears on lines 3 and 7' in result.stderr
    push = run_regauth(["--config", config_dir, "push", "--check", "oci:/x", "127.0.0.1:9/t/a"])
    assert '"auths"."a.example" appears on lines 3 and 7' in push.stderr


def test_a_save_that_would_drop_a_repeated_value_is_refused(run_regauth, config_dir):
    path = write_config(config_dir, DUPLICATED)
    before = snapshot(path)
    for args, input in [(["logout", "b.example"], None),
                        (["logout", "--all"], None)]:
        result = run_regauth(["--config", config_dir, *args], input=input)
        assert result.returncode == 3, (args, result.stderr)
        assert (f'refusing to save {path}: key "auths"."a.example" is on lines 3 and 7'
                in result.stderr)
        assert snapshot(path) == before
    server = FixtureServer(accept_any_basic()).start()
    try:
        login = run_regauth(["--config", config_dir, "login", "-u", "c", "--password-stdin",
                             server.hostport], input="pw\n")
    finally:
        server.stop()
    assert login.returncode == 3, login.stderr
    assert snapshot(path) == before


def test_many_entries(run_regauth, config_dir):
    # Linear in entries: 10,000 take well under a second in a release build; the timeouts are
    # far above what a sanitizer build needs, and far below what the old quadratic reading took.
    entries = {f"r{i}.example:5000": {"auth": auth_of(f"user{i}", "pw")} for i in range(10_000)}
    write_config(config_dir, {"auths": entries})
    listed = run_regauth(["--config", config_dir, "ls"], timeout=60)
    assert listed.returncode == 0, listed.stderr
    assert len(listed.stdout.splitlines()) == 10_001
    out = run_regauth(["--config", config_dir, "logout", "r7.example:5000"], timeout=60)
    assert out.returncode == 0, out.stderr
    config = read_config(config_dir)
    assert len(config["auths"]) == 9_999 and "r7.example:5000" not in config["auths"]
