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
    try {
      const h = await client.health();
      if (h.status === 200) return { target, client };
      last = `health answered ${h.status}: the server is ${HEALTH_STATUS[h.status] ?? 'in an unknown state'}`;
    } catch (e) {
      last = e instanceof VaultError ? e.message : String(e);
    }
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
