/**
 * Step 7: the sandbox's files, each written atomically with its mode. A file the user edited is
 * kept unless --force, and the user is told which keys differ (never their secret values).
 */
import { chmodSync, existsSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { renderDag, renderGitignore } from '../airflow/templates.js';
import {
  noProxyEntries,
  renderDockerEnv,
  renderShellEnv,
  parseEnvFile,
  type EnvInput,
} from '../airflow/backend/index.js';
import { configWouldChange, editConfig } from '../config.js';
import { ensurePrivateDir, writePrivateFile } from '../io/private.js';
import { MAX_CONFIG_BYTES, MAX_TEXT_BYTES, readUserFile, readUserFileIfExists } from '../io/read.js';
import {
  planFile,
  readWrittenRecord,
  recordedHashes,
  sha256,
  writeFileAtomic,
  type PlannedFile,
  type WriteOutcome,
  type WrittenRecord,
} from '../io/write.js';
import type { Settings } from '../settings.js';
import { DAG_FILE, GITIGNORE_ENTRIES, type SandboxPaths } from '../sandbox/index.js';
import type { Flavour } from '../vault/binary.js';
import { FileError, StepError, writeFailure } from '../errors.js';
import { renderPolicy } from '../vault/auth/policy.js';
import { authFor, methodOf } from '../vault/auth/index.js';
import { addressUrl } from '../vault/address.js';
import { readBanner } from '../vault/server.js';
import { defineStep, type FileOutcome, type FlowContext, type StepContext } from './context.js';

export interface FilePlan extends PlannedFile {
  outcome: WriteOutcome;
  note?: string;
}

export interface PlanInput {
  settings: Settings;
  paths: SandboxPaths;
  url: string;
  token: string;
  flavour: Flavour;
  /** Airflow's auth kwargs when it does not use the token (AppRole); see src/vault/auth. */
  auth?: Record<string, unknown>;
  /** The CA Airflow must trust (https), and the namespace, from the target. */
  caFile?: string;
  namespace?: string;
  /** The policy text written for Airflow's role, saved as policy.hcl. */
  policy?: string;
}

/** A file's text, or null when it is absent or a directory (what is in the way is reported when writing). */
function textIfFile(path: string, what: string): string | null {
  try {
    return readUserFileIfExists(path, { what, maxBytes: MAX_TEXT_BYTES });
  } catch (e) {
    if (e instanceof FileError && e.code === 'EISDIR') return null;
    throw e;
  }
}

function envInputOf(p: PlanInput): EnvInput {
  const { settings: s, paths } = p;
  const dagInSandbox = !relative(paths.dir, s.dagsDir).startsWith('..');
  return {
    airflowVersion: s.airflowVersion,
    flavour: p.flavour,
    existing: s.existing !== undefined,
    url: p.url,
    token: p.token,
    mount: s.mount,
    connectionsPath: s.connectionsPath,
    variablesPath: s.variablesPath,
    kvVersion: s.kvVersion,
    ...(p.auth ? { auth: p.auth } : {}),
    ...(p.caFile ? { caFile: p.caFile } : {}),
    ...(p.namespace ? { namespace: p.namespace } : {}),
    dagsFolder: s.dag && dagInSandbox ? s.dagsDir : undefined,
    // The user's NO_PROXY entries (in the .env now, or in this shell) survive the rewrite.
    noProxy: noProxyEntries(p.url, textIfFile(paths.env, 'the env file')),
  };
}

/**
 * The config: what the user said on this run is edited into the file they use (comments and order
 * kept); a new sandbox gets one so `up` and the user have a place to start from. Either a plan
 * already judged (unchanged, or a dry run's verdict) or the edited file to judge with the others.
 */
async function planConfig(s: Settings): Promise<{ judged: FilePlan } | { file: PlannedFile }> {
  const path = s.configFile;
  const label = relative(process.cwd(), path) || path;
  const text = readUserFileIfExists(path, { what: 'config file', shownAs: label, maxBytes: MAX_CONFIG_BYTES });
  const unchanged: FilePlan = { path, content: text ?? '', mode: 0o600, outcome: 'unchanged' };
  if (s.dryRun) {
    // The config is always rewritten when it changes (the user's flags asked for it): a dry run needs only whether.
    if (!(await configWouldChange(text, s.configEdits, label))) return { judged: unchanged };
    return { judged: { ...unchanged, outcome: text === null ? 'created' : 'updated' } };
  }
  const edited = await editConfig(text, s.configEdits, label);
  return edited === null ? { judged: unchanged } : { file: { path, content: edited, mode: 0o600 } };
}

/** The env files, the policy and the DAG, as this run would write them. */
function generatedFiles(p: PlanInput): PlannedFile[] {
  const { settings: s, paths } = p;
  const env = envInputOf(p);
  const files: PlannedFile[] = [
    { path: paths.env, content: renderShellEnv(env), mode: 0o600 },
    { path: paths.dockerEnv, content: renderDockerEnv(env), mode: 0o600 },
  ];
  // For the team's Vault too: the least-privilege policy Airflow needs, ready to hand over.
  if (methodOf(s.auth).sandbox || s.existing)
    files.push({ path: paths.policy, content: p.policy ?? renderPolicy(s), mode: 0o644 });
  if (s.dag) {
    // Beside the DAG's sandbox, as the user loads it from there.
    const envFile = `./${relative(paths.dir, paths.env)}`;
    const dag = renderDag({ airflowVersion: s.airflowVersion, connIds: s.connections.map((c) => c.id), envFile });
    files.push({ path: join(s.dagsDir, DAG_FILE), content: dag, mode: 0o644 });
  }
  return files;
}

/** Each file against the record of what this tool wrote: created, updated, unchanged, or kept (the user's). */
function judge(f: PlannedFile, p: PlanInput, record: WrittenRecord): FilePlan {
  const { settings: s, paths } = p;
  const key = relative(paths.dir, f.path);
  // The config file is the user's own voice: flags that change it are a request to change it (and the edit keeps the rest).
  const force = s.force || f.path === s.configFile;
  let outcome: FilePlan['outcome'];
  try {
    outcome = planFile(f, record[key], force);
  } catch (e) {
    throw fileError(f.path, e);
  }
  const envFile = f.path === paths.env || f.path === paths.dockerEnv;
  return { ...f, outcome, note: outcome === 'kept' ? describeKept(f, record[key] !== undefined, envFile) : undefined };
}

export async function planFiles(p: PlanInput): Promise<FilePlan[]> {
  const { paths } = p;
  const record = readWrittenRecord(paths.written);
  const config = await planConfig(p.settings);
  const files = 'file' in config ? [config.file, ...generatedFiles(p)] : generatedFiles(p);
  const plans = [...('judged' in config ? [config.judged] : []), ...files.map((f) => judge(f, p, record))];
  const gi = textIfFile(paths.gitignore, '.gitignore');
  const giText = renderGitignore(gi, GITIGNORE_ENTRIES);
  const giOutcome = gi === null ? 'created' : gi === giText ? 'unchanged' : 'updated';
  plans.push({ path: paths.gitignore, content: giText, mode: 0o644, outcome: giOutcome });
  return plans;
}

function describeKept(f: PlannedFile, ours: boolean, envFile: boolean): string {
  const current = readUserFile(f.path, { what: 'file', maxBytes: MAX_CONFIG_BYTES });
  const who = ours ? 'edited by you' : 'not written by this tool';
  if (envFile) {
    const a = parseEnvFile(current);
    const b = parseEnvFile(f.content);
    const keys = [...new Set([...a.keys(), ...b.keys()])].filter((k) => a.get(k) !== b.get(k));
    if (keys.length)
      return `${who}; differs from what the sandbox needs in ${keys.join(', ')} (rerun with --force to replace it)`;
    return `${who} (comments or order only); kept`;
  }
  const changed = countChangedLines(current, f.content);
  return `${who}; ${changed} line(s) differ from the generated file (rerun with --force to replace it)`;
}

function countChangedLines(a: string, b: string): number {
  const la = a.split('\n');
  const lb = b.split('\n');
  let n = Math.abs(la.length - lb.length);
  for (let i = 0; i < Math.min(la.length, lb.length); i++) if (la[i] !== lb[i]) n++;
  return n;
}

const fileError = (path: string, e: unknown) => writeFailure('write files', path, e);

const writes = (p: FilePlan) => p.outcome === 'created' || p.outcome === 'updated';

function applyOne(p: FilePlan, record: WrittenRecord, key: string): void {
  if (writes(p)) {
    writeFileAtomic(p.path, p.content, p.mode);
    record[key] = sha256(p.content);
  } else if (p.outcome === 'unchanged' && existsSync(p.path)) {
    // Same content, but someone may have widened the mode of a file that holds secrets.
    if ((statSync(p.path).mode & 0o777) !== p.mode && p.mode === 0o600) chmodSync(p.path, p.mode);
    if (record[key] === undefined) record[key] = sha256(p.content);
  }
}

function writeRecord(paths: SandboxPaths, record: WrittenRecord): void {
  try {
    ensurePrivateDir(paths.stateDir);
    writePrivateFile(paths.written, `${JSON.stringify(record, null, 2)}\n`, 0o600);
  } catch (e) {
    throw fileError(paths.written, e);
  }
}

/**
 * Writes the plans. The record of what is ours is written first, with each new file's hash beside
 * the old one: a run cut anywhere in between (a full disk, a kill) leaves every file it wrote known
 * as ours, so the rerun replaces it (a .env with a dead token) without --force.
 */
export function applyPlans(paths: SandboxPaths, plans: FilePlan[]): void {
  const record = readWrittenRecord(paths.written);
  const rel = (p: FilePlan) => relative(paths.dir, p.path);
  const intended: WrittenRecord = { ...record };
  for (const p of plans.filter(writes))
    intended[rel(p)] = [...new Set([...recordedHashes(record, rel(p)), sha256(p.content)])];
  if (plans.some(writes)) writeRecord(paths, intended);
  for (const p of plans) {
    try {
      applyOne(p, record, rel(p));
    } catch (e) {
      throw fileError(p.path, e);
    }
  }
  try {
    writeRecord(paths, record);
  } catch {
    /* the intended record already knows every file written: nothing is lost */
  }
}

/** What this run knows to write: the target's url, CA and namespace, the token or Airflow's own login. */
function planInput(ctx: StepContext<'target'>): PlanInput {
  return {
    settings: ctx.settings,
    paths: ctx.paths,
    url: ctx.target.url,
    token: ctx.server?.token ?? '',
    flavour: ctx.binary?.flavour ?? 'Vault',
    auth: ctx.airflowAuth ? authFor(ctx.airflowAuth).backendKwargs() : undefined,
    caFile: ctx.target.caFile,
    namespace: ctx.target.namespace,
    policy: ctx.policy?.text,
  };
}

/**
 * What a run now would write, before anything ran (the dry run): the address preflight chose, a
 * reused server's token (so files that already carry it show as unchanged), placeholders for
 * credentials the auth method would make.
 */
export function dryRunPlanInput(ctx: FlowContext): PlanInput {
  const s = ctx.settings;
  const reuse = ctx.decision?.reuse;
  const ex = s.existing;
  const method = methodOf(s.auth);
  const listening = ctx.address ? addressUrl(ctx.address, s.tls) : '<url>';
  return {
    settings: s,
    paths: ctx.paths,
    url: ex?.url ?? reuse?.url ?? listening,
    token: (reuse && readBanner(ctx.paths.serverOut, ctx.paths.home).rootToken) || '<root token>',
    flavour: ctx.binary?.flavour ?? (ex ? 'Vault' : 'OpenBao'),
    auth: method.sandbox || ex ? { ...method.placeholders } : undefined,
    caFile: ex?.caFile,
    namespace: ex?.namespace,
  };
}

const ACTION = { created: 'create', updated: 'update', kept: 'keep', unchanged: 'unchanged' } as const;

/** A plan as the dry run shows it: the action, the path, and why a file is kept. */
export function describePlan(p: FilePlan): { path: string; action: string; note?: string } {
  return { path: p.path, action: ACTION[p.outcome], ...(p.note ? { note: p.note } : {}) };
}

async function writeFiles(ctx: StepContext<'target'>) {
  let plans: FilePlan[];
  try {
    plans = await planFiles(planInput(ctx));
  } catch (e) {
    if (e instanceof StepError) throw e;
    throw fileError((e as NodeJS.ErrnoException).path ?? ctx.paths.dir, e);
  }
  applyPlans(ctx.paths, plans);
  const files: FileOutcome[] = plans.map((p) => ({ path: p.path, outcome: p.outcome, note: p.note }));
  for (const p of plans)
    if (p.outcome === 'kept') ctx.report.warn(`kept ${relative(process.cwd(), p.path) || p.path}: ${p.note}`);
  const count = (...o: WriteOutcome[]) => plans.filter((p) => o.includes(p.outcome)).length;
  ctx.report.info(`${count('created', 'updated')} written, ${count('unchanged')} unchanged, ${count('kept')} kept`);
  return { files };
}

export const writeFilesStep = defineStep({
  title: 'Write the env file, config and example DAG',
  needs: ['target'],
  async plan(ctx) {
    const plans = await planFiles(dryRunPlanInput(ctx));
    const line = (d: ReturnType<typeof describePlan>) =>
      `${d.action.padEnd(22)} ${relative(process.cwd(), d.path) || d.path}${d.note ? ` (${d.note})` : ''}`;
    return { lines: plans.map((p) => line(describePlan(p))) };
  },
  run: writeFiles,
});
