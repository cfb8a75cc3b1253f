/**
 * A run that fails leaves the directory as it was when it started: what it created is removed,
 * except the files its error sends the user to; what was there before stays. The error is one
 * complete sentence (a server that exits without a word says so, never a bare colon).
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { missing, scaled, serverBinary } from '../support/env.js';
import { fakeBinary, freePort, processesUnder, runCli, serversUnder, workspaces } from '../support/sandbox.js';

const BIN = serverBinary();
const space = workspaces(BIN);

describe.skipIf(missing('server binary', BIN))('a failed run leaves the directory as it was', () => {
  it('a first run whose server exits silently: one sentence, only the log its fix names is left', async () => {
    const w = space();
    const bin = fakeBinary(w.root, 'vault', 'exit 3');
    const r = await runCli(w, ['--yes', '--vault-bin', bin, '--address', `127.0.0.1:${await freePort()}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('start: the server exited before it was ready (exit 3) and wrote no error to its log');
    expect(r.stderr).not.toMatch(/ready[^\n]*:\s*$/m);
    const dir = join(w.cwd, 'secrets-sandbox');
    const log = join(dir, '.sandbox', 'server.log');
    expect(r.stderr).toContain(`fix: see ${log}`);
    expect(existsSync(log), 'the file the fix names is kept').toBe(true);
    expect(readdirSync(dir)).toEqual(['.sandbox']);
    expect(existsSync(join(dir, '.sandbox', 'state.json'))).toBe(false);
    expect(serversUnder(w.root)).toEqual([]);
  });

  it(
    'a first run that fails after the start: the server stopped, everything it made gone',
    async () => {
      const w = space();
      // A server that prints its banner and never serves: the start succeeds, the wait for readiness fails.
      const bin = fakeBinary(w.root, 'vault', 'echo "Root Token: s.AAAAAAAAAAAAAAAAAAAAAAAA"; exec sleep 300');
      const dir = join(w.cwd, 'secrets-sandbox');
      const r = await runCli(w, ['--yes', '--vault-bin', bin, '--address', `127.0.0.1:${await freePort()}`]);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/^✖ ready: /m);
      expect(r.stderr).toContain('cleaned up: stopped the server it had started; removed what this run had created');
      expect(serversUnder(w.root)).toEqual([]);
      expect(existsSync(dir)).toBe(false);
    },
    scaled(60_000),
  );

  it('a rerun that fails keeps what was there before (the config the user wrote)', async () => {
    const w = space();
    const dir = join(w.cwd, 'secrets-sandbox');
    mkdirSync(dir);
    writeFileSync(join(dir, 'secrets-sandbox.yaml'), 'connections:\n  pg: postgres://u:p@db/app\n');
    const bin = fakeBinary(w.root, 'vault', 'exit 3');
    const r = await runCli(w, ['--yes', '--vault-bin', bin, '--address', `127.0.0.1:${await freePort()}`]);
    expect(r.code).toBe(1);
    expect(readdirSync(dir).sort()).toEqual(['.sandbox', 'secrets-sandbox.yaml']);
  });
});
