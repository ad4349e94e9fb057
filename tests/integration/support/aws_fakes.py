"""Loopback fakes of the AWS endpoints regauth's ECR source talks to: the ECR API
(GetAuthorizationToken, private and Public), STS AssumeRoleWithWebIdentity, EC2 IMDSv2 and the
ECS/EKS container credentials endpoint.  Each is a FixtureServer on 127.0.0.1.

The ECR fake checks every request's SigV4 signature with an implementation independent of
regauth's (libcurl's): botocore's SigV4Auth, recomputed over the headers the request itself
lists as signed, and refuses a bad one with InvalidSignatureException, as AWS does.  Each fake
can be told to misbehave (`fault`): refuse, stall, answer garbage or an expired token."""

from __future__ import annotations

import base64
import json
import re
import secrets
import time
import urllib.parse
from datetime import datetime, timedelta, timezone

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from .fixture_server import FixtureServer, Reply, Request

ECR_TARGET = "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken"
ECR_PUBLIC_TARGET = "SpencerFrontendService.GetAuthorizationToken"
AUTHORIZATION = re.compile(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/"
                           r"aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$")


def iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def in_an_hour() -> str:
    return iso(datetime.now(timezone.utc) + timedelta(hours=1))


def new_key_pair(prefix: str = "ASIA") -> tuple[str, str]:
    return prefix + secrets.token_hex(8).upper(), secrets.token_urlsafe(30)


def aws_json_error(status: int, code: str, message: str) -> Reply:
    return Reply(status, [("Content-Type", "application/x-amz-json-1.1")],
                 json.dumps({"__type": code, "message": message}).encode())


class FakeEcr:
    """GetAuthorizationToken.  `keys` maps access key id -> (secret key, session token or
    None); `password` is what a correctly signed request gets (as base64 "AWS:<password>")."""

    def __init__(self, password: str, region: str = "us-east-1", public: bool = False):
        self.password = password
        self.region = region
        self.public = public
        self.keys: dict[str, tuple[str, str | None]] = {}
        self.fault: str | None = None  # deny, expired, malformed, slow, 500
        # The next answers, one per correctly signed request, before `fault` and `password`
        # apply again: (password, seconds until expiresAt), or a fault's name.
        self.answers: list[tuple[str, float] | str] = []
        self.signed_headers: list[list[str]] = []  # what each accepted request signed
        self.server = FixtureServer(self.route).start()

    @property
    def url(self) -> str:
        return self.server.url

    def calls(self) -> int:
        return len(self.server.requests)

    def verify(self, request: Request) -> str | None:
        """None when the signature is right, else why not."""
        match = AUTHORIZATION.match(request.headers.get("authorization", ""))
        if not match:
            return "missing or malformed Authorization"
        key_id, day, region, service, signed, signature = match.groups()
        service_expected = "ecr-public" if self.public else "ecr"
        if region != self.region or service != service_expected:
            return f"credential scope {region}/{service}"
        if key_id not in self.keys:
            return "unknown access key"
        secret, token = self.keys[key_id]
        names = signed.split(";")
        for required in ("host", "x-amz-date", "x-amz-target", "content-type"):
            if required not in names:
                return f"{required} not signed"
        if token is not None:
            if request.headers.get("x-amz-security-token") != token:
                return "wrong or missing session token"
            if "x-amz-security-token" not in names:
                return "x-amz-security-token not signed"
        amz_date = request.headers.get("x-amz-date", "")
        if not amz_date.startswith(day):
            return "date mismatch"
        headers = {name: request.headers.get(name, "") for name in names}
        aws_request = AWSRequest(method=request.method,
                                 url=f"http://{headers['host']}{request.path}",
                                 data=request.body, headers=headers)
        aws_request.context["timestamp"] = amz_date
        auth = SigV4Auth(Credentials(key_id, secret, token), service, region)
        recomputed = sorted(auth.headers_to_sign(aws_request).keys())
        if recomputed != sorted(names):
            return f"signed headers {';'.join(sorted(names))}, expected {';'.join(recomputed)}"
        expected = auth.signature(auth.string_to_sign(aws_request,
                                                      auth.canonical_request(aws_request)),
                                  aws_request)
        return None if secrets.compare_digest(expected, signature) else "signature mismatch"

    def route(self, request: Request) -> Reply:
        target = ECR_PUBLIC_TARGET if self.public else ECR_TARGET
        if request.method != "POST" or request.headers.get("x-amz-target") != target:
            return aws_json_error(400, "UnknownOperationException", "unknown operation")
        if self.fault == "slow":
            return Reply(stall=10)
        problem = self.verify(request)
        if problem:
            return aws_json_error(403, "InvalidSignatureException",
                                  f"The request signature we calculated does not match ({problem})")
        self.signed_headers.append(AUTHORIZATION.match(
            request.headers["authorization"]).group(5).split(";"))
        fault, password, lifetime = self.fault, self.password, 12 * 3600.0
        if self.answers:
            answer = self.answers.pop(0)
            if isinstance(answer, str):
                fault = answer
            else:
                fault, (password, lifetime) = None, answer
        if fault == "deny":
            return aws_json_error(400, "AccessDeniedException",
                                  "User is not authorized to perform: ecr:GetAuthorizationToken")
        if fault == "500":
            return aws_json_error(500, "ServerException", "internal failure")
        if fault == "malformed":
            return Reply(200, [("Content-Type", "application/x-amz-json-1.1")],
                         b'{"authorizationData": [{"authorizationToken": "%%%"}]}')
        expires = time.time() + (-60 if fault == "expired" else lifetime)
        entry = {"authorizationToken": base64.b64encode(f"AWS:{password}".encode()).decode(),
                 "expiresAt": expires}
        if not self.public:
            entry["proxyEndpoint"] = "https://example"
        body = {"authorizationData": entry if self.public else [entry]}
        return Reply(200, [("Content-Type", "application/x-amz-json-1.1")],
                     json.dumps(body).encode())

    def stop(self) -> None:
        self.server.stop()


