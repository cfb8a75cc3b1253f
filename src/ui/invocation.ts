/**
 * The command as the user invoked it, for next steps and fix lines that work when pasted:
 * `npx --package <spec> create-secrets-sandbox` (or plain `npx create-secrets-sandbox`) under npx,
 * the installed bin when PATH finds this very script (npm links the bin to dist/cli.js), else
 * `node /abs/path/dist/cli.js` (a clone): absolute, because the user pastes it from wherever they
 * stand later, not only from the clone's root.
 */
import { accessSync, constants, realpathSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';

export function shellArg(p: string): string {
  return /^[\w./:@=+-]+$/.test(p) ? p : `'${p.replace(/'/g, `'\\''`)}'`;
}

function real(p: string): string | null {
  try {
    return realpathSync(p);
  } catch {
    return null;
  }
}

const BIN = 'create-secrets-sandbox';

export function selfCommand(argv1: string = process.argv[1] ?? '', env: NodeJS.ProcessEnv = process.env): string {
  // npx runs us from its cache (~/.npm/_npx/<hash>/node_modules); npm_command is inherited by
  // grandchildren too, so it only says which npx form, never whether.
  if (/[\\/]_npx[\\/]/.test(argv1)) {
    const spec = env.npm_config_package;
    // `npx --package ./pkg.tgz create-secrets-sandbox` sets npm_config_package; a bare `npx name` does not.
    return spec && spec !== BIN ? `npx --package ${shellArg(spec)} ${BIN}` : `npx ${BIN}`;
  }
  // A project's own dependency: npx finds it in node_modules/.bin.
  if (/[\\/]node_modules[\\/]/.test(argv1) && !/[\\/]lib[\\/]node_modules[\\/]/.test(argv1)) return `npx ${BIN}`;
  const self = real(argv1);
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, BIN);
    try {
      accessSync(candidate, constants.X_OK);
    } catch {
      continue;
    }
    const found = real(candidate);
    if (found && found === self) return BIN;
    break; // the first on PATH is what the user's shell runs: if it is not us, name us by path
  }
  if (!argv1) return `npx ${BIN}`;
  return `node ${shellArg(resolve(argv1))}`;
}
