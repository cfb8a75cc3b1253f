/**
 * Step 6b (--auth other than token): what a production Vault admin would do for Airflow, on the
 * sandbox server: write a policy that may only read the connections and variables paths, then let
 * the auth method (src/vault/auth) enable itself, bind an identity to that policy and hand Airflow
 * its credentials. The root token never reaches Airflow's env. A policy.hcl the user edited is what
 * gets written, so a team's own policy can be rehearsed: the check then says what it lets Airflow read.
 */
import { existsSync } from 'node:fs';
import { relative } from 'node:path';
import { EnvFileError, readBackendWithEnvFile } from '../airflow/backend/index.js';
import { StepError } from '../errors.js';
import { POLICY_READ, readUserFileIfExists } from '../io/read.js';
import { readWrittenRecord, recordedHashes, sha256 } from '../io/write.js';
import { POLICY_FILE, type SandboxPaths } from '../sandbox/index.js';
import type { Settings } from '../settings.js';
import { registerSecret } from '../ui/mask.js';
import { methodOf, secretsOf } from '../vault/auth/index.js';
import { POLICY_NAME, renderPolicy } from '../vault/auth/policy.js';
import { defineStep, type FlowContext, type StepContext, type WrittenPolicy } from './context.js';

/** The policy Airflow's identity is bound to on the sandbox server. */
export { POLICY_NAME };

/**
 * The policy to write: policy.hcl when the user edited it (and no --force), else the generated one.
 * A policy.hcl the tool wrote and nobody touched follows the settings (a changed mount or path).
 */
export function policyToWrite(s: Settings, paths: SandboxPaths): WrittenPolicy {
  const generated: WrittenPolicy = { name: POLICY_NAME, text: renderPolicy(s), source: 'generated' };
  if (s.force) return generated;
  const text = readUserFileIfExists(paths.policy, POLICY_READ);
  if (text === null || text === generated.text) return generated;
  const recorded = recordedHashes(readWrittenRecord(paths.written), relative(paths.dir, paths.policy));
  return recorded.includes(sha256(text)) ? generated : { name: POLICY_NAME, text, source: 'policy.hcl' };
}

/** The kwargs the current .env gives Airflow ({} without one, or one bash cannot finish sourcing). */
async function currentKwargs(envFile: string, version: string): Promise<Record<string, unknown>> {
  if (!existsSync(envFile)) return {};
  try {
    return (await readBackendWithEnvFile(envFile, { version })).read.kwargs;
  } catch (e) {
    if (e instanceof EnvFileError) return {};
    throw e;
  }
}

/** The method's credential lifetime: --secret-id-ttl, and whether this run asked for it (then a new credential). */
const ttlOf = (s: Settings) => ({ seconds: s.secretIdTtl, renew: s.source.secretIdTtl === 'flag' });

/** The method's set-up, or why none runs: an existing Vault, or a method that uses the tool's own token. */
function skipLogin(ctx: FlowContext): string | undefined {
  const s = ctx.settings;
  if (s.existing) return `an existing Vault: Airflow's ${s.auth} credentials come from the environment`;
  return methodOf(s.auth).sandbox ? undefined : `--auth ${s.auth}: Airflow uses the tool's token`;
}

async function setUpLogin(ctx: StepContext<'client'>) {
  const s = ctx.settings;
  const method = methodOf(s.auth);
  const setUp = method.sandbox;
  if (!setUp) return {};
  const policy = policyToWrite(s, ctx.paths);
  const input = {
    policy: policy.name,
    current: await currentKwargs(ctx.paths.env, ctx.airflow?.version ?? s.airflowVersion),
    ttl: ttlOf(s),
    now: () => ctx.services.clock.now(),
    say: (m: string) => ctx.report.info(m),
  };
  try {
    await ctx.client.writePolicy(policy.name, policy.text);
    const airflowAuth = await setUp.setUp(ctx.client, input);
    registerSecret(...secretsOf(airflowAuth));
    if (policy.source === 'policy.hcl')
      ctx.report.warn(
        `wrote your edited ${POLICY_FILE} as the policy ${policy.name} (--force goes back to the generated one)`,
      );
    return { airflowAuth, policy };
  } catch (e) {
    if (e instanceof StepError) throw e;
    const fix = `rerun; the tool needs its root token for this (see ${ctx.paths.serverOut})`;
    throw new StepError('airflow login', `setting up ${s.auth} for Airflow failed: ${(e as Error).message}`, fix);
  }
}

export const airflowLoginStep = defineStep({
  title: "Set up Airflow's login and a read-only policy",
  needs: ['client'],
  plan(ctx) {
    const s = ctx.settings;
    const policy = policyToWrite(s, ctx.paths);
    const what =
      policy.source === 'policy.hcl' ? 'your edited policy.hcl' : 'read-only on the connections and variables paths';
    const lines = methodOf(s.auth).sandbox?.plan({ policy: policy.name, ttl: ttlOf(s) }) ?? [];
    return { lines: [`would write the policy ${policy.name} (${what})`, ...lines] };
  },
  run: setUpLogin,
  skip: skipLogin,
});
