/**
 * `status [dir]`: is the sandbox's server up, where, since when, and what is seeded. The token goes
 * only to the recorded loopback address, and only after the process there is proven ours.
 */
import { existsSync } from 'node:fs';
import { relative } from 'node:path';
import { openSandbox, proveServer, type RunningServer, runningServers, type Sandbox } from '../sandbox/index.js';
import type { Proof } from '../vault/identity.js';
import { readBanner } from '../vault/server.js';
import { HOW_TO_GET_A_UI, type ServerUi, serverUi } from '../vault/ui.js';
import { type VaultApi, type VaultClientOptions, VaultError } from '../vault/api.js';
import { VaultClient } from '../vault/client.js';
import { addressUrl, isLoopback, parseAddress } from '../vault/address.js';
import { EnvFileError, firstPath, PROVIDER_DEFAULTS, readBackendWithEnvFile } from '../airflow/backend/index.js';
import { notManaged, type TargetRecord } from '../target/index.js';
import { maskToken } from '../ui/mask.js';
import { writeOut, type OutputMode } from '../ui/output.js';
import { selfCommand, shellArg } from '../ui/invocation.js';
import { runStatus, type RunStatus } from '../airflow/run/stop.js';

export interface StatusReport {
  dir: string;
  running: boolean;
  reason?: string;
  /** What to do about it. */
  fix?: string;
  pid?: number;
  url?: string;
  flavour?: string;
  version?: string;
  started_at?: string;
  /** true: accepted; false: refused by the server; absent: not asked (e.g. the server does not answer). */
  token_valid?: boolean;
  /** The server is ours and alive but does not answer HTTP in time. */
  answering?: boolean;
  token?: string;
  connections?: string[];
  variables?: string[];
  /** false for an existing Vault this sandbox uses but did not start. */
  managed?: boolean;
  /** The server's web UI; null when it answered /ui/ without one; absent when not asked. */
  ui?: string | null;
  /** The Airflow components `--check run --keep` left running (or a killed run left behind). */
  airflow?: RunStatus;
}

const TIMEOUT_MS = 1500;

/** What status asks the machine and the server, injected so its decisions are unit-tested with fakes. */
export interface StatusProbes {
  /** This sandbox's running server, proven ours by identity (src/sandbox). */
  running(sb: Sandbox): RunningServer | undefined;
  /** Why a recorded pid is or is not this sandbox's server. */
  proof(sb: Sandbox, pid: number, address: string): Proof;
  vault(options: VaultClientOptions): VaultApi;
  ui(url: string, caFile: string | undefined): Promise<ServerUi>;
}

export const REAL_PROBES: StatusProbes = {
  running: (sb) => runningServers(sb).server,
  proof: proveServer,
  vault: (o) => new VaultClient(o),
  ui: serverUi,
};

/**
 * The command that gets this sandbox's server running: `up` re-seeds from the config, so it needs
 * one; without a config there is nothing to start from and `create` is the way.
 */
function startPointer(sb: Sandbox, dirArg: string | undefined): string {
  const dir = dirArg === undefined ? '' : ` ${shellArg(dirArg)}`;
  if (sb.config.exists)
    return `run ${selfCommand()} up${dir} (starts the server and re-seeds it from ${sb.config.label})`;
  return `there is no sandbox to start: create one with ${selfCommand()}${dir} --yes (or without --yes, to be asked)`;
}

/** Why nothing runs: the record, the copy, or the proof that failed, in words a user can act on. */
function notRunning(sb: Sandbox, probes: StatusProbes): string {
  const rec = sb.server;
  if (!existsSync(sb.dir)) return 'no sandbox here';
  if (sb.facts.status === 'copied') return "this dir was copied from another sandbox; its server is not this one's";
  if (!rec) return `no server recorded (${relative(process.cwd(), sb.paths.state) || sb.paths.state} names none)`;
  if (rec.pid === undefined) return `the server a run meant to start on ${rec.address} is not running`;
  return probes.proof(sb, rec.pid, rec.address).why ?? `pid ${rec.pid} is not this sandbox's server`;
}

