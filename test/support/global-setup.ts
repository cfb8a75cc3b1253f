import { existsSync } from 'node:fs';
import { CLI } from './env.js';

export default function setup(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build first (npm run build, or scripts/test.sh)`);
}
