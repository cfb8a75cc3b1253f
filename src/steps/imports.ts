/** Step 1b (--import): what resolve took from the import files, and what it left out and why. */
import type { Settings } from '../settings.js';
import { defineStep } from './context.js';

const noteLine = (n: Settings['imports']['notes'][number]) => `${n.action} ${n.item} (${n.file}): ${n.reason}`;

export const importsStep = defineStep({
  title: 'Import connections and variables',
  needs: [],
  plan: ({ settings: s }) => ({ lines: [...s.imports.summary, ...s.imports.notes.map(noteLine)] }),
  run: async (ctx) => {
    for (const l of ctx.settings.imports.summary) ctx.report.info(l);
    for (const n of ctx.settings.imports.notes) ctx.report.warn(noteLine(n));
    return {};
  },
  skip: (ctx) => (ctx.options.import?.length ? undefined : 'no --import'),
});
