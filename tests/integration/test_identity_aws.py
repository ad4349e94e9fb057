"""Amazon ECR through the AWS credential chain, against loopback fakes of ECR (which checks
every SigV4 signature with botocore), STS, IMDSv2 and the container credentials endpoint, and a
real registry answering as 123456789012.dkr.ecr.us-east-1.amazonaws.com and public.ecr.aws.

Nothing here may leave loopback: every run sets AWS_EC2_METADATA_DISABLED=true unless it points
AWS_EC2_METADATA_SERVICE_ENDPOINT at the fake, and every AWS endpoint variable at a fake."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import stat
import subprocess
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


# ---- the rest of the chain ---------------------------------------------------------------


def web_identity(fakes: Aws, tmp_path) -> tuple[FakeSts, dict, str]:
    jwt = "eyJhbGciOiJSUzI1NiJ9." + secrets.token_urlsafe(60) + "." + secrets.token_urlsafe(40)
    sts = FakeSts(fakes.ecr, jwt, ROLE_ARN)
    fakes.servers.append(sts)
    token_file = tmp_path / "web-identity-token"
    token_file.write_text(jwt + "\n")
    env = fakes.env(AWS_WEB_IDENTITY_TOKEN_FILE=str(token_file), AWS_ROLE_ARN=ROLE_ARN,
                    AWS_ENDPOINT_URL_STS=sts.url)
    return sts, env, jwt


def test_web_identity_pushes_without_secrets_in_output(run_regauth, aws, config_dir, tmp_path):
    fakes = aws()
    sts, env, jwt = web_identity(fakes, tmp_path)
    logged_in = run_regauth(["--config", config_dir, *fakes.cloud.flags, "login", ECR_HOST],
                            env=env)
    assert logged_in.returncode == 0, logged_in.stderr
    assert "AWS web identity, role pusher" in logged_in.stderr
    debug = check(run_regauth, config_dir, fakes, env, "--debug")
    assert debug.returncode == 0, debug.stderr
    assert "AWS web identity, role pusher" in debug.stderr
    assert len(sts.issued) == 2
    for result in (logged_in, debug):
        no_secret(result, jwt, fakes.password,
                  *[value for issued in sts.issued for value in issued[1:]])
    assert not os.path.exists(os.path.join(config_dir, "config.json"))


@pytest.mark.parametrize("fault, code, words", [
    ("deny", 5, "AWS web identity, role pusher: AssumeRoleWithWebIdentity: AccessDenied: "
                "Not authorized to perform sts:AssumeRoleWithWebIdentity"),
    ("malformed", 9, "AWS web identity, role pusher: AssumeRoleWithWebIdentity answer: "
                     "no Credentials element"),
    ("expired", 5, "AWS web identity, role pusher: the AWS credentials expired at"),
    ("slow", 7, "AWS web identity, role pusher: AssumeRoleWithWebIdentity: "),
])
def test_web_identity_refusals(run_regauth, aws, config_dir, tmp_path, fault, code, words):
    fakes = aws()
    sts, env, jwt = web_identity(fakes, tmp_path)
    sts.fault = fault
    result = check(run_regauth, config_dir, fakes, env, "--timeout", "2")
    assert result.returncode == code, result.stderr
    assert words in result.stderr
    assert fakes.ecr.calls() == 0
    no_secret(result, jwt)


def test_profile_files_and_credential_process(run_regauth, aws, config_dir, tmp_path):
    fakes = aws()
    static_id, static_secret = new_key_pair("AKIA")
    fakes.ecr.keys[static_id] = (static_secret, None)
    process_id, process_secret = new_key_pair()
    process_token = "IQoJprocess" + secrets.token_urlsafe(30)
    fakes.ecr.keys[process_id] = (process_secret, process_token)
    script = tmp_path / "get-creds"
    script.write_text("#!" + sys.executable + "\nimport json, sys\n"
                      "assert sys.argv[1:] == ['--role', 'ci']\n"
                      "print(json.dumps({'Version': 1, 'AccessKeyId': " + repr(process_id) +
                      ", 'SecretAccessKey': " + repr(process_secret) +
                      ", 'SessionToken': " + repr(process_token) +
                      ", 'Expiration': '2100-01-01T00:00:00Z'}))\n")
    script.chmod(stat.S_IRWXU)
    credentials = tmp_path / "credentials"
    credentials.write_text(f"[static]\naws_access_key_id = {static_id}\n"
                           f"aws_secret_access_key = {static_secret}\n")
    config = tmp_path / "aws-config"
    config.write_text("[default]\nregion = us-east-1\n"
                      f"[profile ci]\ncredential_process = {script} --role ci\n"
                      "[profile broken]\ncredential_process = false\n")
    env = fakes.env(AWS_SHARED_CREDENTIALS_FILE=str(credentials), AWS_CONFIG_FILE=str(config))

    static = check(run_regauth, config_dir, fakes, {**env, "AWS_PROFILE": "static"})
    assert static.returncode == 0, static.stderr
    assert "AWS profile static" in static.stdout + static.stderr
    process = check(run_regauth, config_dir, fakes, {**env, "AWS_PROFILE": "ci"}, "--debug")
    assert process.returncode == 0, process.stderr
    assert "AWS profile ci (credential_process)" in process.stdout + process.stderr
    for result in (static, process):
        no_secret(result, static_secret, process_secret, process_token, fakes.password)

    broken = check(run_regauth, config_dir, fakes, {**env, "AWS_PROFILE": "broken"})
    assert broken.returncode == 4, broken.stderr
    assert "AWS profile broken (credential_process): exited with status 1" in broken.stderr
    missing = check(run_regauth, config_dir, fakes, {**env, "AWS_PROFILE": "nope"})
    assert missing.returncode == 3, missing.stderr
    assert "AWS_PROFILE names the profile 'nope'" in missing.stderr
    config.write_text("[profile ci\n")
    malformed = check(run_regauth, config_dir, fakes, {**env, "AWS_PROFILE": "ci"})
    assert malformed.returncode == 3, malformed.stderr
    assert f"reading the AWS config file {config}: line 1: a section header without ']'" \
        in malformed.stderr


def test_container_credentials_with_a_token_file(run_regauth, aws, config_dir, tmp_path):
    fakes = aws()
    token = "eks-pod-identity-" + secrets.token_urlsafe(24)
    agent = FakeContainerCredentials(fakes.ecr, token)
    fakes.servers.append(agent)
    token_file = tmp_path / "eks-token"
    token_file.write_text(token)
    env = fakes.env(AWS_CONTAINER_CREDENTIALS_FULL_URI=agent.url,
                    AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=str(token_file))
    ok = check(run_regauth, config_dir, fakes, env, "--debug")
    assert ok.returncode == 0, ok.stderr
    assert "AWS container credentials" in ok.stderr
    no_secret(ok, token, fakes.password, *agent.issued[0][1:])

    wrong = check(run_regauth, config_dir, fakes,
                  {**fakes.env(AWS_CONTAINER_CREDENTIALS_FULL_URI=agent.url,
                               AWS_CONTAINER_AUTHORIZATION_TOKEN="wrong-token")})
    assert wrong.returncode == 5, wrong.stderr
    assert "AWS container credentials: GET http://127.0.0.1:" in wrong.stderr
    assert "AccessDeniedException: invalid authorization token" in wrong.stderr
    no_secret(wrong, "wrong-token")

    agent.fault = "malformed"
    malformed = check(run_regauth, config_dir, fakes, env)
    assert malformed.returncode == 9, malformed.stderr
    assert "AWS container credentials: credentials answer: not a JSON object" in malformed.stderr
    agent.fault = "slow"
    slow = check(run_regauth, config_dir, fakes, env)
    assert slow.returncode == 7, slow.stderr
    assert "AWS container credentials: " in slow.stderr

    elsewhere = check(run_regauth, config_dir, fakes,
                      fakes.env(AWS_CONTAINER_CREDENTIALS_FULL_URI="http://192.0.2.1/creds",
                                AWS_CONTAINER_AUTHORIZATION_TOKEN=token))
    assert elsewhere.returncode == 3, elsewhere.stderr
    assert "over http only loopback, 169.254.170.2, 169.254.170.23 and fd00:ec2::23" \
        in elsewhere.stderr


def test_instance_metadata_through_the_endpoint_variable(run_regauth, aws, config_dir):
    fakes = aws()
    imds = FakeImds(fakes.ecr)
    fakes.servers.append(imds)
    env = fakes.env(AWS_EC2_METADATA_SERVICE_ENDPOINT=imds.url)
    del env["AWS_EC2_METADATA_DISABLED"]
    ok = check(run_regauth, config_dir, fakes, env, "--debug")
    assert ok.returncode == 0, ok.stderr
    assert "AWS EC2 instance role instance-role" in ok.stderr
    no_secret(ok, imds.token, fakes.password, *imds.issued[0][1:])
    assert [r.method for r in imds.server.requests] == ["PUT", "GET", "GET"]

    off = check(run_regauth, config_dir, fakes, {**env, "AWS_EC2_METADATA_DISABLED": "true"})
    assert off.returncode == 5, off.stderr
    assert len(imds.server.requests) == 3

    # An instance without an IAM role (the role list answers 404, or names none) is no identity,
    # as for the AWS SDKs: the chain goes on, here to no credentials at all, as with IMDS off.
    for fault in ("no-role", "empty-role"):
        imds.fault = fault
        asked = len(imds.server.requests)
        no_role = check(run_regauth, config_dir, fakes, env)
        assert (no_role.returncode, no_role.stderr) == (off.returncode, off.stderr), fault
        assert "no credentials" in no_role.stderr
        assert [(r.method, r.path) for r in imds.server.requests[asked:]] == [
            ("PUT", "/latest/api/token"), ("GET", "/latest/meta-data/iam/security-credentials/")]
    imds.fault = "malformed"
    malformed = check(run_regauth, config_dir, fakes, env)
    assert malformed.returncode == 9, malformed.stderr
    assert "credentials answer: no usable access key id" in malformed.stderr
    imds.fault = "slow"
    slow = check(run_regauth, config_dir, fakes, env)
    assert slow.returncode == 7, slow.stderr
    assert "AWS EC2 instance role: GET /latest/meta-data/iam/security-credentials/" in slow.stderr


def test_a_token_that_ends_during_a_push_is_fetched_again(run_regauth, aws, config_dir, tmp_path):
    """The first ECR token ends within the margin regauth renews ahead of (30 s), and the
    registry refuses its password: the push succeeds only with the second token. No clock is
    waited on: the token's end is set where regauth already counts it as ending."""
    fakes = aws()
    env_keys, secrets_ = fakes.keys()
    env = fakes.env(**env_keys)
    ending = "ending-" + secrets.token_urlsafe(40)
    fakes.ecr.answers = [(ending, 20)]
    layout = str(tmp_path / "oci")
    make_oci_layout(layout, layer_sizes=[1000, 2000])

    pushed = run_regauth(["--config", config_dir, *fakes.cloud.flags, "push", layout,
                          f"{ECR_HOST}/team/renewed:1"], env=env)
    assert pushed.returncode == 0, pushed.stderr
    assert fakes.ecr.calls() == 2  # the first token, then its renewal; no more
    assert "team/renewed" in fakes.cloud.registry.repositories()

    # The renewal refused: the push stops with ECR's words, exit 5, and publishes nothing.
    fakes.ecr.answers = [(ending, 20), "deny"]
    refused = run_regauth(["--config", config_dir, *fakes.cloud.flags, "push", layout,
                           f"{ECR_HOST}/team/refused:1"], env=env)
    assert refused.returncode == 5, refused.stderr
    assert fakes.ecr.calls() == 4
    assert refused.stderr.count("regauth: error: ") == 1, refused.stderr
    assert "GetAuthorizationToken: AccessDeniedException: User is not authorized to perform: " \
           "ecr:GetAuthorizationToken" in refused.stderr
    assert "team/refused" not in fakes.cloud.registry.repositories()
    for result in (pushed, refused):
        no_secret(result, ending, fakes.password, *secrets_)


