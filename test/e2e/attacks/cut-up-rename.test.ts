/** Cut runs (test/support/kill-harness.ts): up, the sandbox dir renamed at evenly spread instants. */
import { missing, serverBinary } from '../../support/env.js';
import { runCuts } from '../../support/kill-harness.js';

const BIN = serverBinary();
runCuts('up', 'rename', BIN, missing('server binary (bao or VAULT_BIN)', BIN));
