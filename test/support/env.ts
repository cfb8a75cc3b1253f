/** Where the real parts live for the tests, and the rule for skipping: never in CI, only locally with a reason. */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The command npm installs (package.json `bin`), run through its `#!/usr/bin/env node` line as npm's link runs it. */
export const CLI = join(ROOT, 'dist', 'cli.js');
/** What users run: the same file as CLI, named for the callers that mean the installed command. */
export const BIN = CLI;
export const IN_CI = process.env.CI === 'true' || process.env.CI === '1';

/** The server binary under test: VAULT_BIN (e.g. HashiCorp Vault), else OpenBao's bao from the project venv. */
export function serverBinary(): string | undefined {
  if (process.env.VAULT_BIN) return process.env.VAULT_BIN;
  const bao = join(ROOT, '.venv', 'bin', 'bao');
  return existsSync(bao) ? bao : undefined;
}

/** Test-only Python tools (requirements/test-tools.txt, scripts/setup-test-tools.sh): hvac, python-dotenv, docker-compose, ruff. */
export const TEST_TOOLS = join(ROOT, '.venvs', 'test-tools', 'bin');
export const VENV_PYTHON = join(TEST_TOOLS, 'python');

/** A reason to skip, locally only; in CI a missing part is a failure (the caller throws). */
export function missing(what: string, path: string | undefined): string | undefined {
  if (path && existsSync(path)) return undefined;
  const reason = `${what} not found${path ? ` at ${path}` : ''}: run scripts/test.sh (or the set-up scripts it runs)`;
  if (IN_CI) throw new Error(`CI: ${reason}`);
  console.warn(`skipping: ${reason}`);
  return reason;
}

/**
 * How much slower this machine is now than the quiet one the suite's times were measured on
 * (vitest.config.ts measures it once per run; 1 when a file is run some other way).
 */
export const SLOWDOWN = Math.max(1, Number(process.env.CSS_TEST_SLOWDOWN) || 1);

/** A time limit for something that takes `quietMs` on a quiet machine: three times that, scaled by the slowdown. */
export function limit(quietMs: number): number {
  return Math.round(3 * quietMs * SLOWDOWN);
}

/** A limit a test set by hand for a quiet machine, scaled by how slow this machine is now. */
export function scaled(quietLimitMs: number): number {
  return Math.round(quietLimitMs * SLOWDOWN);
}
