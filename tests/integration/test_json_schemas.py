"""Every line that `--format json` prints validates against its schema in docs/schemas
(docs/json-events.md): a real login, push (with byte progress), re-push, mount, --check,
refused push, ls and logout against a registry with token auth."""

from __future__ import annotations

import json
import os

import pytest

from conftest import missing_prerequisite
from helpers import login
from support import ALICE, BOB
from support.images import make_docker_archive, make_oci_layout

try:
    import jsonschema  # python3-jsonschema (scripts/install-deps)
except ImportError:
    jsonschema = None

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCHEMAS = os.path.join(ROOT, "docs", "schemas")


def load(relative: str):
    with open(os.path.join(SCHEMAS, relative), encoding="utf-8") as f:
        schema = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def check_line(line: str, relative: str) -> dict:
    document = json.loads(line)
    errors = sorted(load(relative).iter_errors(document), key=lambda e: list(e.path))
    assert not errors, f"{relative}: {line}: {errors[0].message} at {list(errors[0].path)}"
    return document


def check_events(stdout: str, seen: set) -> list:
    """Validates each line of a push against push/<event>.json; returns the event names."""
    lines = stdout.splitlines()
    assert lines, "no JSON line printed"
    names = []
    for line in lines:
        name = json.loads(line).get("event", "")
        assert os.path.exists(os.path.join(SCHEMAS, "push", f"{name}.json")), \
            f"event {name!r} has no schema (docs/schemas/push/{name}.json): {line}"
        check_line(line, f"push/{name}.json")
        names.append(name)
        seen.add(name)
    return names


@pytest.mark.requires("docker-registry")
def test_every_json_line_matches_its_schema(run_regauth, token_registry, config_dir, tmp_path):
    if jsonschema is None:
        missing_prerequisite("python3-jsonschema is not installed (scripts/install-deps)")
    host = token_registry.hostport
    cfg = ["--config", config_dir]
    logged_in = run_regauth([*cfg, "login", "-u", ALICE[0], "--password-stdin", "--format",
                             "json", host], input=ALICE[1] + "\n")
    assert logged_in.returncode == 0, logged_in.stderr
    check_line(logged_in.stdout.strip(), "login.json")

    # A layer above 256 KiB gives blob_progress events.
    make_oci_layout(str(tmp_path / "oci"), layer_sizes=[1_000_000, 2000], tag="1")
    seen: set = set()
    push = [*cfg, "push", "--format", "json", f"oci:{tmp_path / 'oci'}:1"]
    first = run_regauth([*push, f"{host}/schema/app:1"], timeout=120)
    assert first.returncode == 0, first.stderr
    events = check_events(first.stdout, seen)
    assert events[0] == "gate" and events[-1] == "done"
    progress = [json.loads(line) for line in first.stdout.splitlines()
                if json.loads(line)["event"] == "blob_progress"]
    assert 1 <= len(progress) <= 1_000_000 // (256 * 1024), progress
    assert all(0 < p["bytes"] < p["size"] for p in progress)

    again = run_regauth([*push, f"{host}/schema/app:1"], timeout=120)
    assert again.returncode == 0, again.stderr
    assert "manifest_present" in check_events(again.stdout, seen)

    mounted = run_regauth([*push, "--mount-from", "schema/app", f"{host}/schema/other:1"],
                          timeout=120)
    assert mounted.returncode == 0, mounted.stderr
    assert "blob_mounted" in check_events(mounted.stdout, seen)

    # A docker-archive's uncompressed layer goes out compressed: a `compressed` event.
    make_docker_archive(str(tmp_path / "image.tar"), layer_sizes=[2000], tag="app:1")
    archived = run_regauth([*cfg, "push", "--format", "json", f"docker-archive:{tmp_path}/image.tar",
                            f"{host}/schema/archived:1"], timeout=120)
    assert archived.returncode == 0, archived.stderr
    assert "compressed" in check_events(archived.stdout, seen)

    checked = run_regauth([*push, "--check", f"{host}/schema/app:2"], timeout=120)
    assert checked.returncode == 0, checked.stderr
    assert check_events(checked.stdout, seen) == ["gate", "check"]

    bob_config = tmp_path / "bob"
    bob_config.mkdir()
    assert login(run_regauth, str(bob_config), host, *BOB).returncode == 0
    refused = run_regauth(["--config", str(bob_config), *push[2:], f"{host}/schema/app:3"],
                          timeout=120)
    assert refused.returncode == 6, refused.stderr
    assert check_events(refused.stdout, seen)[-1] == "error"

    listed = run_regauth([*cfg, "ls", "--format", "json"])
    assert listed.returncode == 0, listed.stderr
    assert [e["registry"] for e in check_line(listed.stdout.strip(), "ls.json")] == [host]

    one = run_regauth([*cfg, "logout", "--format", "json", host])
    assert one.returncode == 0, one.stderr
    assert check_line(one.stdout.strip(), "logout.json")["removed_from"]
    everything = run_regauth([*cfg, "logout", "--all", "--format", "json"])
    assert everything.returncode == 0, everything.stderr
    assert isinstance(check_line(everything.stdout.strip(), "logout.json"), list)

    # Every push event with a schema was printed and checked at least once.
    documented = {name[:-5] for name in os.listdir(os.path.join(SCHEMAS, "push"))}
    assert seen == documented, documented - seen
