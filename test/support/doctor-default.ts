/**
 * The default sandbox (no flags, no config edits: the example smtp_default is all it seeds), broken
 * one link at a time, for doctor to fail on, with Airflow and without (doctor-default*.test.ts).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { envOf, freePort, runCli, type Run, type Workspace } from './sandbox.js';

export interface Break {
  name: string;
  apply(w: Workspace, dir: string): Promise<void>;
  /** What doctor's failing line says. */
  says: RegExp;
}

function editKwargs(dir: string, change: (kw: Record<string, unknown>) => void): void {
  const f = join(dir, '.env');
  const text = readFileSync(f, 'utf8').replace(/^AIRFLOW__SECRETS__BACKEND_KWARGS='(.*)'$/m, (_, json: string) => {
    const kw = JSON.parse(json) as Record<string, unknown>;
    change(kw);
    return `AIRFLOW__SECRETS__BACKEND_KWARGS='${JSON.stringify(kw)}'`;
  });
  writeFileSync(f, text);
}

async function vault(dir: string, method: string, path: string, body?: unknown): Promise<Response> {
  const env = envOf(dir);
  return fetch(`${env.get('VAULT_ADDR')}/v1/${path}`, {
    method,
    headers: { 'X-Vault-Token': env.get('VAULT_TOKEN') ?? '' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

export const BREAKS: Break[] = [
  {
    name: 'https in the kwargs url against the http server',
    apply: async (_w, dir) => editKwargs(dir, (kw) => (kw.url = String(kw.url).replace('http://', 'https://'))),
    says: /https/,
  },
  {
    name: 'a stale token (the .env of the server before a restart)',
    apply: async (w, dir) => {
      const before = readFileSync(join(dir, '.env'), 'utf8');
      expect((await runCli(w, ['down'])).code).toBe(0);
      expect((await runCli(w, ['up'])).code).toBe(0);
      writeFileSync(join(dir, '.env'), before);
    },
    says: /token/i,
  },
  {
    name: 'the secret moved under a sibling path (secret/connection/)',
    apply: async (_w, dir) => {
      const got = (await (await vault(dir, 'GET', 'secret/data/connections/smtp_default')).json()) as {
        data: { data: Record<string, string> };
      };
      expect((await vault(dir, 'POST', 'secret/data/connection/smtp_default', { data: got.data.data })).ok).toBe(true);
      expect((await vault(dir, 'DELETE', 'secret/metadata/connections/smtp_default')).ok).toBe(true);
    },
    says: /smtp_default/,
  },
  {
    name: 'a wrong connections_path',
    apply: async (_w, dir) => editKwargs(dir, (kw) => (kw.connections_path = 'connection')),
    says: /smtp_default|connection/,
  },
];

/** A default sandbox: `--yes` and nothing else (the default port moved to a free one by the environment). */
export async function defaultSandbox(w: Workspace, timeoutMs?: number): Promise<string> {
  w.env.SECRETS_SANDBOX_DEFAULT_PORT = String(await freePort());
  const r = await runCli(w, ['--yes'], { timeoutMs });
  expect(r.code, r.stdout + r.stderr).toBe(0);
  return join(w.cwd, 'secrets-sandbox');
}

/** doctor, as a user runs it in the dir above the sandbox: no flags. */
export function expectDoctorFails(r: Run, says: RegExp): void {
  expect(r.code, r.stdout + r.stderr).toBe(1);
  expect(r.stdout).not.toContain('No problems');
  const failed = r.stdout.split('\n').filter((l) => l.startsWith('[✗]') || l.startsWith('[‼]'));
  expect(failed.length, r.stdout).toBeGreaterThan(0);
  expect(failed.join('\n'), r.stdout).toMatch(says);
}
