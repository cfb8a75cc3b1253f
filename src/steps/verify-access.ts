/** Step 5: the token works, and the mount exists as KV of the version Airflow will be told. */
import { StepError } from '../errors.js';
import type { VaultError } from '../vault/client.js';
import type { CreateContext } from './context.js';

export async function verifyAccess(ctx: CreateContext): Promise<void> {
  const client = ctx.client!;
  const { mount, kvVersion } = ctx.settings;
  try {
    await client.lookupSelf();
  } catch (e) {
    throw new StepError(
      'verify access',
      `the root token was refused: ${(e as Error).message}`,
      'rerun; a dev server forgets its tokens when it restarts',
    );
  }
  let info;
  try {
    info = await client.mountInfo(mount);
  } catch (e) {
    throw new StepError('verify access', `cannot read the mount '${mount}': ${(e as VaultError).message}`);
  }
  if ((!info || info.path !== mount) && ctx.settings.existing) {
    // Not our server: mounting there is the team's decision, never a side effect of this tool.
    throw new StepError(
      'verify access',
      `nothing is mounted at '${mount}/' on ${ctx.settings.existing.url} (or the token may not see it)`,
      `pass --mount with the KV mount your team uses; this tool does not mount on an existing Vault`,
    );
  }
  if (!info || info.path !== mount) {
    // Our own dev server: make the mount the settings ask for, as `vault secrets enable -version=N kv` would.
    await client.enableKv(mount, kvVersion);
    ctx.report.info(`mounted KV v${kvVersion} at ${mount}/`);
    return;
  }
  if (info.type !== 'kv') {
    throw new StepError('verify access', `'${mount}/' is a ${info.type} engine, not KV`, `pick another --mount`);
  }
  if (info.kvVersion !== kvVersion) {
    throw new StepError(
      'verify access',
      `'${mount}/' is KV v${info.kvVersion}, but the settings say v${kvVersion}`,
      `set vault.kv_version: ${info.kvVersion} in ${ctx.settings.sandbox.config.label}, or use another --mount`,
    );
  }
  ctx.report.info(`${mount}/ is KV v${info.kvVersion}`);
}
