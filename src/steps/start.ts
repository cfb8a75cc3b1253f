/**
 * Step 3: reuse our running server when it is proven ours and its token still works; otherwise
 * start `<bin> server -dev` detached, record its pid the moment it exists, capture the root token
 * from its banner, and record the rest of the facts.
 */
import { StepError } from '../errors.js';
import { ensurePrivateDir } from '../io/private.js';
import { ensureDir } from '../io/write.js';
import { registerSecret } from '../ui/mask.js';
import { addressUrl, formatAddress, nextFreeAddress, type ListenAddress } from '../vault/address.js';
import { VaultClient } from '../vault/client.js';
import { devTlsCaFile, sandboxCaFile, tlsDir } from '../vault/tls.js';
import { readBanner, startServer, devServerArgs, stopAndWait } from '../vault/server.js';
import { binaryStamp } from '../vault/binary.js';
import { settleBinary } from './preflight.js';
import { clearServer, writeState } from '../sandbox.js';
import type { CreateContext } from './context.js';
import { maskToken } from '../ui/mask.js';

/** Why the decided reuse cannot happen after all, or null when the server serves with a valid token. */
async function reuseProblem(ctx: CreateContext, url: string): Promise<{ token?: string; problem?: string }> {
  const token = readBanner(ctx.paths.serverOut).rootToken;
  const wanted = ctx.settings.rootToken;
  if (!token) return { problem: 'its banner with the root token is gone' };
  if (wanted !== undefined && wanted !== token) return { problem: 'a different --root-token was asked for' };
  if (url.startsWith('https:') !== ctx.settings.tls)
    return {
      problem: ctx.settings.tls ? 'it serves plain HTTP and --tls was asked for' : 'it serves HTTPS and --tls is off',
    };
  const client = new VaultClient({
    url,
    token,
    timeoutMs: 3000,
    caFile: url.startsWith('https:') ? sandboxCaFile(ctx.paths.stateDir) : undefined,
  });
  try {
    const h = await client.health();
    if (h.status !== 200) return { problem: `it answers health with ${h.status}` };
    await client.lookupSelf();
    return { token };
  } catch (e) {
    return { problem: (e as Error).message };
  }
}

async function stopOurs(ctx: CreateContext, pid: number, why: string): Promise<void> {
  ctx.report.info(`restarting the sandbox server: ${why}`);
  if (!(await stopAndWait(pid))) {
    throw new StepError(
      'start',
      `the old sandbox server (pid ${pid}) does not stop`,
      `stop pid ${pid} yourself, then rerun`,
    );
  }
  clearServer(ctx.paths);
}

