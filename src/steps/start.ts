/**
 * Step 3: reuse our running server when it is healthy and its token still works; otherwise start
 * `<bin> server -dev` detached, capture the root token from its banner, and record the state.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { StepError } from '../errors.js';
import { ensureDir, ensurePrivateDir } from '../files.js';
import { registerSecret } from '../ui/mask.js';
import { addressUrl, formatAddress, nextFreeAddress, type ListenAddress } from '../vault/address.js';
import { VaultClient } from '../vault/client.js';
import { isAlive, isOurServer, readBanner, startServer, stopProcessGroup } from '../vault/server.js';
import { binaryStamp } from '../vault/binary.js';
import { settleBinary } from './preflight.js';
import { readState, writeState } from '../sandbox.js';
import type { CreateContext } from './context.js';

async function tryReuse(ctx: CreateContext, listen: ListenAddress): Promise<boolean> {
  const state = readState(ctx.paths);
  if (!state || !isAlive(state.pid) || !isOurServer(state.pid, state.address)) return false;
  const token = readBanner(ctx.paths.serverOut).rootToken;
  const wanted = ctx.settings.rootToken;
  const reasons: string[] = [];
  if (state.address !== formatAddress(listen)) reasons.push(`it listens on ${state.address}, not ${formatAddress(listen)}`);
  if (wanted !== undefined && wanted !== token) reasons.push('a different --root-token was asked for');
  if (ctx.binary && state.bin !== ctx.binary.path) reasons.push(`it runs ${state.bin}, not ${ctx.binary.path}`);
  if (!token) reasons.push('its banner with the root token is gone');
  if (reasons.length === 0 && token) {
    const client = new VaultClient({ url: state.url, token, timeoutMs: 3000 });
    try {
      const h = await client.health();
      if (h.status === 200) {
        await client.lookupSelf();
        ctx.server = { pid: state.pid, url: state.url, token, startedNow: false };
        registerSecret(token);
        ctx.report.info(`reusing the sandbox server (pid ${state.pid}) on ${state.url}`);
        return true;
      }
      reasons.push(`it answers health with ${h.status}`);
    } catch (e) {
      reasons.push((e as Error).message);
    }
  }
  ctx.report.info(`restarting the sandbox server: ${reasons.join('; ')}`);
  await stopProcessGroup(state.pid);
  return false;
}

export async function start(ctx: CreateContext): Promise<void> {
  let listen = ctx.address!;
  if (await tryReuse(ctx, listen)) {
    await settleBinary(ctx);
    return;
  }

  ensureDir(ctx.paths.dir);
  ensurePrivateDir(ctx.paths.stateDir); // a real dir of ours, 0700: it holds the banner with the token
  for (let attempt = 0; ; attempt++) {
    try {
      const started = await startServer({
        binary: ctx.binary!,
        listen: formatAddress(listen),
        rootToken: ctx.settings.rootToken,
        kvVersion: ctx.settings.kvVersion,
        stdoutFile: ctx.paths.serverOut,
        stderrFile: ctx.paths.serverLog,
        homeDir: join(ctx.paths.stateDir, 'home'),
        timeoutMs: startTimeoutMs(),
        readyProbe: async () => {
          try {
            return (await new VaultClient({ url: addressUrl(listen), timeoutMs: 500 }).health()).status === 200;
          } catch {
            return false;
          }
        },
        onSpawn: (pid) => (ctx.server = { pid, url: addressUrl(listen), token: '', startedNow: true }),
      });
      const url = addressUrl(listen);
      ctx.server = { pid: started.pid, url, token: started.rootToken, startedNow: true };
      registerSecret(started.rootToken); // from here on no message, error included, prints it
      await settleBinary(ctx); // a binary that is not Vault fails here, and create stops what it started
      const binary = ctx.binary!;
      writeState(ctx.paths, {
        pid: started.pid,
        address: formatAddress(listen),
        url,
        flavour: binary.flavour,
        version: binary.version,
        bin: binary.path,
        binStamp: binaryStamp(binary.path),
        startedAt: new Date().toISOString(),
        tokenSource: ctx.settings.rootToken ? 'user' : 'server',
      });
      ctx.report.info(`${binary.flavour} dev server started on ${url} (pid ${started.pid})`);
      return;
    } catch (e) {
      // An old Vault (< 1.2) refuses -dev-no-store-token: learn what it is, then start it without.
      if (ctx.binaryIdentity && e instanceof StepError && /flag provided but not defined/.test(e.message)) {
        const pid = ctx.server?.pid;
        if (pid) await stopProcessGroup(pid);
        ctx.server = undefined;
        await settleBinary(ctx);
        if (!ctx.binary!.supportsNoStoreToken && attempt < 3) continue;
        throw e;
      }
      if (ctx.server?.startedNow && ctx.server.pid) await stopProcessGroup(ctx.server.pid);
      ctx.server = undefined;
      // Lost a race for the port between our probe and the server's bind: move on, unless the user chose it.
      const inUse = e instanceof StepError && /address already in use/.test(e.message);
      if (!inUse || ctx.settings.addressExplicit || attempt >= 3) throw e;
      const next = await nextFreeAddress({ host: listen.host, port: listen.port + 1 });
      if (!next) throw e;
      ctx.report.warn(`${formatAddress(listen)} was taken meanwhile; trying ${formatAddress(next)}`);
      listen = next;
      ctx.address = next;
    }
  }
}

/** SECRETS_SANDBOX_START_TIMEOUT (seconds) for slow machines; 20 s otherwise. */
export function startTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const v = Number(env.SECRETS_SANDBOX_START_TIMEOUT);
  return Number.isFinite(v) && v > 0 ? v * 1000 : 20_000;
}

/** Undo a server this run started (used when a later step fails or the run is interrupted). */
export async function stopStartedServer(ctx: CreateContext): Promise<void> {
  if (!ctx.server?.startedNow) return;
  await stopProcessGroup(ctx.server.pid);
  rmSync(ctx.paths.state, { force: true });
  ctx.server = undefined;
}