class FakeSts:
    """AssumeRoleWithWebIdentity: takes `jwt` for `role_arn`, answers fresh keys it also
    registers with `ecr` (as IAM would make them valid)."""

    def __init__(self, ecr: FakeEcr, jwt: str, role_arn: str):
        self.ecr = ecr
        self.jwt = jwt
        self.role_arn = role_arn
        self.fault: str | None = None  # deny, malformed, slow, expired
        self.issued: list[tuple[str, str, str]] = []  # (key id, secret, session token)
        self.server = FixtureServer(self.route).start()

    @property
    def url(self) -> str:
        return self.server.url

    def route(self, request: Request) -> Reply:
        form = urllib.parse.parse_qs(request.body.decode(), keep_blank_values=True)
        field = lambda name: form.get(name, [""])[0]  # noqa: E731
        if request.headers.get("authorization"):
            return Reply(400, body=b"AssumeRoleWithWebIdentity is unsigned")
        if field("Action") != "AssumeRoleWithWebIdentity" or field("Version") != "2011-06-15":
            return Reply(400, body=b"<ErrorResponse><Error><Code>InvalidAction</Code>"
                                   b"</Error></ErrorResponse>")
        if self.fault == "slow":
            return Reply(stall=10)
        if self.fault == "deny" or field("WebIdentityToken") != self.jwt or \
                field("RoleArn") != self.role_arn or not field("RoleSessionName"):
            return Reply(403, [("Content-Type", "text/xml")],
                         b"<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>"
                         b"<Message>Not authorized to perform sts:AssumeRoleWithWebIdentity"
                         b"</Message></Error></ErrorResponse>")
        if self.fault == "malformed":
            return Reply(200, [("Content-Type", "text/xml")], b"<html>maintenance</html>")
        key_id, secret = new_key_pair()
        token = "FwoGZXIvYXdz" + secrets.token_urlsafe(60)
        self.ecr.keys[key_id] = (secret, token)
        self.issued.append((key_id, secret, token))
        expiration = iso(datetime.now(timezone.utc) - timedelta(minutes=1)) \
            if self.fault == "expired" else in_an_hour()
        xml = ("<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/"
               "2011-06-15/\"><AssumeRoleWithWebIdentityResult><Credentials>"
               f"<AccessKeyId>{key_id}</AccessKeyId><SecretAccessKey>{secret}</SecretAccessKey>"
               f"<SessionToken>{token}</SessionToken><Expiration>{expiration}</Expiration>"
               "</Credentials><AssumedRoleUser><Arn>" + self.role_arn +
               "</Arn></AssumedRoleUser></AssumeRoleWithWebIdentityResult>"
               "</AssumeRoleWithWebIdentityResponse>")
        return Reply(200, [("Content-Type", "text/xml")], xml.encode())

    def stop(self) -> None:
        self.server.stop()


