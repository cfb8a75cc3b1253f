/** Whether a server serves its web UI, for the next steps to point at. */
import { transport } from './client.js';

/** GET <url>/ui/: a dev server built with its UI (Vault, OpenBao from PyPI) answers 200. */
export async function serverUi(url: string, caFile?: string): Promise<string | null> {
  let t: Awaited<ReturnType<typeof transport>>;
  try {
    t = await transport(url.startsWith('https:'), caFile);
  } catch {
    return null; // an unreadable CA file: the client's own requests name it
  }
  return new Promise((resolve) => {
    const req = t.request(`${url}/ui/`, { method: 'GET', agent: t.agent, signal: AbortSignal.timeout(2000) }, (res) => {
      res.resume();
      resolve(res.statusCode === 200 ? `${url}/ui` : null);
    });
    req.on('error', () => resolve(null));
    req.end();
  });
}