/** An existing Vault this sandbox uses: not ours; say so, and whether it answers (health needs no token). */
async function existingStatus(sb: Sandbox, existing: TargetRecord, probes: StatusProbes): Promise<StatusReport> {
  const report: StatusReport = {
    dir: sb.dir,
    running: true,
    url: existing.url,
    managed: false,
    reason: notManaged(existing),
  };
  const { url, caFile, namespace } = existing;
  try {
    const h = await probes.vault({ url, caFile, namespace, timeoutMs: TIMEOUT_MS }).health();
    report.answering = h.status === 200 || h.status === 429 || h.status === 473;
  } catch (e) {
    report.answering = false;
    report.fix = `ask whoever runs ${existing.url}: ${(e as Error).message}`;
  }
  return report;
}

/** The URL to talk to, made from the listen address the process was given (never taken as written), or why not. */
function urlOf(sv: RunningServer): { url: string } | { running: boolean; reason: string } {
  try {
    const a = parseAddress(sv.address);
    if (!isLoopback(a.host))
      return {
        running: true,
        reason: `the server listens on ${sv.address}, not loopback: the token is not sent there`,
      };
    return { url: addressUrl(a, sv.url.startsWith('https:')) };
  } catch {
    return { running: false, reason: `the server's address '${sv.address}' is not HOST:PORT` };
  }
}

/** What the token may see: valid or refused, and the ids listed where Airflow reads them. */
async function tokenStatus(sb: Sandbox, client: VaultApi, report: StatusReport): Promise<StatusReport> {
  try {
    await client.lookupSelf();
    report.token_valid = true;
  } catch (e) {
    if (e instanceof VaultError && e.kind === 'http' && (e.status === 403 || e.status === 401))
      report.token_valid = false;
    else report.reason = `not answering: ${(e as Error).message}`;
    return report;
  }
  // Where to list: the paths the sandbox's .env gives Airflow (never its url or token: those come from the proven record).
  const { mount, connPath, varPath } = await listingPaths(sb.paths.env, sb.facts.facts.airflowVersion);
  try {
    report.connections = await client.kvList(mount, connPath);
    report.variables = await client.kvList(mount, varPath);
  } catch {
    /* a KV v1 mount or a custom path: listing is best effort */
  }
  return report;
}

/** Our server runs: does it answer, where is its UI, does its token work, what is seeded. */
async function runningStatus(
  sb: Sandbox,
  sv: RunningServer,
  here: string,
  showToken: boolean,
  probes: StatusProbes,
): Promise<StatusReport> {
  const { facts } = sb.facts;
  const base = { dir: sb.dir, pid: sv.pid, url: sv.url, flavour: facts.flavour, version: facts.version };
  const started = { ...base, started_at: facts.server?.startedAt };
  const where = urlOf(sv);
  if (!('url' in where)) return { ...started, ...where };
  const { url } = where;
  const token = readBanner(sb.paths.serverOut, sb.paths.home).rootToken;
  const report: StatusReport = {
    ...started,
    url,
    running: true,
    token: token ? maskToken(token, showToken) : undefined,
  };
  const caFile = url.startsWith('https:') ? sb.paths.caFile : undefined;
  const client = probes.vault({ url, token, timeoutMs: TIMEOUT_MS, caFile });
  try {
    await client.health();
    report.answering = true;
  } catch (e) {
    report.answering = false;
    report.reason =
      e instanceof VaultError && e.kind === 'timeout'
        ? `not answering: no reply within ${TIMEOUT_MS / 1000} s`
        : `not answering: ${(e as Error).message}`;
    report.fix = `run ${selfCommand()} up${here} (stops it and starts it again)`;
    return report;
  }
  const ui = await probes.ui(url, caFile);
  if (ui) report.ui = ui.served ? ui.url : null;
  return token ? tokenStatus(sb, client, report) : report;
}

export async function sandboxStatus(
  dirArg: string | undefined,
  showToken = false,
  probes: StatusProbes = REAL_PROBES,
): Promise<StatusReport> {
  const sb = await openSandbox(dirArg);
  const report = await serverStatus(sb, dirArg, showToken, probes);
  const run = sb.facts.status === 'corrupt' ? undefined : sb.facts.facts.airflowRun;
  return run ? { ...report, airflow: runStatus(run) } : report;
}