export async function start(ctx: CreateContext): Promise<void> {
  let listen = ctx.address!;
  const d = ctx.decision ?? {};
  if (d.reuse) {
    const r = await reuseProblem(ctx, d.reuse.url);
    if (r.token) {
      ctx.server = { pid: d.reuse.pid, url: d.reuse.url, token: r.token, startedNow: false };
      registerSecret(r.token);
      ctx.report.info(`reusing the sandbox server (pid ${d.reuse.pid}) on ${d.reuse.url}`);
      await settleBinary(ctx);
      return;
    }
    await stopOurs(ctx, d.reuse.pid, r.problem!);
  } else if (d.stopFirst !== undefined) {
    await stopOurs(ctx, d.stopFirst, d.restartReason ?? 'its settings changed');
  }

  ensureDir(ctx.paths.dir);
  ensurePrivateDir(ctx.paths.stateDir); // a real dir of ours, 0700: it holds the banner with the token
  const sandboxId = ctx.settings.facts.sandboxId;
  // --tls: the server's own -dev-tls writes a fresh CA and certificate here at each start.
  const tlsCertDir = ctx.settings.tls ? tlsDir(ctx.paths.stateDir) : undefined;
  if (tlsCertDir) ensurePrivateDir(tlsCertDir);
  const caFile = tlsCertDir ? devTlsCaFile(tlsCertDir) : undefined;
  const urlOf = (a: ListenAddress) => addressUrl(a, ctx.settings.tls);
  const record = (pid: number, url: string) =>
    writeState(ctx.paths, {
      pid,
      address: formatAddress(listen),
      url,
      flavour: ctx.binary!.flavour,
      version: ctx.binary!.version,
      bin: ctx.binary!.path,
      binStamp: binaryStamp(ctx.binary!.path),
      startedAt: new Date().toISOString(),
      tokenSource: ctx.settings.rootToken ? 'user' : 'server',
      sandboxId,
    });
  for (let attempt = 0; ; attempt++) {
    try {
      const started = await startServer({
        binary: ctx.binary!,
        listen: formatAddress(listen),
        rootToken: ctx.settings.rootToken,
        kvVersion: ctx.settings.kvVersion,
        tlsCertDir,
        stdoutFile: ctx.paths.serverOut,
        stderrFile: ctx.paths.serverLog,
        homeDir: ctx.paths.home,
        sandboxId,
        timeoutMs: startTimeoutMs(),
        readyProbe: async (token) => {
          try {
            // The dev server mounts secret/ just after it stores its token: seeding needs the mount.
            ctx.readyMount = await new VaultClient({ url: urlOf(listen), token, timeoutMs: 500, caFile }).mountInfo(
              'secret',
            );
            return ctx.readyMount !== null;
          } catch {
            return false;
          }
        },
        onSpawn: (pid) => {
          ctx.server = { pid, url: urlOf(listen), token: '', startedNow: true };
          // Recorded at once: a SIGKILL of this CLI from here on leaves a server `down` can find and stop.
          record(pid, urlOf(listen));
          ctx.warmUp?.();
        },
      });
      const url = urlOf(listen);
      ctx.server = { pid: started.pid, url, token: started.rootToken, startedNow: true };
      registerSecret(started.rootToken); // from here on no message, error included, prints it
      await settleBinary(ctx); // a binary that is not Vault fails here, and create stops what it started
      record(started.pid, url);
      ctx.report.info(`${ctx.binary!.flavour} dev server started on ${url} (pid ${started.pid})`);
      return;
    } catch (e) {
      if (ctx.server?.startedNow && ctx.server.pid) await stopAndWait(ctx.server.pid);
      if (ctx.server?.startedNow) clearServer(ctx.paths);
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

/** The dry run's view: reuse (and why) or the exact command that would start. */
export async function planStart(ctx: CreateContext): Promise<string[]> {
  const d = ctx.decision ?? {};
  const listen = ctx.address!;
  if (d.reuse) {
    const r = await reuseProblem(ctx, d.reuse.url);
    if (r.token) return [`would reuse the running sandbox server (pid ${d.reuse.pid}) on ${d.reuse.url}`];
    return [`would stop the sandbox server (pid ${d.reuse.pid}): ${r.problem}`, startLine(ctx, listen)];
  }
  const lines: string[] = [];
  if (d.stopFirst !== undefined) lines.push(`would stop the sandbox server (pid ${d.stopFirst}): ${d.restartReason}`);
  lines.push(startLine(ctx, listen));
  return lines;
}

function startLine(ctx: CreateContext, listen: ListenAddress): string {
  const b = ctx.binary!;
  const token = ctx.settings.rootToken
    ? `root token via ${b.flavour === 'OpenBao' ? 'BAO' : 'VAULT'}_DEV_ROOT_TOKEN_ID (${maskToken(ctx.settings.rootToken, false)})`
    : 'root token made by the server';
  const certDir = ctx.settings.tls ? tlsDir(ctx.paths.stateDir) : undefined;
  return `would start: ${[b.path, ...devServerArgs(b, formatAddress(listen), ctx.settings.kvVersion, certDir)].join(' ')} (${token}; listens on ${addressUrl(listen, ctx.settings.tls)})`;
}

/** SECRETS_SANDBOX_START_TIMEOUT (seconds) for slow machines; 20 s otherwise. */
export function startTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const v = Number(env.SECRETS_SANDBOX_START_TIMEOUT);
  return Number.isFinite(v) && v > 0 ? v * 1000 : 20_000;
}

/** Undo a server this run started (used when a later step fails or the run is interrupted). */
export async function stopStartedServer(ctx: CreateContext): Promise<void> {
  if (!ctx.server?.startedNow) return;
  const pid = ctx.server.pid;
  if (await stopAndWait(pid)) clearServer(ctx.paths);
  ctx.server = undefined;
}
