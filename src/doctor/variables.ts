import { lookupAll } from './lookup.js';
import { defineCheck } from './types.js';

export const variables = defineCheck({
  id: 'variables',
  title: 'Variables in Vault',
  link: 'mount and path',
  needs: ['address', 'token'],
  verdict: true,
  repair: true,
  async run(ctx) {
    const { facts, ...outcome } = await lookupAll(ctx, 'variables');
    return facts ? { ...outcome, facts: { varReads: facts.read } } : outcome;
  },
});
