/**
 * The block of README "How far doctor can be trusted" between the corpus markers: the CI corpus's
 * rates and the classes the generator covers. Every CI set-up's outcome on every dimension is pinned
 * (agrees, or a known disagreement in known.ts that the test asserts still happens), so these are
 * the numbers of every passing CI run. test/unit/corpus-readme.test.ts holds README to it
 * (CORPUS_WRITE_README=1 rewrites the block).
 */
import { OPS } from './generate.js';
import { KNOWN, type Dimension } from './known.js';
import { OP_CLASSES } from './op.js';
import { CI_COUNT, CI_SEED, CI_SETUPS } from './suite.js';

export const BEGIN =
  '<!-- corpus:begin (generated from test/support/corpus; CORPUS_WRITE_README=1 npx vitest run test/unit/corpus-readme.test.ts) -->';
export const END = '<!-- corpus:end -->';

const pct = (a: number, b: number): string => `${b ? ((100 * a) / b).toFixed(1) : '0'}%`;

export interface PinnedRates {
  total: number;
  broken: number;
  exit: number;
  link: number;
  fix: number;
  decided: number;
  agreeDecided: number;
}

export function pinnedRates(): PinnedRates {
  const has = (name: string, d: Dimension): boolean => KNOWN.get(name)?.[d] !== undefined;
  const broken = CI_SETUPS.filter((s) => s.cause);
  const decided = CI_SETUPS.filter((s) => !has(s.name, 'undecided'));
  return {
    total: CI_SETUPS.length,
    broken: broken.length,
    exit: CI_SETUPS.filter((s) => !has(s.name, 'exit')).length,
    link: broken.filter((s) => !has(s.name, 'link')).length,
    fix: broken.filter((s) => !has(s.name, 'fix')).length,
    decided: decided.length,
    agreeDecided: decided.filter((s) => !has(s.name, 'without')).length,
  };
}

export function trustBlock(): string {
  const r = pinnedRates();
  const generated = CI_SETUPS.filter((s) => s.n <= CI_COUNT);
  const named = CI_SETUPS.length - generated.length;
  const on = (m: string) => CI_SETUPS.filter((s) => s.major === m).length;
  const classes = OP_CLASSES.map((c) => {
    const ops = OPS.filter((o) => o.class === c);
    const list = (kind: 'benign' | 'breaking') =>
      ops
        .filter((o) => o.kind === kind)
        .map((o) => o.title)
        .join('; ');
    const benign = list('benign');
    const breaking = list('breaking');
    return `- **${c}**: ${[benign && `works: ${benign}`, breaking && `breaks: ${breaking}`].filter(Boolean).join('. ')}.`;
  });
  return [
    BEGIN,
    `CI runs ${r.total} set-ups (${generated.length} generated from seed ${CI_SEED} and ${named} named regression cases; ${on('3')} on Airflow 3.3.2, ${on('2')} on Airflow 2.11.2; ${r.broken} broken, ${r.total - r.broken} working):`,
    '',
    '| | rate |',
    '|---|---|',
    `| doctor's exit code agrees with Airflow (Airflow on PATH) | **${r.exit} of ${r.total}** (${pct(r.exit, r.total)}) |`,
    `| the link doctor names is the known cause (broken set-ups) | **${r.link} of ${r.broken}** (${pct(r.link, r.broken)}) |`,
    `| doctor's fix, followed, makes Airflow resolve (broken set-ups) | **${r.fix} of ${r.broken}** (${pct(r.fix, r.broken)}) |`,
    `| without Airflow: doctor gives a verdict | ${r.decided} of ${r.total} (${pct(r.decided, r.total)}) |`,
    `| without Airflow: the verdict agrees with Airflow where doctor gives one | ${r.agreeDecided} of ${r.decided} (${pct(r.agreeDecided, r.decided)}) |`,
    '',
    'The classes the generator covers (its operators; a generated set-up is a base, made by the tool or by hand, with a few operators that keep it working and at most one that breaks it):',
    '',
    ...classes,
    END,
  ].join('\n');
}
