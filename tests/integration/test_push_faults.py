"""push against a scripted registry: odd Locations, odd PATCH answers, 401/429/resets mid-upload."""

from __future__ import annotations

import json
import os
import time

import pytest

from helpers import auth_of, write_config
from support.fake_registry import FakeRegistry
from support.fixture_server import FixtureServer, Reply
from support.images import make_oci_layout

CHUNKED = ["--chunk-threshold", "0.05", "--chunk-size", "0.02"]  # ~20 KiB chunks above 50 KiB


@pytest.fixture
def fake(config_dir):
    registry = FakeRegistry().start()
    write_config(config_dir, {"auths": {registry.hostport: {"auth": auth_of("u", "p")}}})
    yield registry
    registry.stop()


@pytest.fixture
def image(tmp_path):
    make_oci_layout(str(tmp_path / "oci"), layer_sizes=[150_000, 3_000])
    return str(tmp_path / "oci")


def push(run_regauth, config_dir, image, fake, *extra):
    return run_regauth(["--config", config_dir, "--timeout", "10", "push", *extra, image,
                        f"{fake.hostport}/t/app:1"], timeout=120)


def uploaded_ok(fake, result):
    assert result.returncode == 0, result.stderr
    assert "1" in fake.manifests


@pytest.mark.parametrize("style", ["relative", "absolute"])
def test_upload_location_forms(run_regauth, config_dir, image, fake, style):
    fake.location_style = style
    uploaded_ok(fake, push(run_regauth, config_dir, image, fake))
    uploaded_ok(fake, push(run_regauth, config_dir, image, fake, *CHUNKED))


def test_location_on_another_origin_gets_no_authorization(run_regauth, config_dir, image, fake):
    other = FixtureServer(lambda request: fake.serve_upload(request)).start()
    try:
        fake.location_style = "other-origin"
        fake.upload_server = other
        uploaded_ok(fake, push(run_regauth, config_dir, image, fake, *CHUNKED))
        assert other.requests, "the uploads went to the other origin"
        assert all("authorization" not in r.headers for r in other.requests)
    finally:
        other.stop()


def test_location_with_control_bytes_is_refused(run_regauth, config_dir, image, fake):
    fake.location_style = "control"
    result = push(run_regauth, config_dir, image, fake)
    assert result.returncode == 9, result.stderr
    assert not any(r.method in ("PUT", "PATCH") for r in fake.requests)


@pytest.mark.parametrize("status", [201, 204])
def test_patch_answered_201_or_204(run_regauth, config_dir, image, fake, status):
    fake.patch_status = status
    uploaded_ok(fake, push(run_regauth, config_dir, image, fake, *CHUNKED))


def test_401_on_a_patch_renews_the_token_once_and_resumes(run_regauth, config_dir, image, fake):
    # The third PATCH finds every token revoked (as when a token expires mid-upload).
    served = fake._serve
    patches = {"count": 0}

    def serve(request):
        if request.method == "PATCH":
            patches["count"] += 1
            if patches["count"] == 3:
                fake.valid_tokens.clear()
                return fake._challenge("invalid_token")
        return served(request)

    fake._serve = serve
    uploaded_ok(fake, push(run_regauth, config_dir, image, fake, *CHUNKED))
    assert fake.token_count == 2
    assert len(fake.blobs) == 3  # config and two layers


def test_429_with_retry_after_is_honoured(run_regauth, config_dir, image, fake):
    fake.inject("PUT", Reply(429, [("Retry-After", "1")], b'{"errors":[{"code":"TOOMANYREQUESTS"}]}'))
    uploaded_ok(fake, push(run_regauth, config_dir, image, fake))
    puts = [r for r in fake.requests if r.method == "PUT"]
    # Three blobs and the manifest, and the refused PUT once more.
    assert len(puts) == 5
    refused = puts[0]
    digest = refused.query["digest"]
    retry = next(r for r in puts[1:] if r.query.get("digest") == digest)
    # The retry waited at least what Retry-After asked (a lower bound on a protocol delay; the
    # refused request arrived before its answer was sent, so the gap can only be longer).
    assert retry.arrived - refused.arrived >= 1.0, retry.arrived - refused.arrived
    assert retry.path != refused.path  # in a fresh upload session


@pytest.mark.parametrize("flags", [CHUNKED, ["--chunk-threshold", "0.05"]],
                         ids=["chunks", "one-streamed-patch"])
def test_dropped_connection_mid_blob_resumes(run_regauth, config_dir, image, fake, flags):
    fake.inject("PATCH", Reply(reset=True))
    uploaded_ok(fake, push(run_regauth, config_dir, image, fake, *flags))
    assert any(r.method == "GET" and r.path.startswith("/v2/upload/") for r in fake.requests)


