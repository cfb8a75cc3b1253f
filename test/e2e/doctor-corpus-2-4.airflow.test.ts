/** The doctor corpus on Airflow 2, part 4: test/support/corpus/suite.ts holds the set-ups and deals them out. */
import { corpusPart } from '../support/corpus/suite.js';

corpusPart('2', 4);
