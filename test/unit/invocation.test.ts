import { chmodSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { selfCommand } from '../../src/ui/invocation.js';

describe('the command as the user invoked it', () => {
  it('from a clone: node and the absolute path to dist/cli.js, which works from any directory', () => {
    expect(selfCommand('/home/u/src/css/dist/cli.js', { PATH: '/usr/bin' })).toBe('node /home/u/src/css/dist/cli.js');
    expect(selfCommand('/home/u/my src/dist/cli.js', { PATH: '/usr/bin' })).toBe("node '/home/u/my src/dist/cli.js'");
  });

  it('under npx: the package spec it was given, quoted for the shell', () => {
    const npx = '/root/.npm/_npx/ab12/node_modules/create-secrets-sandbox/dist/cli.js';
    expect(
      selfCommand(npx, { npm_command: 'exec', npm_config_package: '/tmp/my dir/create-secrets-sandbox-0.1.0.tgz' }),
    ).toBe("npx --package '/tmp/my dir/create-secrets-sandbox-0.1.0.tgz' create-secrets-sandbox");
    expect(selfCommand(npx, { npm_command: 'exec' })).toBe('npx create-secrets-sandbox');
  });

  it('an inherited npm_command (tests under `npx vitest`) does not make a clone look like npx', () => {
    expect(selfCommand('/home/u/src/css/dist/cli.js', { npm_command: 'exec', PATH: '/usr/bin' })).toBe(
      'node /home/u/src/css/dist/cli.js',
    );
  });

  it('installed: the bare bin name when PATH finds this very script', () => {
    const root = mkdtempSync(join(tmpdir(), 'css-inv-'));
    const pkg = join(root, 'lib', 'node_modules', 'create-secrets-sandbox', 'dist');
    mkdirSync(pkg, { recursive: true });
    writeFileSync(join(pkg, 'cli.js'), '');
    mkdirSync(join(root, 'bin'));
    symlinkSync(join(pkg, 'cli.js'), join(root, 'bin', 'create-secrets-sandbox'));
    chmodSync(join(pkg, 'cli.js'), 0o755);
    expect(selfCommand(join(pkg, 'cli.js'), { PATH: `${join(root, 'bin')}:/usr/bin` })).toBe('create-secrets-sandbox');
  });

  it("installed globally: npm's relative link to dist/cli.js; another package's bin of that name first on PATH", () => {
    const root = mkdtempSync(join(tmpdir(), 'css-inv-'));
    const pkg = join(root, 'lib', 'node_modules', 'create-secrets-sandbox');
    mkdirSync(join(pkg, 'dist'), { recursive: true });
    writeFileSync(join(pkg, 'dist', 'cli.js'), '#!/usr/bin/env node\n');
    chmodSync(join(pkg, 'dist', 'cli.js'), 0o755);
    mkdirSync(join(root, 'bin'));
    symlinkSync(
      join('..', 'lib', 'node_modules', 'create-secrets-sandbox', 'dist', 'cli.js'),
      join(root, 'bin', 'create-secrets-sandbox'),
    );
    expect(selfCommand(join(pkg, 'dist', 'cli.js'), { PATH: `${join(root, 'bin')}:/usr/bin` })).toBe(
      'create-secrets-sandbox',
    );
    // Another package's bin of the same name first on PATH: we are named by path instead.
    const other = join(root, 'other');
    mkdirSync(other);
    writeFileSync(join(other, 'create-secrets-sandbox'), '#!/bin/sh\n');
    chmodSync(join(other, 'create-secrets-sandbox'), 0o755);
    expect(selfCommand(join(pkg, 'dist', 'cli.js'), { PATH: `${other}:${join(root, 'bin')}` })).toBe(
      `node ${join(pkg, 'dist', 'cli.js')}`,
    );
  });
});
