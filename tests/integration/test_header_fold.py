"""obs-fold (RFC 9112 5.2): a response header continued on a line that starts with a space or
a tab is folded into the previous one with a single space before it is parsed."""

from __future__ import annotations

import pytest

from support.fixture_server import FixtureServer, Reply

TOKEN_BODY = b'{"token":"tok-anyone","expires_in":300}'


@pytest.fixture
def server():
    started = []

    def start(route):
        started.append(FixtureServer(route).start())
        return started[-1]

    yield start
    for s in started:
        s.stop()


def test_folded_www_authenticate_is_read_whole(run_regauth, config_dir, server):
    def route(request):
        if request.path == "/token":
            return Reply(200, [("Content-Type", "application/json")], TOKEN_BODY)
        if request.headers.get("authorization") == "Bearer tok-anyone":
            return Reply(200, [], b"{}")
        # The continuation line starts with a space and a tab; without folding, the service
        # parameter is lost.
        return Reply(401, [("WWW-Authenticate",
                            f'Bearer realm="http://127.0.0.1:{registry.port}/token",\r\n'
                            ' \tservice="folded-service"')])

    registry = server(route)
    result = run_regauth(["--config", config_dir, "--timeout", "5", "login", "-u", "alice",
                          "--password-stdin", registry.hostport], input="pw\n", timeout=60)
    assert result.returncode == 0, result.stderr
    token_requests = [r for r in registry.requests if r.path == "/token"]
    assert len(token_requests) == 1
    assert token_requests[0].query.get("service") == ["folded-service"]
