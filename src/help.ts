import pkg from '../package.json' with { type: 'json' };

export const VERSION = pkg.version;

export const HELP = `create-secrets-sandbox ${pkg.version}
A local Vault (or OpenBao) dev server seeded with Airflow connections, the env file that points
Airflow's VaultBackend at it, an example DAG, and a check that each connection resolves.

Usage:
  create-secrets-sandbox [dir] [options]   create or refresh a sandbox in dir (default: ./secrets-sandbox)
  create-secrets-sandbox doctor [dir]      diagnose a sandbox or any Vault + Airflow setup (--json, --fix)
  create-secrets-sandbox status [dir]      is the sandbox's server up, where, what is seeded (--json)
  create-secrets-sandbox down [dir]        stop the server this sandbox started (only that one)
  create-secrets-sandbox up [dir]          start it again and re-seed from secrets-sandbox.yaml

Options (flags beat secrets-sandbox.yaml, which beats defaults):
  -y, --yes                  no prompts; accept defaults (needed without a terminal)
  --config FILE              read settings from FILE instead of <dir>/secrets-sandbox.yaml
  --vault-bin PATH           server binary (default: $VAULT_BIN, then vault, then bao on PATH)
  --address HOST:PORT        listen address (default 127.0.0.1:8200, or the next free port)
  --allow-remote             permit a non-loopback --address (the dev server has no TLS)
  --root-token ID            fixed root token id (default: the server makes one)
  --mount NAME               KV v2 mount (default: secret)
  --connections-path PATH    connections_path (default: connections)
  --variables-path PATH      variables_path (default: variables)
  --conn ID=URI              a connection to seed; repeatable
                             (default: smtp_default=smtps://user:host@relay.example.com:465)
  --var KEY=VALUE            a variable to seed; repeatable
  --airflow-version V        1.10, 2 or 3 (default: 3): class path, kwargs and DAG follow it
  --dags-dir DIR             where the example DAG goes (default: <dir>/dags)
  --no-dag                   do not write the example DAG
  --check LEVEL              auto, vault or none (default: auto = the Vault-level check)
  --format uri|fields        store conn_uri (default) or one key per Connection field
  --force                    overwrite files you edited (.env, DAG)
  --dry-run                  print the plan: server command, Vault paths, files; touch nothing
  --json                     one JSON document on stdout, nothing else
  --show-token               print the root token in full
  -q, --quiet                no progress, only errors
  -v, --verbose              more detail
  --no-color                 plain text
  -h, --help                 this help
  -V, --version              the version

Exit codes: 0 success; 1 a step or check failed (the message names it and the fix);
2 bad usage or input (nothing written, nothing started); 130 interrupted.
`;
