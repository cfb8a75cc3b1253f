import { describe, expect, it } from 'vitest';
import { interleave, isAirflowFile } from '../support/sequencer.js';

describe('test file order', () => {
  it('spreads the Airflow files among the others, keeping each group in its order', () => {
    const files = ['a1.airflow.test.ts', 'a2.airflow.test.ts', 'e1.test.ts', 'e2.test.ts', 'e3.test.ts', 'e4.test.ts'];
    expect(interleave(files, isAirflowFile)).toEqual([
      'a1.airflow.test.ts',
      'e1.test.ts',
      'e2.test.ts',
      'a2.airflow.test.ts',
      'e3.test.ts',
      'e4.test.ts',
    ]);
  });

  it('never puts two Airflow files next to each other while other files are left', () => {
    const files = ['a1.airflow.test.ts', 'a2.airflow.test.ts', 'a3.airflow.test.ts', 'e1.test.ts', 'e2.test.ts'];
    const out = interleave(files, isAirflowFile);
    expect(out).toHaveLength(5);
    expect(out.slice(0, 4).map(isAirflowFile)).toEqual([true, false, true, false]);
  });

  it('leaves a list with only one kind as it is', () => {
    expect(interleave(['x.test.ts', 'y.test.ts'], isAirflowFile)).toEqual(['x.test.ts', 'y.test.ts']);
  });
});
