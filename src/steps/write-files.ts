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
import type { CreateContext } from './context.js';
import { FileError, StepError, writeFailure } from '../errors.js';
import { renderPolicy } from '../vault/auth/policy.js';
import { authFor } from '../vault/auth/index.js';

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

export async function planFiles(p: PlanInput): Promise<FilePlan[]> {
  const { settings: s, paths } = p;
  const record = readWrittenRecord(paths.written);
  const rel = (f: string) => relative(paths.dir, f);
  const dagPath = join(s.dagsDir, DAG_FILE);
  const dagInSandbox = !relative(paths.dir, s.dagsDir).startsWith('..');
  const envInput: EnvInput = {
    airflowVersion: s.airflowVersion,
    flavour: p.flavour,
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
  const files: PlannedFile[] = [];

  // The config: what the user said on this run is edited into the file they use (comments and
  // order kept); a new sandbox gets one so `up` and the user have a place to start from.
  let configPlan: FilePlan | undefined;
  const cfgPath = s.configFile;
  const cfgLabel = relative(process.cwd(), cfgPath) || cfgPath;
  const cfgText = readUserFileIfExists(cfgPath, { what: 'config file', shownAs: cfgLabel, maxBytes: MAX_CONFIG_BYTES });
  if (s.dryRun) {
    // The config is always rewritten when it changes (the user's flags asked for it): a dry run needs only whether.
    const changes = await configWouldChange(cfgText, s.configEdits, cfgLabel);
    configPlan = {
      path: cfgPath,
      content: cfgText ?? '',
      mode: 0o600,
      outcome: !changes ? 'unchanged' : cfgText === null ? 'created' : 'updated',
    };
  } else {
    const edited = await editConfig(cfgText, s.configEdits, cfgLabel);
    if (edited === null) configPlan = { path: cfgPath, content: cfgText ?? '', mode: 0o600, outcome: 'unchanged' };
    else files.push({ path: cfgPath, content: edited, mode: 0o600 });
  }

  files.push({ path: paths.env, content: renderShellEnv(envInput), mode: 0o600 });
  files.push({ path: paths.dockerEnv, content: renderDockerEnv(envInput), mode: 0o600 });
  // For the team's Vault too: the least-privilege policy Airflow needs, ready to hand over.
  if (s.auth === 'approle' || s.existing)
    files.push({ path: paths.policy, content: p.policy ?? renderPolicy(s), mode: 0o644 });
  if (s.dag)
    files.push({
      path: dagPath,
      content: renderDag({
        airflowVersion: s.airflowVersion,
        connIds: s.connections.map((c) => c.id),
        envFile: rel(paths.env) === '.env' ? './.env' : paths.env,
      }),
      mode: 0o644,
    });

  const plans: FilePlan[] = configPlan ? [configPlan] : [];
  for (const f of files) {
    // The config file is the user's own voice: flags that change it are a request to change it (and the edit keeps the rest).
    const force = s.force || f.path === cfgPath;
    let outcome: FilePlan['outcome'];
    try {
      outcome = planFile(f, record[rel(f.path)], force);
    } catch (e) {
      throw fileError(f.path, e);
    }
    plans.push({
      ...f,
      outcome,
      note: outcome === 'kept' ? describeKept(f, record[rel(f.path)] !== undefined) : undefined,
    });
  }
  const gi = textIfFile(paths.gitignore, '.gitignore');
  const giText = renderGitignore(gi, GITIGNORE_ENTRIES);
  plans.push({
    path: paths.gitignore,
    content: giText,
    mode: 0o644,
    outcome: gi === null ? 'created' : gi === giText ? 'unchanged' : 'updated',
  });
  return plans;
}

function describeKept(f: PlannedFile, ours: boolean): string {
  const current = readUserFile(f.path, { what: 'file', maxBytes: MAX_CONFIG_BYTES });
  const who = ours ? 'edited by you' : 'not written by this tool';
  if (f.path.endsWith('.env')) {
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

export async function writeFiles(ctx: CreateContext): Promise<void> {
  const server = ctx.server ?? { url: ctx.target!.url, token: '' };
  let plans: FilePlan[];
  try {
    plans = await planFiles({
      settings: ctx.settings,
      paths: ctx.paths,
      url: ctx.target?.url ?? server.url,
      token: server.token,
      flavour: ctx.binary?.flavour ?? 'Vault',
      auth: ctx.airflowAuth ? authFor(ctx.airflowAuth).backendKwargs() : undefined,
      caFile: ctx.target?.caFile,
      namespace: ctx.target?.namespace,
      policy: ctx.policy?.text,
    });
  } catch (e) {
    if (e instanceof StepError) throw e;
    throw fileError((e as NodeJS.ErrnoException).path ?? ctx.paths.dir, e);
  }
  applyPlans(ctx.paths, plans);
  for (const p of plans) {
    ctx.files.push({ path: p.path, outcome: p.outcome, note: p.note });
    if (p.outcome === 'kept') ctx.report.warn(`kept ${relative(process.cwd(), p.path) || p.path}: ${p.note}`);
  }
  const changed = plans.filter((p) => p.outcome === 'created' || p.outcome === 'updated').length;
  ctx.report.info(
    `${changed} written, ${plans.filter((p) => p.outcome === 'unchanged').length} unchanged, ${plans.filter((p) => p.outcome === 'kept').length} kept`,
  );
}
