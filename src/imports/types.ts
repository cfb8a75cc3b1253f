import type { ConnectionSpec, VariableSpec } from '../airflow/spec.js';

/** Something an import did not take as it was, and why: nothing is dropped silently. */
export interface ImportNote {
  file: string;
  item: string;
  action: 'skipped' | 'changed' | 'replaced';
  reason: string;
}

export interface Imported {
  connections: ConnectionSpec[];
  variables: VariableSpec[];
  notes: ImportNote[];
  format: string;
}
