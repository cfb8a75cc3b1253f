/** Step 4: wait until /v1/sys/health answers 200; any other answer is explained, not just timed out. */
import { setTimeout as sleep } from 'node:timers/promises';
import { StepError } from '../errors.js';
import { HEALTH_STATUS, VaultError } from '../vault/client.js';
import { clientFor, devTarget, writeTargetRecord } from '../target/index.js';
import type { CreateContext } from './context.js';
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

export async function ready(ctx: CreateContext, timeoutMs = 15_000): Promise<void> {
  const server = ctx.server!;
  // The target every later step talks to: our dev server, with its own CA when it serves HTTPS.
  ctx.target ??= devTarget(server.url, server.url.startsWith('https:') ? ctx.paths.caFile : undefined);
  const client = clientFor(ctx.target, server.token);
  writeTargetRecord(ctx.paths.target, ctx.target); // a sandbox that once used an existing Vault no longer does
  const isReady = () => {
    ctx.client = client;
  };
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const h = await client.health();
      if (h.status === 200) return isReady();
      last = `health answered ${h.status}: the server is ${HEALTH_STATUS[h.status] ?? 'in an unknown state'}`;
    } catch (e) {
      last = e instanceof VaultError ? e.message : String(e);
    }
    if (!isAlive(server.pid)) {
      throw new StepError(
        'ready',
        `the server (pid ${server.pid}) exited before it was ready: ${lastLogLine(ctx.paths.serverLog) || last}`,
        `look at ${ctx.paths.serverLog}, then rerun`,
      );
    }
    if (Date.now() > deadline) {
      throw new StepError(
        'ready',
        `the server at ${server.url} is not ready after ${timeoutMs / 1000} s: ${last}`,
        `look at ${ctx.paths.serverLog}, then rerun`,
      );
    }
    await sleep(10);
  }
}
