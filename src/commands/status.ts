/** `status [dir]`: is the sandbox's server up, where, since when, and what is seeded. */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { sandboxPaths, readState, type ServerState } from '../sandbox.js';
import { isAlive, isOurServer, readBanner } from '../vault/server.js';
import { VaultClient } from '../vault/client.js';
import { backendFromEnv } from '../steps/check.js';
import { DEFAULT_DIR } from '../settings.js';
import { maskToken } from '../ui/mask.js';
import { writeOut, type OutputMode } from '../ui/output.js';

export interface StatusReport {
  dir: string;
  running: boolean;
  reason?: string;
  pid?: number;
  url?: string;
  flavour?: string;
  version?: string;
  started_at?: string;
  token_valid?: boolean;
  token?: string;
  connections?: string[];
  variables?: string[];
}

export async function sandboxStatus(dirArg: string | undefined, showToken = false): Promise<StatusReport> {
  const dir = resolve(dirArg ?? DEFAULT_DIR);
  const paths = sandboxPaths(dir);
  const state: ServerState | null = readState(paths);
  if (!state) return { dir, running: false, reason: existsSync(dir) ? 'no server recorded (.sandbox/state.json is missing)' : 'no sandbox here' };
  const base = { dir, pid: state.pid, url: state.url, flavour: state.flavour, version: state.version, started_at: state.startedAt };
  if (!isAlive(state.pid)) return { ...base, running: false, reason: `the recorded server (pid ${state.pid}) is not running` };
  if (!isOurServer(state.pid, state.address)) return { ...base, running: false, reason: `pid ${state.pid} is now another process, not the sandbox server` };
  const token = readBanner(paths.serverOut).rootToken;
  const report: StatusReport = { ...base, running: true, token: token ? maskToken(token, showToken) : undefined };
  if (!token) return report;
  const client = new VaultClient({ url: state.url, token, timeoutMs: 3000 });
  try {
    await client.lookupSelf();
    report.token_valid = true;
  } catch {
    report.token_valid = false;
    return report;
  }
  const env = existsSync(paths.env) ? backendFromEnv(readFileSync(paths.env, 'utf8')) : null;
  const mount = env && typeof env !== 'string' ? env.mount : 'secret';
  const connPath = env && typeof env !== 'string' ? env.connectionsPath : 'connections';
  try {
    report.connections = await client.kvList(mount, connPath);
    report.variables = await client.kvList(mount, 'variables');
  } catch {
    /* a KV v1 mount or a custom path: listing is best effort */
  }
  return report;
}

export async function statusCommand(dir: string | undefined, mode: OutputMode, showToken: boolean): Promise<number> {
  const r = await sandboxStatus(dir, showToken);
  if (mode.json) {
    writeOut(JSON.stringify(r, null, 2));
  } else if (r.running) {
    writeOut(`running: ${r.flavour} ${r.version} at ${r.url} (pid ${r.pid}, since ${r.started_at})`);
    writeOut(`token: ${r.token ?? 'unknown'}${r.token_valid === false ? ' (REFUSED by the server)' : ''}`);
    if (r.connections) writeOut(`connections: ${r.connections.length ? r.connections.join(', ') : 'none'}`);
    if (r.variables?.length) writeOut(`variables: ${r.variables.join(', ')}`);
  } else {
    writeOut(`not running: ${r.reason}`);
    writeOut(`start it with: create-secrets-sandbox up${dir ? ` ${dir}` : ''}`);
  }
  return r.running ? 0 : 1;
}
