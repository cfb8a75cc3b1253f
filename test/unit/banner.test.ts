import { describe, expect, it } from 'vitest';
import { parseBanner } from '../../src/vault/banner.js';

// vault.md §9.2: Vault dev, default flags, modern.
const VAULT = `==> Vault server configuration:

             Api Address: http://127.0.0.1:8200
                     Cgo: disabled
         Cluster Address: https://127.0.0.1:8201
              Listener 1: tcp (addr: "127.0.0.1:8200", cluster address: "127.0.0.1:8201", tls: "disabled")
               Log Level: 
                 Storage: inmem
                 Version: Vault v1.19.0, built 2025-03-04T12:36:40Z

==> Vault server started! Log data will stream in below:

WARNING! dev mode is enabled! In this mode, Vault runs entirely in-memory
and starts unsealed with a single unseal key. The root token is already
authenticated to the CLI, so you can immediately begin using Vault.

You may need to set the following environment variables:

    $ export VAULT_ADDR='http://127.0.0.1:8200'

The unseal key and root token are displayed below in case you want to
seal/unseal the Vault or re-authenticate.

Unseal Key: 7TpT0LzXxGHx1q2iGqa0bqIrlIXPS1D8XyeaGzYpXeA=
Root Token: hvs.aBcDeFgHiJkLmNoPqRsTuVwX

Development mode should NOT be used in production installations!
`;

// OpenBao 2.6+: leading blank line, "started!" without a tail, BAO_ADDR, s. tokens.
const OPENBAO = `
==> OpenBao server configuration:

             Api Address: http://127.0.0.1:8299
                 Version: OpenBao v2.7.2, committed 2026-10-26T20:32:27Z

==> OpenBao server started!


WARNING! dev mode is enabled! In this mode, OpenBao runs entirely in-memory
and starts unsealed with a single unseal key. The root token is already
authenticated to the CLI, so you can immediately begin using OpenBao.

You may need to set the following environment variables:

    $ export BAO_ADDR='http://127.0.0.1:8299'

Unseal Key: p94XcfZo70+UV/jc43A/kc+gphKRHYSSrZzzV0bpKro=
Root Token: s.O39HgCIvO4rm6WXcpStUiuDl

Development mode should NOT be used in production installations!
`;

describe('dev server banner', () => {
  it('reads a Vault banner', () => {
    const b = parseBanner(VAULT);
    expect(b).toMatchObject({
      rootToken: 'hvs.aBcDeFgHiJkLmNoPqRsTuVwX',
      unsealKey: '7TpT0LzXxGHx1q2iGqa0bqIrlIXPS1D8XyeaGzYpXeA=',
      address: 'http://127.0.0.1:8200',
      flavour: 'Vault',
    });
    expect(b.errors).toEqual([]);
  });

  it('reads an OpenBao banner', () => {
    expect(parseBanner(OPENBAO)).toMatchObject({
      rootToken: 's.O39HgCIvO4rm6WXcpStUiuDl',
      address: 'http://127.0.0.1:8299',
      flavour: 'OpenBao',
    });
  });

  it('names the server and its version from the configuration block, before any token is printed', () => {
    // The block comes first: settleBinary identifies the binary from it instead of running `version`.
    const head = (t: string) => t.slice(0, t.indexOf('server started'));
    expect(parseBanner(head(VAULT)).version).toEqual({ flavour: 'Vault', version: '1.19.0' });
    expect(parseBanner(head(OPENBAO)).version).toEqual({ flavour: 'OpenBao', version: '2.7.2' });
    expect(parseBanner(head(OPENBAO)).rootToken).toBeUndefined();
    expect(
      parseBanner('==> OpenBao server configuration:\n\n   Api Address: http://127.0.0.1:8299\n').version,
    ).toBeUndefined();
  });

  it('reads a custom root token id literally, whatever its shape', () => {
    expect(parseBanner('Root Token: my-root\n').rootToken).toBe('my-root');
  });

  it('ignores ANSI colour a PTY would add and CRLF line ends', () => {
    const coloured = VAULT.replace('Root Token:', '\x1b[33mRoot Token:')
      .replace('hvs.aBcDeFgHiJkLmNoPqRsTuVwX', 'hvs.aBcDeFgHiJkLmNoPqRsTuVwX\x1b[0m')
      .replace(/\n/g, '\r\n');
    expect(parseBanner(coloured).rootToken).toBe('hvs.aBcDeFgHiJkLmNoPqRsTuVwX');
  });

  it('has no token yet while the banner is still being written', () => {
    const half = VAULT.slice(0, VAULT.indexOf('Root Token:'));
    expect(parseBanner(half).rootToken).toBeUndefined();
  });

  it("reports the address-in-use failure in the server's own words", () => {
    const b = parseBanner(
      'Error parsing listener configuration.\nError initializing listener of type tcp: listen tcp 127.0.0.1:8200: bind: address already in use\n',
    );
    expect(b.rootToken).toBeUndefined();
    expect(b.errors.join(' ')).toContain('address already in use');
  });

  it('reports a failed custom root token', () => {
    const b = parseBanner(
      'Error initializing Dev mode: failed to create root token with ID "s.x": custom token ID cannot have a \'.\' in the value\n',
    );
    expect(b.errors[0]).toContain('failed to create root token');
  });
});
