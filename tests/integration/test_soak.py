"""A short fault-injection soak (the full one is bench/soak, figures in docs/reliability.md):
30 pushes of small multi-layer images, 4 at a time, sharing one config.json, through a proxy in
front of the real registry that injects resets, stalls, 5xx, 429 and truncated bodies with a
fixed seed. Every push either completes (the tag names the source's manifest with all its
blobs) or fails with a documented exit code and one clear error line; nothing hangs, no config
entry is lost, no secret is printed."""

from __future__ import annotations

from support.soak import run_soak


def test_short_fault_injection_soak(regauth, token_registry, token_server, tmp_path):
    result = run_soak(regauth=regauth, registry=token_registry, token_server=token_server,
                      workdir=str(tmp_path), pushes=30, parallel=4, seed=5, stall_seconds=1.0,
                      timeout=5.0, hang_bound=90.0, images=6)
    summary = result.summary()
    print(summary)
    assert result.count("wrong") == 0, summary
    assert result.config_ok, summary
    assert result.count("completed") + result.count("failed") == 30, summary
    assert sum(result.faults.values()) > 0, summary  # the proxy did inject faults
    assert result.count("completed") > 0, summary
