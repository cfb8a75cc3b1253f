/**
 * `status [dir]`: is the sandbox's server up, where, since when, and what is seeded. The token goes
 * only to the recorded loopback address, and only after the process there is proven ours.
 */
import { existsSync } from 'node:fs';
import { relative } from 'node:path';
import { openSandbox, proveServer, runningServers, type Sandbox } from '../sandbox/index.js';
import { readBanner } from '../vault/server.js';
import { VaultClient, VaultError } from '../vault/client.js';
import { addressUrl, isLoopback, parseAddress } from '../vault/address.js';
import { EnvFileError, firstPath, PROVIDER_DEFAULTS, readBackendWithEnvFile } from '../airflow/backend/index.js';
import { notManaged } from '../target/index.js';
import { maskToken } from '../ui/mask.js';
import { writeOut, type OutputMode } from '../ui/output.js';
import { selfCommand } from '../ui/invocation.js';
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
  /** The Airflow components `--check run --keep` left running (or a killed run left behind). */
  airflow?: RunStatus;
}

const TIMEOUT_MS = 1500;

/** Why nothing runs: the record, the copy, or the proof that failed, in words a user can act on. */
function notRunning(sb: Sandbox): string {
  const rec = sb.server;
  if (!existsSync(sb.dir)) return 'no sandbox here';
  if (sb.facts.status === 'copied') return "this dir was copied from another sandbox; its server is not this one's";
  if (!rec) return `no server recorded (${relative(process.cwd(), sb.paths.state) || sb.paths.state} names none)`;
  if (rec.pid === undefined) return `the server a run meant to start on ${rec.address} is not running`;
  return proveServer(sb, rec.pid, rec.address).why ?? `pid ${rec.pid} is not this sandbox's server`;
}

export async function sandboxStatus(dirArg: string | undefined, showToken = false): Promise<StatusReport> {
  const sb = await openSandbox(dirArg);
  const report = await serverStatus(sb, dirArg, showToken);
  const run = sb.facts.facts.airflowRun;
  return run ? { ...report, airflow: runStatus(run) } : report;
}

async function serverStatus(sb: Sandbox, dirArg: string | undefined, showToken: boolean): Promise<StatusReport> {
  const { dir, paths } = sb;
  const here = dirArg ?? '';
  const { status, facts, error } = sb.facts;
  const stateLabel = relative(process.cwd(), paths.state) || paths.state;
  if (status === 'corrupt') {
    return {
      dir,
      running: false,
      reason: `${stateLabel} is corrupt: it ${error}`,
      fix: `stop any server of this sandbox yourself, remove ${paths.state}, then run ${selfCommand()} up ${here}`.trim(),
    };
  }
  const existing = sb.target;
  if (existing && !facts.server) {
    // Not ours: say so, and whether it answers (health needs no token).
    const report: StatusReport = {
      dir,
      running: true,
      url: existing.url,
      managed: false,
      reason: notManaged(existing),
    };
    try {
      const h = await new VaultClient({
        url: existing.url,
        caFile: existing.caFile,
        namespace: existing.namespace,
        timeoutMs: TIMEOUT_MS,
      }).health();
      report.answering = h.status === 200 || h.status === 429 || h.status === 473;
    } catch (e) {
      report.answering = false;
      report.fix = `ask whoever runs ${existing.url}: ${(e as Error).message}`;
    }
    return report;
  }
  // Ours by identity (the sandbox id and its private HOME), whatever the record lost on the way.
  const sv = runningServers(sb).server;
  if (!sv) {
    const rec = facts.server;
    return {
      dir,
      running: false,
      reason: notRunning(sb),
      ...(rec?.pid !== undefined ? { pid: rec.pid, url: rec.url, started_at: rec.startedAt } : {}),
    };
  }
  const base = {
    dir,
    pid: sv.pid,
    url: sv.url,
    flavour: facts.flavour,
    version: facts.version,
    started_at: facts.server?.startedAt,
  };
  // The URL we talk to is made from the listen address the process was given, never taken as written.
  let url: string;
  try {
    const a = parseAddress(sv.address);
    if (!isLoopback(a.host))
      return {
        ...base,
        running: true,
        reason: `the server listens on ${sv.address}, not loopback: the token is not sent there`,
      };
    url = addressUrl(a, sv.url.startsWith('https:'));
  } catch {
    return {
      ...base,
      running: false,
      reason: `the server's address '${sv.address}' is not HOST:PORT`,
    };
  }
  const token = readBanner(paths.serverOut, paths.home).rootToken;
  const report: StatusReport = { ...base, url, running: true, token: token ? maskToken(token, showToken) : undefined };
  const client = new VaultClient({
    url,
    token,
    timeoutMs: TIMEOUT_MS,
    caFile: url.startsWith('https:') ? paths.caFile : undefined,
  });
  try {
    await client.health();
    report.answering = true;
  } catch (e) {
    report.answering = false;
    report.reason =
      e instanceof VaultError && e.kind === 'timeout'
        ? `not answering: no reply within ${TIMEOUT_MS / 1000} s`
        : `not answering: ${(e as Error).message}`;
    report.fix = `${selfCommand()} up ${here}`.trim() + ' restarts it';
    return report;
  }
  if (!token) return report;
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
  const { mount, connPath, varPath } = await listingPaths(paths.env, facts.airflowVersion);
  try {
    report.connections = await client.kvList(mount, connPath);
    report.variables = await client.kvList(mount, varPath);
  } catch {
    /* a KV v1 mount or a custom path: listing is best effort */
  }
  return report;
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
      if (r.reason) writeOut(r.reason);
    }
  } else {
    writeOut(`not running: ${r.reason}`);
    writeOut(r.fix ? `fix: ${r.fix}` : `start it with: ${selfCommand()} up${dir ? ` ${dir}` : ''}`);
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
