/** Step 2: the server binary and what it is, a writable sandbox dir, and the address to listen on. */
import { existsSync, mkdtempSync, rmdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { StepError, UsageError } from '../errors.js';
import { identifyBinary, locateBinary, resolveWrapper } from '../vault/binary.js';
import { installOpenBao } from '../vault/install.js';
import { formatAddress, nextFreeAddress, parseAddress, portIsFree } from '../vault/address.js';
import { isAlive, isOurServer } from '../vault/server.js';
import { readState } from '../sandbox.js';
import type { CreateContext } from './context.js';

function nearestExisting(p: string): string {
  let d = p;
  while (!existsSync(d) && dirname(d) !== d) d = dirname(d);
  return d;
}

export async function preflight(ctx: CreateContext): Promise<void> {
  const s = ctx.settings;
  const base = nearestExisting(s.dir);
  // access(2) says yes to root on every path, so make and remove a probe entry instead.
  try {
    rmdirSync(mkdtempSync(join(base, '.css-probe-')));
  } catch {
    throw new UsageError(`sandbox dir '${s.dir}' is not writable (nothing can be created in ${base}); pick another dir`);
  }

  let path: string;
  try {
    path = locateBinary(s.vaultBin, s.vaultBinSource);
  } catch (e) {
    if (!(e instanceof StepError) || !s.installServer) throw e;
    path = resolveWrapper(await installOpenBao((m) => ctx.report.info(m)));
    // Remember it in secrets-sandbox.yaml, so `up` and reruns find the same server.
    s.vaultBin = path;
    s.vaultBinSource = '--vault-bin';
  }
  ctx.binary = await identifyBinary(path, readState(ctx.paths));
  ctx.report.info(`${ctx.binary.flavour} ${ctx.binary.version} at ${ctx.binary.path}`);
  if (!ctx.binary.supportsNoStoreToken) {
    ctx.report.warn(`${ctx.binary.flavour} ${ctx.binary.version} predates -dev-no-store-token; the server runs with a private HOME so ~/.vault-token stays untouched`);
  }

  // Our own running server keeps its address: the start step decides whether to reuse it.
  const state = readState(ctx.paths);
  if (state && isAlive(state.pid) && isOurServer(state.pid, state.address)) {
    const same = !s.addressExplicit || state.address === formatAddress(s.address);
    if (same) {
      ctx.address = parseAddress(state.address);
      return;
    }
  }

  if (s.addressExplicit) {
    if (!(await portIsFree(s.address))) {
      throw new StepError('preflight', `${formatAddress(s.address)} is already in use by another process`, `stop it, or pick a free port with --address ${s.address.host}:${s.address.port + 2}`);
    }
    ctx.address = s.address;
    return;
  }
  const free = await nextFreeAddress(s.address);
  if (!free) throw new StepError('preflight', `no free port near ${formatAddress(s.address)}`, 'pass --address HOST:PORT with a free port');
  if (free.port !== s.address.port) ctx.report.warn(`${formatAddress(s.address)} is taken; the server will listen on ${formatAddress(free)} instead (written into .env)`);
  ctx.address = free;
}
