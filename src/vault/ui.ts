/** Whether a server serves its web UI, for the next steps to point at. */

/** GET <url>/ui/: a dev server built with its UI (Vault, OpenBao from PyPI) answers 200. */
export async function serverUi(url: string, caFile?: string): Promise<string | null> {
  const secure = url.startsWith('https:');
  const { request } = secure ? await import('node:https') : await import('node:http');
  const { readFileSync } = await import('node:fs');
  let ca: Buffer | string[] | undefined;
  try {
    ca = secure ? (caFile ? readFileSync(caFile) : await (await import('./trust.js')).defaultCa()) : undefined;
  } catch {
    return null;
  }
  return new Promise((resolve) => {
    const req = request(`${url}/ui/`, { method: 'GET', signal: AbortSignal.timeout(2000), ...(ca ? { ca } : {}) }, (res) => {
      res.resume();
      resolve(res.statusCode === 200 ? `${url}/ui` : null);
    });
    req.on('error', () => resolve(null));
    req.end();
  });
}
