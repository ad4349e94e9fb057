"""Test support for regauth's integration tests: real servers on 127.0.0.1."""

# The test accounts every fixture server knows (name, password).
ALICE = ("alice", "alicepw")  # may pull, push and delete everywhere
BOB = ("bob", "bobpw")  # may only pull
# Repositories anyone may pull from the token server, without credentials.
PUBLIC_GLOB = "public/*"
