/**
 * Cut runs: create, up and doctor --fix killed (SIGKILL) at instants spread evenly over a whole run,
 * or their sandbox dir renamed at those instants while they run. After each: `down` finds and
 * stops every server the run started (identity is the sandbox id and the server's HOME, never the
 * path or a pid a cut run may not have recorded), no process of the run is left, and at the end a
 * plain rerun converges.
 */
import { spawn } from 'node:child_process';
import { existsSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createArgs, envWorks, harness, type Harness } from './attack-harness.js';
import { CLI, scaled } from './env.js';
import { cleanup, freePort, processesUnder, type Run, runCli, serversUnder, workspace } from './sandbox.js';

export type CutCommand = 'create' | 'up' | 'doctor --fix';
export type Cut = 'kill' | 'rename';

/** At least this many instants per command (issue 21). */
export const INSTANTS = 30;

function argsOf(c: CutCommand, port: number): string[] {
  if (c === 'create') return createArgs(port);
  return c === 'up' ? ['up'] : ['doctor', '--fix'];
}

/** The CLI as node on its entry, so a SIGKILL hits the CLI itself. */
function start(h: Harness, args: string[]) {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: h.w.cwd, env: h.w.env, stdio: 'ignore' });
  const done = new Promise<number>((res) => child.on('close', (code, sig) => res(code ?? (sig ? 137 : 1))));
  return { child, done };
}

function ok(r: Run, what: string): Run {
  expect(r.code, `${what}\n${r.stdout}\n${r.stderr}`).toBe(0);
  expect(r.stdout + r.stderr, what).not.toMatch(/unexpected error|\bat .*\.js:\d+/);
  return r;
}

/** The state the command starts from: no sandbox for create, a stopped one for up and doctor --fix. */
async function prepare(h: Harness, c: CutCommand): Promise<void> {
  if (existsSync(h.dir)) ok(await runCli(h.w, ['down']), 'down before the next cut');
  if (c === 'create') rmSync(h.dir, { recursive: true, force: true });
  else if (!existsSync(join(h.dir, '.env'))) {
    ok(await runCli(h.w, createArgs(h.port)), 'create');
    ok(await runCli(h.w, ['down']), 'down');
  }
}

export function runCuts(
  command: CutCommand,
  cut: Cut,
  serverBin: string | undefined,
  skipReason: string | undefined,
): void {
  describe.skipIf(skipReason)(
    `${command}, ${cut === 'kill' ? 'SIGKILL' : 'the sandbox dir renamed'} at ${INSTANTS} instants spread over a whole run`,
    () => {
      let h: Harness;
      let window = 0;
      beforeAll(async () => {
        h = harness(workspace(serverBin), await freePort());
        await prepare(h, command);
        const t0 = Date.now();
        const whole = start(h, argsOf(command, h.port));
        expect(await whole.done, 'the whole run that measures the window').toBe(0);
        window = Date.now() - t0;
      });
      afterAll(async () => {
        for (const d of [h.dir, `${h.dir}-renamed`]) if (existsSync(d)) await runCli(h.w, ['down', d]);
        expect(cleanup(h.w)).toEqual([]);
      });

      for (let k = 0; k < INSTANTS; k++) {
        it(`instant ${k + 1} of ${INSTANTS}: down then stops every server, nothing of the run is left`, async () => {
          await prepare(h, command);
          const at = Math.round((k * window) / INSTANTS);
          const run = start(h, argsOf(command, h.port));
          await sleep(at);
          const renamed = `${h.dir}-renamed`;
          let moved = false;
          if (cut === 'kill') run.child.kill('SIGKILL');
          else if (existsSync(h.dir)) {
            renameSync(h.dir, renamed);
            moved = true;
          }
          const code = await Promise.race([run.done, sleep(scaled(60_000)).then(() => -1)]);
          const what = `${command}, ${cut} at ${at} ms of ${window} ms: exit ${code}`;
          expect(code, `${what}: the run ended`).not.toBe(-1);
          if (cut === 'rename') expect([0, 1, 2], what).toContain(code);
          // down in every dir that holds the sandbox now finds and stops what the run started.
          for (const d of [renamed, h.dir]) if (existsSync(d)) ok(await runCli(h.w, ['down', d]), `${what}: down ${d}`);
          expect(serversUnder(h.w.root), `${what}: servers left after down`).toEqual([]);
          expect(processesUnder(h.w.root), `${what}: processes left`).toEqual([]);
          if (moved) {
            rmSync(h.dir, { recursive: true, force: true });
            renameSync(renamed, h.dir);
          }
        });
      }

      it('a plain rerun then converges: exit 0, one server, the .env works', async () => {
        ok(await runCli(h.w, createArgs(h.port)), 'the rerun after the cuts');
        expect(serversUnder(h.w.root)).toHaveLength(1);
        await envWorks(h, 'after the cuts');
        ok(await runCli(h.w, ['down']), 'down');
      });
    },
  );
}
