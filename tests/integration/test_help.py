"""`regauth help [COMMAND]`, and the one line a mistyped command gets."""

from __future__ import annotations

import pytest


def test_help_prints_the_same_as_dash_dash_help(run_regauth):
    for command in ([], ["push"], ["login"], ["ls"]):
        helped = run_regauth(["help", *command])
        assert helped.returncode == 0 and helped.stderr == ""
        assert helped.stdout == run_regauth([*command, "--help"]).stdout
    assert run_regauth(["help"]).stdout.startswith("regauth: ")
    assert "Usage: regauth push [OPTIONS] source reference" in run_regauth(["help", "push"]).stdout


@pytest.mark.parametrize("argv, line", [
    (["help", "pusj"], "regauth: error: unknown command 'pusj': did you mean 'push'?"),
    (["lgin"], "regauth: error: unknown command 'lgin': did you mean 'login'?"),
    # The value of a global option is not taken for the command.
    (["--config", "/nonexistent", "logut", "r.example"],
     "regauth: error: unknown command 'logut': did you mean 'logout'?"),
    (["frobnicate"],
     "regauth: error: unknown command 'frobnicate': run 'regauth help' for the list of commands"),
])
def test_a_mistyped_command_gets_one_line(run_regauth, argv, line):
    result = run_regauth(argv)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == line + "\n"


def test_push_help_says_one_json_object_per_line(run_regauth):
    assert "one JSON object per line" in run_regauth(["push", "--help"]).stdout
