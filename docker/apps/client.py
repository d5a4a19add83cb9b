#!/usr/bin/python3
# One HTTP GET, for containers that only have `lo`: run it in a second container that shares
# the server's network namespace, so it outlives the server container. Prints one line:
# `client: status=200 body=...` or `client: error=...`.
import sys
import urllib.request

url = sys.argv[1]
try:
    with urllib.request.urlopen(url, timeout=60) as r:
        print(f"client: status={r.status} body={r.read().decode()}", flush=True)
except Exception as e:  # any failure is the result the test looks at
    print(f"client: error={type(e).__name__}: {e}", flush=True)
