import { lookupAll } from './lookup.js';
import type { Check } from './types.js';

export const variables: Check = {
  id: 'variables',
  title: 'Variables in Vault',
  link: 'mount and path',
  needs: ['token'],
  run: (ctx) => lookupAll(ctx, 'variables'),
};
