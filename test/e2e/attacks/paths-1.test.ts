/** The attack harness (test/support/attack-harness.ts), part 1 of 3: the sandbox model's paths under every hazard class and command. */
import { missing, serverBinary } from '../../support/env.js';
import { runPart } from '../../support/attack-harness.js';

const BIN = serverBinary();
runPart(0, 3, BIN, missing('server binary (bao or VAULT_BIN)', BIN));
