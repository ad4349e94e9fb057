"""A busy token server (503) is asked again, as any busy server: the token step is no verdict on
the credentials until the token server has answered."""

from __future__ import annotations

from helpers import login, read_config
from support import ALICE


def test_token_server_answering_503_once_is_asked_again(run_regauth, token_registry,
                                                        token_server, config_dir):
    token_server.unavailable = 1
    result = login(run_regauth, config_dir, token_registry.hostport, *ALICE)
    assert result.returncode == 0, result.stderr
    statuses = [r.status for r in token_server.token_requests()]
    assert statuses[:2] == [503, 200], statuses
    assert token_registry.hostport in read_config(config_dir)["auths"]


def test_token_server_that_stays_unavailable_fails_as_the_network(run_regauth, token_registry,
                                                                  token_server, config_dir):
    token_server.unavailable = 100
    result = login(run_regauth, config_dir, token_registry.hostport, *ALICE)
    assert result.returncode == 7, result.stderr
    assert len(token_server.token_requests()) == 4  # bounded: four attempts, then the error
    assert result.stderr.count("\n") == 1, result.stderr
