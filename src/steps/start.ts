/**
 * Step 3: reuse our running server when it is proven ours and its token still works; otherwise
 * record the intent to start one (the sandbox id, the address, the private HOME), start
 * `<bin> server -dev` detached, record its pid the moment it exists, and capture the root token.
 * The intent comes first, so a run cut anywhere after it leaves a server `down` can find by identity.
 */
import { StepError } from '../errors.js';
import { ensurePrivateDir } from '../io/private.js';
import { ensureDir } from '../io/write.js';
import { clearServer, recordServerIntent, recordServerStarted } from '../sandbox/index.js';
import { maskToken, registerSecret } from '../ui/mask.js';
import { addressUrl, formatAddress, type ListenAddress, nextFreeAddress } from '../vault/address.js';
import { binaryStamp, type ServerBinary } from '../vault/binary.js';
import { VaultClient } from '../vault/client.js';
import { devServerArgs, readBanner, startServer, stopAndWait } from '../vault/server.js';
import type { CreateContext } from './context.js';

const STEP = 'start';

/** Why the decided reuse cannot happen after all, or null when the server serves with a valid token. */
async function reuseProblem(ctx: CreateContext, url: string): Promise<{ token?: string; problem?: string }> {
  const token = readBanner(ctx.paths.serverOut, ctx.paths.home).rootToken;
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
    caFile: url.startsWith('https:') ? ctx.paths.caFile : undefined,
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
      STEP,
      `the old sandbox server (pid ${pid}) does not stop`,
      `stop pid ${pid} yourself, then rerun`,
    );
  }
  clearServer(ctx.paths, STEP);
}

function binaryOf(ctx: CreateContext): ServerBinary {
  if (!ctx.binary) throw new StepError(STEP, 'no server binary was chosen', 'rerun');
  return ctx.binary;
}

/** The server that preflight decided to reuse, when its token still works; else stops what must go first. */
async function reuseOrClear(ctx: CreateContext): Promise<boolean> {
  const d = ctx.decision ?? {};
  if (d.reuse) {
    const r = await reuseProblem(ctx, d.reuse.url);
    if (r.token) {
      ctx.server = { pid: d.reuse.pid, url: d.reuse.url, token: r.token, startedNow: false };
      registerSecret(r.token);
      ctx.report.info(`reusing the sandbox server (pid ${d.reuse.pid}) on ${d.reuse.url}`);
      return true;
    }
    await stopOurs(ctx, d.reuse.pid, r.problem ?? 'it does not answer');
  } else if (d.stopFirst !== undefined) {
    await stopOurs(ctx, d.stopFirst, d.restartReason ?? 'its settings changed');
  }
  return false;
}

export async function start(ctx: CreateContext): Promise<void> {
  if (!ctx.address) throw new StepError(STEP, 'no address was chosen', 'rerun');
  let listen: ListenAddress = ctx.address;
  if (await reuseOrClear(ctx)) return;
  const binary = binaryOf(ctx);
  ensureDir(ctx.paths.dir);
  ensurePrivateDir(ctx.paths.stateDir); // a real dir of ours, 0700: it holds the banner with the token
  const sandboxId = ctx.settings.sandbox.id;
  // --tls: the server's own -dev-tls writes a fresh CA and certificate here at each start.
  const tlsCertDir = ctx.settings.tls ? ctx.paths.tlsDir : undefined;
  if (tlsCertDir) ensurePrivateDir(tlsCertDir);
  const caFile = tlsCertDir ? ctx.paths.caFile : undefined;
  const tokenSource = ctx.settings.rootToken ? 'user' : 'server';
  for (let attempt = 0; ; attempt++) {
    const url = addressUrl(listen, ctx.settings.tls);
    const address = formatAddress(listen);
    recordServerIntent(ctx.paths, STEP, { sandboxId, address, url, tokenSource });
    try {
      const started = await startServer({
        binary,
        listen: address,
        rootToken: ctx.settings.rootToken,
        kvVersion: ctx.settings.kvVersion,
        tlsCertDir,
        stdoutFile: ctx.paths.serverOut,
        stderrFile: ctx.paths.serverLog,
        homeDir: ctx.paths.home,
        sandboxId,
        timeoutMs: startTimeoutMs(),
        // The dev server mounts secret/ just after it stores its token: seeding needs the mount.
        readyProbe: async (token) =>
          (await new VaultClient({ url, token, timeoutMs: 500, caFile }).mountInfo('secret').catch(() => null)) !==
          null,
        onSpawn: (pid) => {
          ctx.server = { pid, url, token: '', startedNow: true };
          recordServerStarted(ctx.paths, STEP, { pid, url });
        },
      });
      ctx.server = { pid: started.pid, url, token: started.rootToken, startedNow: true };
      registerSecret(started.rootToken); // from here on no message, error included, prints it
      recordServerStarted(ctx.paths, STEP, {
        pid: started.pid,
        url,
        bin: binary.path,
        binStamp: binaryStamp(binary.path),
        flavour: binary.flavour,
        version: binary.version,
      });
      ctx.report.info(`${binary.flavour} ${binary.version} dev server started on ${url} (pid ${started.pid})`);
      return;
    } catch (e) {
      await stopStartedServer(ctx);
      // Lost a race for the port between our probe and the server's bind: move on, unless the user chose it.
      const inUse = e instanceof StepError && e.kind === 'address-in-use';
      if (!inUse || ctx.settings.addressExplicit || attempt >= 3) throw e;
      const next = await nextFreeAddress({ host: listen.host, port: listen.port + 1 });
      if (!next) throw e;
      ctx.report.warn(`${address} was taken meanwhile; trying ${formatAddress(next)}`);
      listen = next;
      ctx.address = next;
    }
  }
}

/** The dry run's view: reuse (and why) or the exact command that would start. */
export async function planStart(ctx: CreateContext): Promise<string[]> {
  const d = ctx.decision ?? {};
  if (!ctx.address) return [];
  const listen = ctx.address;
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
  const b = binaryOf(ctx);
  const token = ctx.settings.rootToken
    ? `root token via ${b.flavour === 'OpenBao' ? 'BAO' : 'VAULT'}_DEV_ROOT_TOKEN_ID (${maskToken(ctx.settings.rootToken, false)})`
    : 'root token made by the server';
  const certDir = ctx.settings.tls ? ctx.paths.tlsDir : undefined;
  const command = [b.path, ...devServerArgs(b, formatAddress(listen), ctx.settings.kvVersion, certDir)].join(' ');
  return `would start: ${command} (${token}; listens on ${addressUrl(listen, ctx.settings.tls)})`;
}

/** SECRETS_SANDBOX_START_TIMEOUT (seconds) for slow machines; 20 s otherwise. */
export function startTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const v = Number(env.SECRETS_SANDBOX_START_TIMEOUT);
  return Number.isFinite(v) && v > 0 ? v * 1000 : 20_000;
}

/**
 * Undo a server this run started (a later step failed, or the run is interrupted); true when one is
 * left running (it would not stop: its record stays). Never throws: the failure that brought us here
 * is the one to report. A record that cannot be cleared names a gone server, which the next run clears.
 */
export async function stopStartedServer(ctx: CreateContext): Promise<boolean> {
  if (!ctx.server?.startedNow) return false;
  const pid = ctx.server.pid;
  ctx.server = undefined;
  if (!(await stopAndWait(pid))) return true;
  try {
    clearServer(ctx.paths, STEP);
  } catch {
    /* see above */
  }
  return false;
}
