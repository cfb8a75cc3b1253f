/** Part 3 of the differential corpus: test/support/doctor-corpus.ts holds the set-ups and deals them out. */
import { corpusFile } from '../support/doctor-corpus.js';

corpusFile(3);
