"""Test support for regauth's integration tests: real servers on 127.0.0.1."""
