/**
 * The token for an existing Vault, asked on the terminal when neither VAULT_TOKEN/BAO_TOKEN nor
 * --token-file gives one. Typed without echo; never taken from a command-line value.
 */
export async function promptToken(url: string): Promise<string> {
  const { createInterface } = await import('node:readline');
  const out = process.stderr;
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: process.stdin, output: out, terminal: true });
    let muted = false;
    // readline echoes through _writeToOutput; while muted, the typed characters are not shown.
    const r = rl as unknown as { _writeToOutput: (s: string) => void };
    const write = r._writeToOutput.bind(rl);
    r._writeToOutput = (s: string) => {
      if (!muted || s.includes('\n')) write(muted ? '\n' : s);
    };
    rl.on('SIGINT', () => {
      rl.close();
      reject(Object.assign(new Error('cancelled'), { name: 'Cancelled' }));
    });
    rl.question(`Token for ${url} (not echoed): `, (answer) => {
      rl.close();
      resolve(answer.trim());
    });
    muted = true;
  });
}
