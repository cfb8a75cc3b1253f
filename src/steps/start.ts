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
import { binaryOf, binaryStamp, identifyBinary, type ServerBinary } from '../vault/binary.js';
import { devServerArgs, readBanner, startServer, stopAndWait } from '../vault/server.js';
import { defineStep, type FlowContext, type ServerDecision, type ServerHandle, type StepContext } from './context.js';
import { ownServerOnly } from './skip.js';

const STEP = 'start';
/** How often a start lost to a race for its port moves to the next one before giving up. */
const PORT_RACE_TRIES = 3;

/** The reused server's token, or why the decided reuse cannot happen after all. */
async function reuseProblem(ctx: FlowContext, url: string): Promise<{ token?: string; problem?: string }> {
  const token = readBanner(ctx.paths.serverOut, ctx.paths.home).rootToken;
  const wanted = ctx.settings.rootToken;
  if (!token) return { problem: 'its banner with the root token is gone' };
  if (wanted !== undefined && wanted !== token) return { problem: 'a different --root-token was asked for' };
  if (url.startsWith('https:') !== ctx.settings.tls)
    return {
      problem: ctx.settings.tls ? 'it serves plain HTTP and --tls was asked for' : 'it serves HTTPS and --tls is off',
    };
  const client = ctx.services.vault({
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

async function stopOurs(ctx: FlowContext, pid: number, why: string): Promise<void> {
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

/**
 * The binary's version when preflight left it to the server (a vault or bao this sandbox had not
 * run): the server's banner names it (`Version:` comes before the token), else `<bin> version`. A
 * binary that is neither Vault nor OpenBao fails here, and create stops the server it started.
 */
async function settleBinary(ctx: FlowContext, b: ServerBinary): Promise<ServerBinary> {
  if (b.version) return b;
  const said = readBanner(ctx.paths.serverOut, ctx.paths.home).version;
  const settled = said ? binaryOf(b.path, said) : await identifyBinary(b.path);
  ctx.report.info(`${settled.flavour} ${settled.version} at ${settled.path}`);
  return settled;
}

/** The server that preflight decided to reuse, when its token still works; else stops what must go first. */
async function reuseOrClear(
  ctx: FlowContext,
  d: ServerDecision,
  binary: ServerBinary,
): Promise<{ server: ServerHandle; binary: ServerBinary } | undefined> {
  if (d.reuse) {
    const r = await reuseProblem(ctx, d.reuse.url);
    if (r.token) {
      registerSecret(r.token);
      ctx.report.info(`reusing the sandbox server (pid ${d.reuse.pid}) on ${d.reuse.url}`);
      const server = { pid: d.reuse.pid, url: d.reuse.url, token: r.token, startedNow: false };
      return { server, binary: await settleBinary(ctx, binary) };
    }
    await stopOurs(ctx, d.reuse.pid, r.problem ?? 'it does not answer');
  } else if (d.stopFirst !== undefined) {
    await stopOurs(ctx, d.stopFirst, d.restartReason ?? 'its settings changed');
  }
  return undefined;
}

/** One start on `listen`: the intent recorded first, the pid the moment it exists, the binary once it serves. */
async function startOn(
  ctx: FlowContext,
  binary: ServerBinary,
  listen: ListenAddress,
): Promise<{ server: ServerHandle; binary: ServerBinary }> {
  const s = ctx.settings;
  // --tls: the server's own -dev-tls writes a fresh CA and certificate here at each start.
  const tlsCertDir = s.tls ? ctx.paths.tlsDir : undefined;
  if (tlsCertDir) ensurePrivateDir(tlsCertDir);
  const caFile = tlsCertDir ? ctx.paths.caFile : undefined;
  const url = addressUrl(listen, s.tls);
  const address = formatAddress(listen);
  const sandboxId = s.sandbox.id;
  recordServerIntent(ctx.paths, STEP, { sandboxId, address, url, tokenSource: s.rootToken ? 'user' : 'server' });
  const started = await startServer({
    binary,
    listen: address,
    rootToken: s.rootToken,
    kvVersion: s.kvVersion,
    tlsCertDir,
    stdoutFile: ctx.paths.serverOut,
    stderrFile: ctx.paths.serverLog,
    homeDir: ctx.paths.home,
    sandboxId,
    timeoutMs: startTimeoutMs(ctx.services.env),
    signal: ctx.signal,
    // The dev server mounts secret/ just after it stores its token: seeding needs the mount.
    readyProbe: async (token) =>
      (await ctx.services
        .vault({ url, token, timeoutMs: 500, caFile })
        .mountInfo('secret')
        .catch(() => null)) !== null,
    onSpawn: (pid) => {
      ctx.spawned.serverPid = pid;
      recordServerStarted(ctx.paths, STEP, { pid, url });
    },
  });
  registerSecret(started.rootToken); // from here on no message, error included, prints it
  const settled = await settleBinary(ctx, binary);
  const recorded = recordServerStarted(ctx.paths, STEP, {
    pid: started.pid,
    url,
    bin: settled.path,
    binStamp: binaryStamp(settled.path),
    flavour: settled.flavour,
    version: settled.version,
  });
  // The run's failure handling stops the server it spawned (ctx.spawned), so nothing is left orphaned.
  if (!recorded) throw new StepError(STEP, recordLost(ctx.paths.state), 'rerun in the sandbox dir where it is now');
  ctx.report.info(`${settled.flavour} ${settled.version} dev server started on ${url} (pid ${started.pid})`);
  return { server: { pid: started.pid, url, token: started.rootToken, startedNow: true }, binary: settled };
}

const recordLost = (state: string) =>
  `${state}, where the server's start was recorded, is gone: the sandbox dir was moved or removed while the server started`;

async function start(ctx: StepContext<'binary' | 'address' | 'decision'>) {
  const reused = await reuseOrClear(ctx, ctx.decision, ctx.binary);
  if (reused) return reused;
  ensureDir(ctx.paths.dir);
  ensurePrivateDir(ctx.paths.stateDir); // a real dir of ours, 0700: it holds the banner with the token
  let listen = ctx.address;
  for (let attempt = 0; ; attempt++) {
    try {
      return { ...(await startOn(ctx, ctx.binary, listen)), address: listen };
    } catch (e) {
      await stopStartedServer(ctx);
      // Lost a race for the port between our probe and the server's bind: move on, unless the user chose it.
      const inUse = e instanceof StepError && e.kind === 'address-in-use';
      if (!inUse || ctx.settings.addressExplicit || attempt >= PORT_RACE_TRIES) throw e;
      const next = await nextFreeAddress({ host: listen.host, port: listen.port + 1 }, 50, ctx.services.portIsFree);
      if (!next) throw e;
      ctx.report.warn(`${formatAddress(listen)} was taken meanwhile; trying ${formatAddress(next)}`);
      listen = next;
    }
  }
}

function startLine(ctx: FlowContext, b: ServerBinary, listen: ListenAddress): string {
  const s = ctx.settings;
  const via = `${b.flavour === 'OpenBao' ? 'BAO' : 'VAULT'}_DEV_ROOT_TOKEN_ID`;
  const token = s.rootToken
    ? `root token via ${via} (${maskToken(s.rootToken, false)})`
    : 'root token made by the server';
  const certDir = s.tls ? ctx.paths.tlsDir : undefined;
  const command = [b.path, ...devServerArgs(b, formatAddress(listen), s.kvVersion, certDir)].join(' ');
  return `would start: ${command} (${token}; listens on ${addressUrl(listen, s.tls)})`;
}

/** The dry run's view: reuse (and why) or the exact command that would start. */
async function planStart(ctx: FlowContext): Promise<string[]> {
  const { address, binary } = ctx;
  const d = ctx.decision ?? {};
  if (!address || !binary) return [];
  if (d.reuse) {
    const r = await reuseProblem(ctx, d.reuse.url);
    if (r.token) return [`would reuse the running sandbox server (pid ${d.reuse.pid}) on ${d.reuse.url}`];
    return [`would stop the sandbox server (pid ${d.reuse.pid}): ${r.problem}`, startLine(ctx, binary, address)];
  }
  const stop =
    d.stopFirst !== undefined ? [`would stop the sandbox server (pid ${d.stopFirst}): ${d.restartReason}`] : [];
  return [...stop, startLine(ctx, binary, address)];
}

export const startStep = defineStep({
  title: 'Start the dev server',
  needs: ['binary', 'address', 'decision'],
  skip: ownServerOnly,
  plan: async (ctx) => ({ lines: await planStart(ctx) }),
  run: start,
});

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
export async function stopStartedServer(ctx: Pick<FlowContext, 'spawned' | 'paths'>): Promise<boolean> {
  const pid = ctx.spawned.serverPid;
  if (pid === undefined) return false;
  ctx.spawned.serverPid = undefined;
  if (!(await stopAndWait(pid))) return true;
  try {
    clearServer(ctx.paths, STEP);
  } catch {
    /* see above */
  }
  return false;
}