def test_server_error_is_retried_a_bounded_number_of_times(run_regauth, config_dir, image, fake):
    fake.inject("PUT", *[Reply(503)] * 50)
    result = push(run_regauth, config_dir, image, fake)
    assert result.returncode == 7, result.stderr
    # Three blobs on three jobs at once, each given exactly four attempts (a fresh upload
    # session each time), then the push gives up without putting the manifest.
    puts = [r for r in fake.requests if r.method == "PUT"]
    assert len(puts) == 3 * 4
    assert len({r.path for r in puts}) == len(puts)
    assert "1" not in fake.manifests


def test_401_forever_ends_without_a_loop(run_regauth, config_dir, image, fake):
    fake.always_401 = True
    result = push(run_regauth, config_dir, image, fake)
    assert result.returncode == 5, result.stderr
    assert fake.token_count <= 2
    assert not any(r.method in ("PUT", "PATCH") for r in fake.requests)


def test_a_registry_stalling_on_the_manifest_lookup_holds_the_push_up_10_s_at_most(
        run_regauth, config_dir, image, fake):
    # The lookup of the tag (the first HEAD: it runs beside the gate's POST when this machine
    # pushed the manifest there before, as the cache says here) only saves work, so it gives up
    # after 10 s even though --timeout allows a request 60 s.
    fake.inject("HEAD", Reply(200, stall=28))
    top = json.load(open(os.path.join(image, "index.json")))["manifests"][0]["digest"]
    cache = os.path.join(run_regauth.home, "cache", "regauth")
    os.makedirs(cache)
    with open(os.path.join(cache, "blob-info.json"), "w") as out:
        json.dump({"version": 1, "locations": [f"{fake.hostport}/t/app@{top}"]}, out)
    started = time.monotonic()
    result = run_regauth(["--config", config_dir, "push", image, f"{fake.hostport}/t/app:1"],
                         env={"XDG_CACHE_HOME": os.path.join(run_regauth.home, "cache")},
                         timeout=120)
    took = time.monotonic() - started
    uploaded_ok(fake, result)
    assert 9 < took < 20, took
    heads = [r.path for r in fake.requests if r.method == "HEAD"]
    assert heads[0] == "/v2/t/app/manifests/1"


def test_a_token_dying_before_an_upload_session_is_renewed_once(run_regauth, config_dir, image,
                                                                fake):
    # The gate's POST is answered normally; the tokens die at the next one, a job's own
    # upload session: that POST gets a 401, the token is renewed, the push goes on.
    fake.inject("POST", None, "revoke")
    tokens_before = fake.token_count
    result = push(run_regauth, config_dir, image, fake)
    uploaded_ok(fake, result)
    assert fake.token_count - tokens_before == 2  # the first token, then one renewal
    assert [r.method for r in fake.requests].count("POST") >= 3  # gate, refused, renewed


def test_a_registry_that_never_mounts_gets_large_blobs_once(run_regauth, config_dir, tmp_path,
                                                            fake):
    # The fake answers every mount with 202 (a new upload session), as registries without
    # cross-repository mounts do: small blobs are then sent again, large ones are asked about
    # with a HEAD first and never sent twice.
    image = make_oci_layout(str(tmp_path / "big"), layer_sizes=[9 << 20, 2_000])
    first = push(run_regauth, config_dir, str(tmp_path / "big"), fake)
    uploaded_ok(fake, first)
    big = image["layers"][0]["digest"]
    seen = len(fake.requests)
    again = run_regauth(["--config", config_dir, "push", str(tmp_path / "big"),
                         f"{fake.hostport}/t/app:2"], timeout=120)
    assert again.returncode == 0, again.stderr
    assert "2" in fake.manifests
    second = fake.requests[seen:]
    assert [r for r in second if r.method == "HEAD" and r.path.endswith(big)]
    sent = sum(len(r.body) for r in second if r.method in ("PUT", "PATCH"))
    assert sent < 1 << 20  # the 9 MiB layer was not sent again


def test_a_registry_refusing_mount_requests_gets_plain_uploads(run_regauth, config_dir, image,
                                                               fake):
    served = fake._serve

    def serve(request):
        if request.method == "POST" and "mount" in request.query:
            return Reply(400, [], b'{"errors":[{"code":"UNSUPPORTED","message":"no mounts"}]}')
        return served(request)

    fake._serve = serve
    uploaded_ok(fake, push(run_regauth, config_dir, image, fake))
    posts = [r for r in fake.requests if r.method == "POST"]
    assert [r for r in posts if "mount" not in r.query]  # the fall-back upload sessions
    assert len(fake.blobs) == 3
