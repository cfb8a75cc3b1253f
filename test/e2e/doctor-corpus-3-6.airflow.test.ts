/** The doctor corpus on Airflow 3, part 6: test/support/corpus/suite.ts holds the set-ups and deals them out. */
import { corpusPart } from '../support/corpus/suite.js';

corpusPart('3', 6);
