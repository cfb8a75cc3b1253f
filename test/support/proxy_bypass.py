"""Does Airflow's Vault client (hvac over requests) bypass the proxy for the sandbox?

argv: url token. The environment holds HTTP(S)_PROXY (a dead proxy) and, or not, the NO_PROXY
lines of the sandbox .env. Writes {"bypass": {url: bool}, "read": "ok" | "<error class>"}.
"""
import json
import sys
import warnings

warnings.simplefilter("ignore")
import hvac  # noqa: E402
import requests  # noqa: E402

url, token = sys.argv[1], sys.argv[2]
port = url.rsplit(":", 1)[1]
out = {"bypass": {}}
for u in (url, f"http://localhost:{port}", f"http://[::1]:{port}"):
    out["bypass"][u] = bool(requests.utils.should_bypass_proxies(u + "/v1/sys/health", no_proxy=None))
try:
    client = hvac.Client(url=url, token=token, timeout=5)
    out["read"] = "ok" if client.is_authenticated() else "unauthenticated"
except Exception as e:  # a proxy in the way: ProxyError / ConnectionError
    out["read"] = type(e).__name__
json.dump(out, sys.stdout)