async function serverStatus(
  sb: Sandbox,
  dirArg: string | undefined,
  showToken: boolean,
  probes: StatusProbes,
): Promise<StatusReport> {
  const { dir, paths } = sb;
  const here = dirArg === undefined ? '' : ` ${shellArg(dirArg)}`;
  const { status, facts, error } = sb.facts;
  if (status === 'corrupt') {
    const stateLabel = relative(process.cwd(), paths.state) || paths.state;
    const fix = `stop any server of this sandbox yourself, remove ${shellArg(paths.state)}, then run ${selfCommand()} up${here}`;
    return { dir, running: false, reason: `${stateLabel} is corrupt: it ${error}`, fix };
  }
  if (sb.target && !facts.server) return existingStatus(sb, sb.target, probes);
  // Ours by identity (the sandbox id and its private HOME), whatever the record lost on the way.
  const sv = probes.running(sb);
  if (sv) return runningStatus(sb, sv, here, showToken, probes);
  const rec = facts.server;
  return {
    dir,
    running: false,
    reason: notRunning(sb, probes),
    fix: startPointer(sb, dirArg),
    ...(rec?.pid !== undefined ? { pid: rec.pid, url: rec.url, started_at: rec.startedAt } : {}),
  };
}

/** The mount and paths Airflow reads with the sandbox's .env loaded; the provider's defaults where it says nothing usable. */
async function listingPaths(envFile: string, airflowVersion: string | undefined) {
  const d = PROVIDER_DEFAULTS;
  try {
    const { read } = await readBackendWithEnvFile(existsSync(envFile) ? envFile : undefined, {
      version: airflowVersion ?? '3',
    });
    const kw = read.settings.kwargs;
    return {
      mount: kw.mount_point || d.mount_point,
      connPath: firstPath(kw.connections_path, d.connections_path) ?? d.connections_path,
      varPath: firstPath(kw.variables_path, d.variables_path) ?? d.variables_path,
    };
  } catch (e) {
    if (!(e instanceof EnvFileError)) throw e;
    return { mount: d.mount_point, connPath: d.connections_path, varPath: d.variables_path };
  }
}

export async function statusCommand(dir: string | undefined, mode: OutputMode, showToken: boolean): Promise<number> {
  const r = await sandboxStatus(dir, showToken);
  const healthy = r.running && r.answering !== false;
  if (mode.json) {
    writeOut(JSON.stringify(r, null, 2));
  } else if (r.managed === false) {
    writeOut(`${r.answering ? 'answering' : 'NOT answering'}: ${r.reason}`);
    if (r.fix) writeOut(`fix: ${r.fix}`);
  } else if (r.running) {
    writeOut(`running: ${r.flavour} ${r.version} at ${r.url} (pid ${r.pid}, since ${r.started_at})`);
    if (r.answering === false) {
      writeOut(`${r.reason}`);
      if (r.fix) writeOut(`fix: ${r.fix}`);
    } else {
      writeOut(`token: ${r.token ?? 'unknown'}${r.token_valid === false ? ' (REFUSED by the server)' : ''}`);
      if (r.connections) writeOut(`connections: ${r.connections.length ? r.connections.join(', ') : 'none'}`);
      if (r.variables?.length) writeOut(`variables: ${r.variables.join(', ')}`);
      if (r.ui) writeOut(`web UI: ${r.ui} (sign in with method Token and the token above; --show-token prints it)`);
      else if (r.ui === null) writeOut(`no web UI: ${HOW_TO_GET_A_UI}`);
      if (r.reason) writeOut(r.reason);
    }
  } else {
    writeOut(`not running: ${r.reason}`);
    if (r.fix) writeOut(`fix: ${r.fix}`);
  }
  if (r.airflow && !mode.json) for (const l of airflowLines(r.airflow)) writeOut(l);
  return healthy ? 0 : 1;
}

function airflowLines(a: RunStatus): string[] {
  const up = a.components.filter((c) => c.running);
  const head = a.kept ? 'Airflow (kept by --check run --keep)' : 'Airflow (left by a --check run that did not finish)';
  const lines = [`${head}: ${up.length} of ${a.components.length} component(s) running, since ${a.started_at}`];
  for (const c of a.components)
    lines.push(
      `  ${c.name}: ${c.running ? `pid ${c.pid}${c.port ? ` on 127.0.0.1:${c.port}` : ''}` : `not running (${c.why})`}`,
    );
  if (a.ui && up.length) lines.push(`  UI: ${a.ui.url}${a.ui.sign_in ? ` (${a.ui.sign_in})` : ''}`);
  return lines;
}
