#!/usr/bin/env python3
"""Cost of filling a trust store from the system CA bundle (what libcurl's CA cache does once per
handle) against pointing it at the hashed directory (what regauth's process-wide store does once
per process). Median, min and max of 20 runs, in milliseconds. See docs/benchmarks.md."""

import ctypes
import statistics
import time

crypto = ctypes.CDLL("libcrypto.so.3")
crypto.X509_STORE_new.restype = ctypes.c_void_p
crypto.X509_STORE_load_file.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
crypto.X509_STORE_load_path.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
crypto.X509_STORE_free.argtypes = [ctypes.c_void_p]


def measure(fill, runs=20):
    times = []
    for _ in range(runs):
        store = crypto.X509_STORE_new()
        started = time.perf_counter()
        fill(store)
        times.append((time.perf_counter() - started) * 1000)
        crypto.X509_STORE_free(store)
    return f"median {statistics.median(times):.3f} min {min(times):.3f} max {max(times):.3f} ms"


print("bundle file (libcurl's CA cache, once per handle):",
      measure(lambda s: crypto.X509_STORE_load_file(s, b"/etc/ssl/certs/ca-certificates.crt")))
print("hashed directory (regauth's store, once per process):",
      measure(lambda s: crypto.X509_STORE_load_path(s, b"/etc/ssl/certs")))
