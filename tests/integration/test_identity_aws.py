"""Amazon ECR through the AWS credential chain, against loopback fakes of ECR (which checks
every SigV4 signature with botocore), STS, IMDSv2 and the container credentials endpoint, and a
real registry answering as 123456789012.dkr.ecr.us-east-1.amazonaws.com and public.ecr.aws.

Nothing here may leave loopback: every run sets AWS_EC2_METADATA_DISABLED=true unless it points
AWS_EC2_METADATA_SERVICE_ENDPOINT at the fake, and every AWS endpoint variable at a fake."""

from __future__ import annotations

import json
import os
import secrets
import stat
import sys

import pytest

from support.aws_fakes import (FakeContainerCredentials, FakeEcr, FakeImds, FakeSts,
                               new_key_pair)
from support.images import make_oci_layout

ECR_HOST = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
ROLE_ARN = "arn:aws:iam::123456789012:role/ci/pusher"


def no_secret(result, *values):
    for value in values:
        assert value not in result.stdout and value not in result.stderr, value


class Aws:
    """The fakes and a registry for one test, and the environment that points at them."""

    def __init__(self, start_cloud_registry, host=ECR_HOST, public=False):
        # bcrypt (the registry's htpasswd) reads 72 bytes: a shorter password is checked whole.
        self.password = secrets.token_urlsafe(48)
        self.ecr = FakeEcr(self.password, public=public)
        self.cloud = start_cloud_registry(host, auth="htpasswd", users={"AWS": self.password})
        self.host = host
        self.servers = [self.ecr]

    def env(self, **extra) -> dict:
        env = {"AWS_EC2_METADATA_DISABLED": "true",
               "AWS_ENDPOINT_URL_ECR": self.ecr.url,
               "AWS_ENDPOINT_URL_ECR_PUBLIC": self.ecr.url,
               "AWS_ENDPOINT_URL_STS": "http://127.0.0.1:9"}  # refused unless a test sets it
        env.update(extra)
        return env

    def keys(self, session_token: bool = True) -> tuple[dict, list[str]]:
        key_id, secret = new_key_pair("ASIA" if session_token else "AKIA")
        token = "IQoJb3JpZ2luX2VjE" + secrets.token_urlsafe(40) if session_token else None
        self.ecr.keys[key_id] = (secret, token)
        env = {"AWS_ACCESS_KEY_ID": key_id, "AWS_SECRET_ACCESS_KEY": secret}
        if token:
            env["AWS_SESSION_TOKEN"] = token
        return env, [secret] + ([token] if token else [])

    def stop(self):
        for server in self.servers:
            server.stop()


@pytest.fixture
def aws(start_cloud_registry):
    made = []

    def make(**kwargs) -> Aws:
        made.append(Aws(start_cloud_registry, **kwargs))
        return made[-1]

    yield make
    for one in made:
        one.stop()


def check(run_regauth, config_dir, aws_: Aws, env, *extra, repository="team/app"):
    return run_regauth(["--config", config_dir, *aws_.cloud.flags, *extra, "push", "--check",
                        "unused", f"{aws_.host}/{repository}"], env=env)


def test_environment_keys_log_in_push_and_store_nothing(run_regauth, aws, config_dir, tmp_path):
    fakes = aws()
    env_keys, secrets_ = fakes.keys(session_token=True)
    env = fakes.env(**env_keys)
    layout = str(tmp_path / "oci")
    make_oci_layout(layout, layer_sizes=[1000])

    logged_in = run_regauth(["--config", config_dir, *fakes.cloud.flags, "login", ECR_HOST],
                            env=env)
    assert logged_in.returncode == 0, logged_in.stderr
    assert "AWS environment keys ASIA…" in logged_in.stderr
    assert "nothing stored" in logged_in.stdout

    pushed = run_regauth(["--config", config_dir, *fakes.cloud.flags, "push", layout,
                          f"{ECR_HOST}/team/app:1"], env=env)
    assert pushed.returncode == 0, pushed.stderr
    assert "Using AWS environment keys" in pushed.stderr
    assert "team/app" in fakes.cloud.registry.repositories()
    assert not os.path.exists(os.path.join(config_dir, "config.json"))

    debug = check(run_regauth, config_dir, fakes, env, "--debug")
    assert debug.returncode == 0, debug.stderr
    assert "X-Amz-Security-Token: [redacted]" in debug.stderr
    assert "Authorization: AWS4-HMAC-SHA256 [redacted]" in debug.stderr
    for result in (logged_in, pushed, debug):
        no_secret(result, fakes.password, *secrets_)
    # libcurl signed the session token with the rest (the fake refuses it otherwise).
    assert all("x-amz-security-token" in signed for signed in fakes.ecr.signed_headers)
    assert len(fakes.ecr.signed_headers) == 3  # one token per command

    long_term, _ = fakes.keys(session_token=False)
    assert check(run_regauth, config_dir, fakes, fakes.env(**long_term)).returncode == 0


def test_a_wrong_signature_is_refused_with_aws_words(run_regauth, aws, config_dir):
    fakes = aws()
    env_keys, _ = fakes.keys()
    env_keys["AWS_SECRET_ACCESS_KEY"] = "not-the-secret"
    refused = check(run_regauth, config_dir, fakes, fakes.env(**env_keys))
    assert refused.returncode == 5, refused.stderr
    assert "AWS environment keys ASIA…" in refused.stderr
    assert "GetAuthorizationToken: InvalidSignatureException: The request signature" \
        in refused.stderr
    no_secret(refused, "not-the-secret")


@pytest.mark.parametrize("fault, code, words", [
    ("deny", 5, "GetAuthorizationToken: AccessDeniedException: User is not authorized"),
    ("expired", 5, "GetAuthorizationToken: the token expired at"),
    ("malformed", 9, "authorizationToken is not base64"),
    ("500", 7, "GetAuthorizationToken: ServerException: internal failure"),
    ("slow", 7, "GetAuthorizationToken: "),
])
def test_ecr_refusals_and_broken_answers(run_regauth, aws, config_dir, fault, code, words):
    fakes = aws()
    env_keys, secrets_ = fakes.keys()
    fakes.ecr.fault = fault
    result = check(run_regauth, config_dir, fakes, fakes.env(**env_keys), "--timeout", "2")
    assert result.returncode == code, result.stderr
    assert words in result.stderr
    assert result.stderr.count("\n") <= 2
    no_secret(result, *secrets_)


def test_ecr_public_gets_its_own_token(run_regauth, aws, config_dir):
    fakes = aws(host="public.ecr.aws", public=True)
    env_keys, secrets_ = fakes.keys()
    result = check(run_regauth, config_dir, fakes, fakes.env(**env_keys), repository="alias/app")
    assert result.returncode == 0, result.stderr
    assert fakes.ecr.calls() == 1
    no_secret(result, fakes.password, *secrets_)


def test_no_aws_identity_means_no_request_and_no_credentials(run_regauth, aws, config_dir):
    fakes = aws()
    result = check(run_regauth, config_dir, fakes, fakes.env())
    assert result.returncode == 5, result.stderr
    assert fakes.ecr.calls() == 0
    env_keys, _ = fakes.keys()
    off = check(run_regauth, config_dir, fakes, fakes.env(**env_keys), "--no-identity")
    assert off.returncode == 5, off.stderr
    assert fakes.ecr.calls() == 0
