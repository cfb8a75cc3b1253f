/** Step 4: wait until /v1/sys/health answers 200; any other answer is explained, not just timed out. */
import { StepError } from '../errors.js';
import { HEALTH_STATUS, VaultError } from '../vault/client.js';
import { devTarget, writeTargetRecord } from '../target/index.js';
import { defineStep, type FlowContext, type Produced, type StepContext } from './context.js';
import { ownServerOnly } from './skip.js';
import { MAX_TEXT_BYTES, readUserFileWindowIfExists } from '../io/read.js';
import { isAlive } from '../vault/server.js';

function lastLogLine(file: string): string {
  const log = readUserFileWindowIfExists(file, {
    what: "the server's log",
    maxBytes: MAX_TEXT_BYTES,
    from: 'end',
    ownerCheck: true,
    noFollow: true,
  });
  return (
    (log ?? '')
      .trim()
      .split('\n')
      .filter((l) => /ERROR|error/.test(l))
      .slice(-1)[0]
      ?.trim() ?? ''
  );
}

/**
 * The cluster port the dev server failed to bind (PORT+1, taken by another process between the
 * tool's check and the server's start), from the server's own log: the server runs without it and
 * says so only there. Read from the log because the server tells no one else.
 */
function lostClusterPort(file: string): string | undefined {
  const log = readUserFileWindowIfExists(file, {
    what: "the server's log",
    maxBytes: MAX_TEXT_BYTES,
    from: 'start',
    ownerCheck: true,
    noFollow: true,
  });
  const line = (log ?? '')
    .split('\n')
    .find((l) => l.includes('cluster-listener') && l.includes('error starting listener'));
  return line ? (/listen tcp (\S+?): bind/.exec(line)?.[1] ?? 'PORT+1') : undefined;
}

const clusterPortLost = (port: string) =>
  `the server answers, but its cluster port ${port} (a dev server binds PORT+1 too) was taken by another process before the server could bind it`;
const CLUSTER_PORT_FIX =
  'rerun: both ports are checked again (with --address, name a port whose next port is free too)';

/** How long the server may take to answer health with 200 once started. */
const READY_TIMEOUT_MS = 15_000;
const POLL_MS = 10;

async function ready(ctx: StepContext<'server'>): Promise<Partial<Produced>> {
  const { server, services } = ctx;
  // The target every later step talks to: our dev server, with its own CA when it serves HTTPS.
  const target = ctx.target ?? devTarget(server.url, server.url.startsWith('https:') ? ctx.paths.caFile : undefined);
  const client = services.vault({ url: target.url, token: server.token, caFile: target.caFile });
  writeTargetRecord(ctx.paths.target, target); // a sandbox that once used an existing Vault no longer does
  const deadline = services.clock.now() + READY_TIMEOUT_MS;
  let last = '';
  for (;;) {
    const status = await client.health().then(
      (h) => h.status,
      (e: unknown) => {
        last = e instanceof VaultError ? e.message : String(e);
        return undefined;
      },
    );
    if (status === 200) {
      // Only a server this run started: one reused from an earlier run was judged when it started.
      const lost = server.startedNow ? lostClusterPort(ctx.paths.serverLog) : undefined;
      if (lost) throw new StepError('ready', clusterPortLost(lost), CLUSTER_PORT_FIX);
      return { target, client };
    }
    if (status !== undefined)
      last = `health answered ${status}: the server is ${HEALTH_STATUS[status] ?? 'in an unknown state'}`;
    if (!isAlive(server.pid)) {
      const why = lastLogLine(ctx.paths.serverLog) || last;
      throw new StepError('ready', `the server (pid ${server.pid}) exited before it was ready: ${why}`, lookAtLog(ctx));
    }
    if (services.clock.now() > deadline) {
      const after = `${READY_TIMEOUT_MS / 1000} s`;
      throw new StepError('ready', `the server at ${server.url} is not ready after ${after}: ${last}`, lookAtLog(ctx));
    }
    await services.clock.sleep(POLL_MS);
  }
}

const lookAtLog = (ctx: FlowContext) => `look at ${ctx.paths.serverLog}, then rerun`;

export const readyStep = defineStep({
  title: 'Wait until it is ready',
  needs: ['server'],
  skip: ownServerOnly,
  run: ready,
});