def credentials_json(ecr: FakeEcr, imds: bool) -> tuple[bytes, tuple[str, str, str]]:
    key_id, secret = new_key_pair()
    token = "IQoJb3JpZ2luX2Vj" + secrets.token_urlsafe(40)
    ecr.keys[key_id] = (secret, token)
    body = {"AccessKeyId": key_id, "SecretAccessKey": secret, "Token": token,
            "Expiration": in_an_hour()}
    if imds:
        body = {"Code": "Success", "Type": "AWS-HMAC", **body}
    return json.dumps(body).encode(), (key_id, secret, token)


class FakeImds:
    """IMDSv2: PUT /latest/api/token, then the role list and the role's credentials, each
    demanding the session token."""

    def __init__(self, ecr: FakeEcr, role: str = "instance-role"):
        self.ecr = ecr
        self.role = role
        self.token = secrets.token_urlsafe(32)
        self.fault: str | None = None  # slow, malformed, no-role (404), empty-role (no name)
        self.issued: list[tuple[str, str, str]] = []
        self.server = FixtureServer(self.route).start()

    @property
    def url(self) -> str:
        return self.server.url

    def route(self, request: Request) -> Reply:
        if request.method == "PUT" and request.path == "/latest/api/token":
            if not request.headers.get("x-aws-ec2-metadata-token-ttl-seconds", "").isdigit():
                return Reply(400)
            return Reply(200, body=self.token.encode())
        if request.headers.get("x-aws-ec2-metadata-token") != self.token:
            return Reply(401)
        prefix = "/latest/meta-data/iam/security-credentials/"
        if self.fault == "slow":
            return Reply(stall=10)
        if request.path == prefix:
            if self.fault == "no-role":
                return Reply(404)
            return Reply(200, body=b"" if self.fault == "empty-role" else self.role.encode())
        if request.path == prefix + self.role:
            if self.fault == "malformed":
                return Reply(200, body=b'{"Code": "Success", "AccessKeyId": 5}')
            body, issued = credentials_json(self.ecr, imds=True)
            self.issued.append(issued)
            return Reply(200, [("Content-Type", "text/plain")], body)
        return Reply(404)

    def stop(self) -> None:
        self.server.stop()


class FakeContainerCredentials:
    """The ECS agent / EKS Pod Identity agent: GET `path` with Authorization `token`."""

    def __init__(self, ecr: FakeEcr, token: str, path: str = "/v1/credentials"):
        self.ecr = ecr
        self.token = token
        self.path = path
        self.fault: str | None = None  # slow, malformed
        self.issued: list[tuple[str, str, str]] = []
        self.server = FixtureServer(self.route).start()

    @property
    def url(self) -> str:
        return self.server.url + self.path

    def route(self, request: Request) -> Reply:
        if request.headers.get("authorization") != self.token:
            return Reply(401, body=b'{"code": "AccessDeniedException", '
                                   b'"message": "invalid authorization token"}')
        if request.path != self.path:
            return Reply(404)
        if self.fault == "slow":
            return Reply(stall=10)
        if self.fault == "malformed":
            return Reply(200, body=b"<html></html>")
        body, issued = credentials_json(self.ecr, imds=False)
        self.issued.append(issued)
        return Reply(200, [("Content-Type", "application/json")], body)

    def stop(self) -> None:
        self.server.stop()
