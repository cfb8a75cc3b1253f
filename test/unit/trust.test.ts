/**
 * The launcher's hand-over of NODE_EXTRA_CA_CERTS (bin/create-secrets-sandbox): the variable is put
 * back for child processes, and a TLS connection without a CA of its own trusts Node's bundled roots
 * plus that file, as Node does when it loads the file itself. TLS through it: test/e2e/launcher.test.ts.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { adoptDeferredExtraCa, defaultCa, DEFERRED_EXTRA_CA } from '../../src/vault/trust.js';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIBtest\n-----END CERTIFICATE-----\n';

afterEach(() => {
  adoptDeferredExtraCa({});
  vi.restoreAllMocks();
});

describe('the deferred NODE_EXTRA_CA_CERTS', () => {
  it('is put back under its own name for children, and the private name is gone', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'css-trust-')), 'corp.pem');
    writeFileSync(file, PEM);
    const env: NodeJS.ProcessEnv = { NODE_EXTRA_CA_CERTS: '', [DEFERRED_EXTRA_CA]: file, PATH: '/usr/bin' };
    adoptDeferredExtraCa(env);
    expect(env).toEqual({ NODE_EXTRA_CA_CERTS: file, PATH: '/usr/bin' });
    const ca = await defaultCa();
    expect(ca).toHaveLength(rootCertificates.length + 1);
    expect(ca!.slice(0, -1)).toEqual([...rootCertificates]);
    expect(ca!.at(-1)).toBe(PEM);
  });

  it('counts only the launcher hand-over: a private name beside a set or unset variable is stale and dropped', async () => {
    for (const env of [
      { NODE_EXTRA_CA_CERTS: '/etc/loaded-by-node.pem', [DEFERRED_EXTRA_CA]: '/tmp/other.pem' },
      { [DEFERRED_EXTRA_CA]: '/tmp/other.pem' },
    ] as NodeJS.ProcessEnv[]) {
      const before = env.NODE_EXTRA_CA_CERTS;
      adoptDeferredExtraCa(env);
      expect(env[DEFERRED_EXTRA_CA]).toBeUndefined();
      expect(env.NODE_EXTRA_CA_CERTS).toBe(before);
      expect(await defaultCa()).toBeUndefined(); // Node's own default store
    }
  });

  it('without a hand-over, leaves the environment and Node’s default store alone', async () => {
    const env: NodeJS.ProcessEnv = { NODE_EXTRA_CA_CERTS: '' };
    adoptDeferredExtraCa(env);
    expect(env).toEqual({ NODE_EXTRA_CA_CERTS: '' });
    expect(await defaultCa()).toBeUndefined();
  });

  it('an unreadable file: Node’s warning, and the bundled roots alone (what Node does at start)', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const missingFile = join(tmpdir(), `css-trust-missing-${process.pid}.pem`);
    adoptDeferredExtraCa({ NODE_EXTRA_CA_CERTS: '', [DEFERRED_EXTRA_CA]: missingFile });
    expect(await defaultCa()).toEqual([...rootCertificates]);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toContain(`Ignoring extra certs from \`${missingFile}\`, load failed`);
  });
});
