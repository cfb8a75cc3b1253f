/**
 * What is true about the sandbox the wizard is asked about, read when its directory is known: the
 * config, the address to offer (the one its server holds, the one it had, the default, or the next
 * free one, as preflight would choose), and what its running server holds.
 */
import { DEFAULT_CONNECTION, defaultsLayer } from '../settings.js';
import { openSandbox, runningServers } from '../sandbox/index.js';
import { offerAddress } from '../steps/address.js';
import type { FactsFor, WizardFacts } from '../ui/wizard.js';
import { parseAddress, portIsFree } from '../vault/address.js';
import { sandboxStatus } from './status.js';

export function wizardFacts(config: string | undefined): FactsFor {
  return async (dir) => {
    const sb = await openSandbox(dir, { config });
    if (sb.config.error) throw sb.config.error;
    const cfg = sb.config.parsed ?? {};
    const running = runningServers(sb).server;
    let address: WizardFacts['address'];
    const configured = cfg.server?.address;
    if (configured) {
      let free = configured === running?.address;
      try {
        free ||= await portIsFree(parseAddress(configured));
      } catch {
        free = true; // a malformed one is the parser's to name when the answer is checked
      }
      const why = `from ${sb.config.label}${free ? '' : '; another process holds it now'}`;
      address = { address: configured, why, ours: running?.address };
    } else {
      const wanted = parseAddress(String(defaultsLayer(process.env).address));
      address = await offerAddress({ wanted, recorded: sb.facts.facts.address, running }, portIsFree);
    }
    let server: WizardFacts['server'];
    if (running) {
      const st = await sandboxStatus(dir);
      if (st.running && st.url) server = { url: st.url, connections: st.connections, variables: st.variables };
    }
    const seeded = sb.facts.facts.seeded?.connections ?? [];
    return {
      cfg,
      configLabel: sb.config.label,
      configExists: sb.config.exists,
      knownBin: sb.facts.facts.bin,
      address,
      server,
      exampleSeeded: seeded.includes(DEFAULT_CONNECTION.id),
    };
  };
}
