/** `--help`, derived from the settings schema (src/settings/schema.ts), and `--version`. */
import pkg from '../package.json' with { type: 'json' };
import { helpLines } from './settings/schema.js';

export const VERSION = pkg.version;

export function helpText(): string {
  return `create-secrets-sandbox ${pkg.version}
A local Vault (or OpenBao) dev server seeded with Airflow connections, the env file that points
Airflow's VaultBackend at it, an example DAG, and a check that each connection resolves.

Usage:
  create-secrets-sandbox [dir] [options]   create or refresh a sandbox in dir
  create-secrets-sandbox doctor [dir]      diagnose a sandbox or any Vault + Airflow setup
  create-secrets-sandbox status [dir]      is the sandbox's server up, where, what is seeded
  create-secrets-sandbox down [dir]        stop the server (and a kept Airflow) this sandbox started
  create-secrets-sandbox up [dir]          start it again and re-seed from secrets-sandbox.yaml

The sandbox dir, for every command: the dir given, else the current dir when it holds
secrets-sandbox.yaml, else ./secrets-sandbox.

Options of create and up (flags beat secrets-sandbox.yaml, which beats the environment and defaults;
flags you give are written to secrets-sandbox.yaml, or to the --config FILE):
${helpLines('create').join('\n')}

Options of doctor (also --config FILE and --airflow-bin):
${helpLines('doctor').join('\n')}

Output (every command):
${helpLines('output').join('\n')}

Exit codes: 0 success; 1 a step or check failed (the message names it and the fix);
2 bad usage or input (nothing written, nothing started); 130 interrupted.
`;
}
