/** Cut runs (test/support/kill-harness.ts): doctor --fix, SIGKILL at evenly spread instants. */
import { missing, serverBinary } from '../../support/env.js';
import { runCuts } from '../../support/kill-harness.js';

const BIN = serverBinary();
runCuts('doctor --fix', 'kill', BIN, missing('server binary (bao or VAULT_BIN)', BIN));
