import { lookupAll } from './lookup.js';
import { defineCheck } from './types.js';

export const connections = defineCheck({
  id: 'connections',
  title: 'Connections in Vault',
  link: 'mount and path',
  needs: ['address', 'token'],
  verdict: true,
  repair: true,
  async run(ctx) {
    const { facts, ...outcome } = await lookupAll(ctx, 'connections');
    return facts ? { ...outcome, facts: { connReads: facts.read } } : outcome;
  },
});
