"""The image's HEALTHCHECK: GET /healthz, exit 0 when it answers 200."""

import os
import sys
import urllib.request

port = os.environ.get("METRICS_PORT") or "{{ metrics_port }}"
try:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
        sys.exit(0 if response.status == 200 else 1)
except OSError:
    sys.exit(1)
