/**
 * The names a sandbox's files go by. Data only (no imports): the settings schema, which `--help`
 * loads at start-up, takes its defaults from here. Paths are made from these in ./layout.ts.
 */
export const CONFIG_FILE = 'secrets-sandbox.yaml';
export const DEFAULT_SANDBOX_DIR = 'secrets-sandbox';
/** The example DAG's folder when the config names none, relative to the sandbox dir. */
export const DEFAULT_DAGS_DIR = 'dags';
export const DAG_FILE = 'example_secrets_dag.py';
export const POLICY_FILE = 'policy.hcl';
/** The tool's own dir in the sandbox (private, 0700): the facts, the server's banner, log and HOME. */
export const STATE_DIR = '.sandbox';
export const STATE_FILE = 'state.json';
/** What the sandbox's .gitignore must cover: the files that hold secrets and what the tool keeps. */
export const GITIGNORE_ENTRIES: readonly string[] = ['.env', 'docker.env', '.sandbox/', '.venv/'];
