/** Step 2: the server binary and what it is, a writable sandbox dir, and the address to listen on. */
import { existsSync, mkdtempSync, rmdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { StepError, UsageError } from '../errors.js';
import { binaryStamp, identifyBinary, locateBinary, resolveWrapper } from '../vault/binary.js';
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

/** The binary's identity, once `version` has answered; reported once. A binary that is neither Vault nor OpenBao fails here. */
export async function settleBinary(ctx: CreateContext): Promise<void> {
  if (ctx.binaryIdentity) {
    const pending = ctx.binaryIdentity;
    ctx.binaryIdentity = undefined;
    ctx.binary = await pending;
  }
  const b = ctx.binary!;
  ctx.report.info(`${b.flavour} ${b.version} at ${b.path}`);
  if (!b.supportsNoStoreToken) {
    ctx.report.warn(`${b.flavour} ${b.version} predates -dev-no-store-token; the server runs with a private HOME so ~/.vault-token stays untouched`);
  }
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
  const state = readState(ctx.paths);
  const name = basename(path);
  if ((name === 'vault' || name === 'bao') && !(state && state.bin === path && state.binStamp === binaryStamp(path))) {
    // `version` of a 100+ MB binary takes ~80 ms: let it run while the server starts (settleBinary awaits it).
    ctx.binaryIdentity = identifyBinary(path);
    ctx.binaryIdentity.catch(() => {});
    ctx.binary = { path, flavour: name === 'bao' ? 'OpenBao' : 'Vault', version: '', supportsNoStoreToken: true };
  } else {
    ctx.binary = await identifyBinary(path, state);
  }

  // Our own running server keeps its address: the start step decides whether to reuse it.
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
