/** The attack harness (test/support/attack-harness.ts), part 2 of 3: the sandbox model's paths under every hazard class and command. */
import { missing, serverBinary } from '../../support/env.js';
import { runPart } from '../../support/attack-harness.js';

const BIN = serverBinary();
runPart(1, 3, BIN, missing('server binary (bao or VAULT_BIN)', BIN));
