/**
 * What the create flow asks a person before it runs: the wizard (a terminal without --yes), the
 * hidden token prompt for an existing Vault with no token anywhere, and the confirmation of the
 * exact paths --seed would write to someone else's Vault.
 */
import { createInterface } from 'node:readline/promises';
import { Cancelled, UsageError } from '../errors.js';
import type { Settings, CreateOptions } from '../settings.js';
import { secretPaths } from '../steps/seed.js';
import { promptToken } from '../target/prompt.js';
import { writeErr } from '../ui/output.js';
import { runWizard } from '../ui/wizard.js';
import { DEFAULT_SANDBOX_DIR, findSandboxDir } from '../sandbox/index.js';
import { wizardFacts } from './wizard-facts.js';

const NO_TERMINAL =
  'no terminal to ask questions on: run with --yes (and flags such as --conn ID=URI) to accept the defaults';

export async function askUser(
  options: CreateOptions,
  interactive: boolean,
  env: NodeJS.ProcessEnv,
): Promise<{ options: CreateOptions; token?: string; wizard?: boolean }> {
  if (!options.yes && !interactive && !options.dryRun) throw new UsageError(NO_TERMINAL);
  if (options.yes || !interactive || options.dryRun) return { options };
  const defaultDir = findSandboxDir(undefined) === process.cwd() ? '.' : DEFAULT_SANDBOX_DIR;
  const answered = await runWizard(options, wizardFacts(options.config), { defaultDir });
  const url = answered.vaultUrl;
  if (url === undefined || answered.tokenFile !== undefined || env.VAULT_TOKEN || env.BAO_TOKEN)
    return { options: answered, wizard: true };
  const token = await promptToken(url).catch(() => {
    throw new Cancelled();
  });
  return { options: answered, token: token || undefined, wizard: true };
}

/** --seed on an existing Vault: show the exact paths and ask (a terminal without --yes; CI passes --yes). */
export async function confirmSeed(s: Settings): Promise<void> {
  const ex = s.existing;
  if (!ex) return;
  const paths = secretPaths(s);
  const ns = ex.namespace ? ` (namespace ${ex.namespace})` : '';
  writeErr(`--seed will write these ${paths.length} secret(s) to ${ex.url}${ns}:`);
  for (const p of paths) writeErr(`  ${p}`);
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await rl.question('Write them? [y/N] ').finally(() => rl.close());
  if (!/^y(es)?$/i.test(answer.trim())) throw new Cancelled('nothing written: --seed was not confirmed');
}
