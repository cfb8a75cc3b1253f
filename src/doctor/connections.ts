import { lookupAll } from './lookup.js';
import type { Check } from './types.js';

export const connections: Check = {
  id: 'connections',
  title: 'Connections in Vault',
  link: 'mount and path',
  needs: ['token'],
  run: (ctx) => lookupAll(ctx, 'connections'),
};
