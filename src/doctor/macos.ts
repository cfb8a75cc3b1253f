import { ok, skip, warn, defineCheck } from './types.js';

export const macos = defineCheck({
  id: 'macos-fork-safety',
  title: 'macOS fork safety',
  async run(ctx) {
    if (process.platform !== 'darwin') return skip('not macOS');
    if (ctx.env.get('OBJC_DISABLE_INITIALIZE_FORK_SAFETY') === 'YES')
      return ok('OBJC_DISABLE_INITIALIZE_FORK_SAFETY=YES');
    return warn(
      'forked task processes that call Vault can abort with SIGABRT on macOS',
      'export OBJC_DISABLE_INITIALIZE_FORK_SAFETY=YES before starting the scheduler',
    );
  },
});
