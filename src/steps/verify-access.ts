/** Step 5: the token works, and the mount exists as KV of the version Airflow will be told. */
import { StepError } from '../errors.js';
import { type MountInfo, VaultError } from '../vault/api.js';
import { defineStep, type Produced, type StepContext } from './context.js';

const STEP = 'verify access';

/** What the tool's token may see at the mount; a refused token is the step's failure. */
async function readMount(ctx: StepContext<'client'>, mount: string): Promise<MountInfo | null> {
  try {
    await ctx.client.lookupSelf();
  } catch (e) {
    const fix = 'rerun; a dev server forgets its tokens when it restarts';
    throw new StepError(STEP, `the root token was refused: ${(e as Error).message}`, fix);
  }
  try {
    return await ctx.client.mountInfo(mount);
  } catch (e) {
    // A server that stopped between the two requests (killed, crashed): a rerun starts it again.
    const gone = e instanceof VaultError && e.kind !== 'http';
    const fix = gone ? 'rerun: the server stopped answering, and the rerun starts it again' : undefined;
    throw new StepError(STEP, `cannot read the mount '${mount}': ${(e as Error).message}`, fix);
  }
}

async function verifyAccess(ctx: StepContext<'client'>): Promise<Partial<Produced>> {
  const { mount, kvVersion, existing } = ctx.settings;
  const info = await readMount(ctx, mount);
  if (!info || info.path !== mount) {
    if (existing) {
      // Not our server: mounting there is the team's decision, never a side effect of this tool.
      throw new StepError(
        STEP,
        `nothing is mounted at '${mount}/' on ${existing.url} (or the token may not see it)`,
        'pass --mount with the KV mount your team uses; this tool does not mount on an existing Vault',
      );
    }
    // Our own dev server: make the mount the settings ask for, as `vault secrets enable -version=N kv` would.
    await ctx.client.enableKv(mount, kvVersion);
    ctx.report.info(`mounted KV v${kvVersion} at ${mount}/`);
    return {};
  }
  if (info.type !== 'kv')
    throw new StepError(STEP, `'${mount}/' is a ${info.type} engine, not KV`, 'pick another --mount');
  if (info.kvVersion !== kvVersion) {
    throw new StepError(
      STEP,
      `'${mount}/' is KV v${info.kvVersion}, but the settings say v${kvVersion}`,
      `set vault.kv_version: ${info.kvVersion} in ${ctx.settings.sandbox.config.label}, or use another --mount`,
    );
  }
  ctx.report.info(`${mount}/ is KV v${info.kvVersion}`);
  return {};
}

export const verifyAccessStep = defineStep({
  title: 'Check the token and the KV mount',
  needs: ['client'],
  plan: ({ settings: s }) => {
    const mounting = s.existing ? 'never mounted there by this tool' : 'mounting it when missing';
    return { lines: [`would check the token and that ${s.mount}/ is KV v${s.kvVersion} (${mounting})`] };
  },
  run: verifyAccess,
});
