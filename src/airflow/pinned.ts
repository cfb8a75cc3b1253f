/**
 * A pinned Airflow (with its hashicorp provider) from the requirements this package ships
 * (requirements/airflow3.txt, airflow2.txt: resolved once, frozen), installed into a venv with
 * visible progress. Used by the create flow's --with-airflow (into the sandbox's .venv) and by
 * `doctor --airflow 3|2` (into the tool's cache, once per machine, keyed by the pins' hash).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { StepError } from '../errors.js';
import { acquireLock } from '../lock.js';
import { packageRoot } from '../package-root.js';
import { runLines } from '../process.js';
import { PipProgress, pinnedCount, type ProgressSink } from '../progress.js';
import { findOnPath } from '../vault/binary.js';
import { inspectAirflow, type AirflowInstall } from './runner.js';

export type PinnedMajor = '2' | '3';

const STEP = 'install airflow';

export interface InstallOptions {
  /** The environment pip runs with (the user's). */
  env?: NodeJS.ProcessEnv;
  /** How to try again, for the error's fix: "rerun with --with-airflow". */
  rerun?: string;
}

export interface Pins {
  file: string;
  text: string;
  /** The apache-airflow version the file pins. */
  version: string;
  /** What the cache keys an install by: a change of any pin is another install. */
  hash: string;
}

export function pinsOf(major: PinnedMajor): Pins {
  const file = join(packageRoot(), 'requirements', `airflow${major}.txt`);
  const text = readFileSync(file, 'utf8');
  const version = /^apache-airflow==(\S+)$/m.exec(text)?.[1] ?? '?';
  return { file, text, version, hash: createHash('sha256').update(text).digest('hex').slice(0, 32) };
}

/** Installs the pins into `venv` (made fresh); returns the Airflow there. Throws StepError with the way out. */
export async function installPinned(
  pins: Pins,
  venv: string,
  progress: ProgressSink,
  o: InstallOptions = {},
): Promise<AirflowInstall> {
  const rerun = o.rerun ?? 'rerun';
  const PIP_ENV = { ...(o.env ?? process.env), PIP_DISABLE_PIP_VERSION_CHECK: '1' };
  const python = findOnPath('python3') ?? findOnPath('python');
  if (!python)
    throw new StepError(STEP, 'no python3 on PATH to create the venv with', `install Python 3.10-3.13, then ${rerun}`);
  // ~160 s on a 2-core runner, 40% of it collecting (bench/results.md): the first estimate.
  const tracker = new PipProgress(
    { what: `Airflow ${pins.version}`, total: pinnedCount(pins.text), typicalMs: 160_000, collectShare: 0.4 },
    progress,
  ).start();
  let pip: Awaited<ReturnType<typeof runLines>>;
  try {
    progress(`creating ${venv}`);
    const mk = await runLines(python, ['-m', 'venv', venv], () => {}, { env: PIP_ENV, timeoutMs: 300_000 });
    if (mk.code !== 0)
      throw new StepError(
        STEP,
        `python3 -m venv failed: ${mk.tail.join(' ')}`,
        'install the venv module (Debian: apt install python3-venv)',
      );
    pip = await runLines(
      join(venv, 'bin', 'pip'),
      ['install', '--progress-bar', 'off', '-r', pins.file],
      (l) => tracker.line(l),
      { env: PIP_ENV },
    );
  } finally {
    tracker.stop();
  }
  if (pip.code !== 0)
    throw new StepError(
      STEP,
      `pip could not install Airflow ${pins.version}: ${pip.tail.slice(-2).join(' ')}`,
      `see ${venv}; ${rerun} once the cause is fixed`,
    );
  const found = await inspectAirflow(join(venv, 'bin', 'airflow'));
  if (!found)
    throw new StepError(
      STEP,
      `Airflow was installed into ${venv} but does not import`,
      `run ${join(venv, 'bin', 'airflow')} version to see why`,
    );
  return found;
}

/** The tool's cache of pinned Airflows: $CSS_CACHE_DIR, else $XDG_CACHE_HOME or ~/.cache, /create-secrets-sandbox. */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  return (
    env.CSS_CACHE_DIR || join(env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache'), 'create-secrets-sandbox')
  );
}

/** Where the cache keeps the pinned Airflow of a major; complete when its stamp holds the pins' hash. */
export function cachedVenv(major: PinnedMajor, env: NodeJS.ProcessEnv = process.env): { dir: string; pins: Pins } {
  const pins = pinsOf(major);
  return { dir: join(cacheRoot(env), `airflow${major}-${pins.hash}`), pins };
}

const stampOf = (dir: string) => join(dir, '.setup-stamp');

function complete(dir: string, hash: string): boolean {
  try {
    return readFileSync(stampOf(dir), 'utf8').trim() === hash;
  } catch {
    return false;
  }
}

/** The cached pinned Airflow of a major, when it is installed; null when it is not (or broken). */
export async function cachedAirflow(
  major: PinnedMajor,
  env: NodeJS.ProcessEnv = process.env,
): Promise<AirflowInstall | null> {
  const { dir, pins } = cachedVenv(major, env);
  if (!complete(dir, pins.hash)) return null;
  return inspectAirflow(join(dir, 'bin', 'airflow'));
}

/**
 * Installs the pinned Airflow of a major into the cache, once: a second run waits for the first,
 * a cut install leaves no stamp and is started over. A venv cannot be moved once made (its scripts
 * name their own path), so it is built where it stays.
 */
export async function installCachedAirflow(
  major: PinnedMajor,
  progress: ProgressSink,
  env: NodeJS.ProcessEnv = process.env,
): Promise<AirflowInstall> {
  const { dir, pins } = cachedVenv(major, env);
  const lock = await acquireLock({ stateDir: cacheRoot(env), lock: `${dir}.lock` }, 3_600_000, (pid) =>
    progress(`waiting for another install of Airflow ${pins.version} (pid ${pid})`),
  );
  try {
    if (!complete(dir, pins.hash)) {
      if (existsSync(dir)) renameSync(dir, `${dir}.old-${process.pid}`);
      rmSync(`${dir}.old-${process.pid}`, { recursive: true, force: true });
      await installPinned(pins, dir, progress);
      writeFileSync(stampOf(dir), `${pins.hash}\n`);
    }
  } finally {
    lock.release();
  }
  const found = await inspectAirflow(join(dir, 'bin', 'airflow'));
  if (!found) throw new StepError(STEP, `the cached Airflow in ${dir} does not start`, `remove ${dir} and rerun`);
  return found;
}