@pytest.mark.requires("strace")
def test_the_credential_helper_asks_the_identity_once(run_regauth, aws, config_dir, tmp_path):
    fakes = aws()
    env_keys, secrets_ = fakes.keys()

    def helper_get(env, strace_to=None):
        prefix = [shutil.which("strace"), "-f", "-qq", "-e", "trace=openat", "-o",
                  str(strace_to)] if strace_to else []
        full_env = {**run_regauth.base_env, **env}
        if strace_to:  # LeakSanitizer cannot run under ptrace; the rest of the suite checks leaks
            full_env["ASAN_OPTIONS"] = full_env.get("ASAN_OPTIONS", "") + ":detect_leaks=0"
        return subprocess.run([*prefix, run_regauth.binary, "--config", config_dir,
                               *fakes.cloud.flags, "credential-helper", "get"],
                              input=ECR_HOST, capture_output=True, text=True, timeout=60,
                              env=full_env, cwd=run_regauth.home)

    # An identity: one GetAuthorizationToken.
    got = helper_get(fakes.env(**env_keys))
    assert got.returncode == 0, got.stdout + got.stderr
    assert json.loads(got.stdout) == {"ServerURL": ECR_HOST, "Username": "AWS",
                                      "Secret": fakes.password}
    assert fakes.ecr.calls() == 1
    no_secret(got, *secrets_)

    # No identity (a profile without keys) and nothing stored: the chain reads the AWS config
    # file once, finds nothing, and the stores find nothing either.
    aws_config = tmp_path / "aws-config"
    aws_config.write_text("[default]\nregion = us-east-1\n")
    trace = tmp_path / "trace"
    got = helper_get(fakes.env(AWS_CONFIG_FILE=str(aws_config)), strace_to=trace)
    assert (got.returncode, got.stdout) == (1, "credentials not found in native keychain\n"), \
        got.stderr
    opened = [line for line in trace.read_text().splitlines() if str(aws_config) in line]
    assert len(opened) == 1, opened
    assert fakes.ecr.calls() == 1
