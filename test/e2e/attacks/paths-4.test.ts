/** The attack harness (test/support/attack-harness.ts), part 4 of 6: every path of the sandbox model under every hazard and command. */
import { missing, serverBinary } from '../../support/env.js';
import { runPart } from '../../support/attack-harness.js';

const BIN = serverBinary();
runPart(3, 6, BIN, missing('server binary (bao or VAULT_BIN)', BIN));
