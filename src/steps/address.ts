/**
 * Where the dev server listens, and whether this sandbox's running server is reused: the address
 * the user named (taken: bad input, exit 2), else the port the last run bound (so .env stays
 * valid), else the default, else the next free one, said aloud. A dev server binds PORT and its
 * cluster port PORT+1: both must be free. Touches nothing; the port probe is injected.
 */
import { UsageError, StepError } from '../errors.js';
import {
  clusterAddress,
  formatAddress,
  type ListenAddress,
  nextFreeAddress,
  parseAddress,
  takenDevServerPort,
} from '../vault/address.js';
import type { PortProbe, ServerDecision } from './context.js';

export interface AddressInput {
  /** --address, or the default. */
  wanted: ListenAddress;
  /** True when the user named it (flag or config). */
  explicit: boolean;
  /** The address the last run bound (from the facts), as written there. */
  recorded?: string;
  /** This sandbox's server running now, proven ours by identity. */
  running?: { pid: number; address: string; url: string };
}

export interface AddressChoice {
  address: ListenAddress;
  decision: ServerDecision;
}

/**
 * The error for an address the user named whose port, or the cluster port the dev server binds
 * beside it, is taken: it names the port that is, and offers an address checked free with its
 * cluster port, so following the fix never lands on another server's cluster port.
 */
async function namedAddressTaken(named: ListenAddress, taken: ListenAddress, isFree: PortProbe): Promise<UsageError> {
  const what =
    taken.port !== named.port
      ? `${formatAddress(named)} is free, but ${formatAddress(taken)} is already in use by another process, and the dev server binds that one too (its cluster port, PORT+1)`
      : `${formatAddress(named)} is already in use by another process`;
  const other = await nextFreeAddress({ host: named.host, port: Math.max(named.port, taken.port) + 1 }, 50, isFree);
  const pick = other
    ? `pick a free port with --address ${formatAddress(other)} (it and ${clusterAddress(other).port} are free now)`
    : 'pick another port with --address';
  return new UsageError(`${what}: stop what holds ${formatAddress(taken)}, or ${pick}`);
}

function movedMessage(preferred: ListenAddress, taken: ListenAddress, next: ListenAddress): string {
  const what =
    taken.port === preferred.port
      ? formatAddress(preferred)
      : `${formatAddress(taken)}, the cluster port of ${formatAddress(preferred)},`;
  return `${what} is taken; the server will listen on ${formatAddress(next)} instead (written into .env)`;
}

/** A recorded address we can read, else none: a fact we cannot read is no fact. */
function recordedAddress(recorded: string | undefined): ListenAddress | undefined {
  if (!recorded) return undefined;
  try {
    return parseAddress(recorded);
  } catch {
    return undefined;
  }
}

/** Reuse the running server when nothing asks for another address; else it is stopped first, freeing its ports. */
function decideRunning(input: AddressInput): { reuse?: AddressChoice; decision: ServerDecision } {
  const { running, wanted } = input;
  if (!running) return { decision: {} };
  if (!input.explicit || running.address === formatAddress(wanted))
    return {
      reuse: { address: parseAddress(running.address), decision: { reuse: { pid: running.pid, url: running.url } } },
      decision: {},
    };
  return {
    decision: {
      stopFirst: running.pid,
      restartReason: `it listens on ${running.address}, not ${formatAddress(wanted)}`,
    },
  };
}

export async function chooseAddress(
  input: AddressInput,
  isFree: PortProbe,
  warn: (message: string) => void,
): Promise<AddressChoice> {
  const { reuse, decision } = decideRunning(input);
  if (reuse) return reuse;
  const releasing = decision.stopFirst !== undefined && input.running ? parseAddress(input.running.address) : undefined;
  const { wanted } = input;
  if (input.explicit) {
    const taken = await takenDevServerPort(wanted, releasing, isFree);
    if (taken) throw await namedAddressTaken(wanted, taken, isFree);
    return { address: wanted, decision };
  }
  const preferred = recordedAddress(input.recorded) ?? wanted;
  const taken = await takenDevServerPort(preferred, releasing, isFree);
  if (!taken) return { address: preferred, decision };
  const next =
    (await nextFreeAddress(wanted, 50, isFree)) ??
    (await nextFreeAddress({ host: wanted.host, port: preferred.port + 2 }, 50, isFree));
  if (!next)
    throw new StepError(
      'preflight',
      `no free port near ${formatAddress(wanted)}`,
      'pass --address HOST:PORT with a free port',
    );
  warn(movedMessage(preferred, taken, next));
  return { address: next, decision };
}

/** The listen address a wizard offers, true now, and why: what the choice above makes with nothing said. */
export interface AddressOffer {
  address: string;
  why: string;
  /** The address this sandbox's own running server holds (not "taken" for it). */
  ours?: string;
}

export async function offerAddress(input: Omit<AddressInput, 'explicit'>, isFree: PortProbe): Promise<AddressOffer> {
  let choice: AddressChoice;
  try {
    choice = await chooseAddress({ ...input, explicit: false }, isFree, () => {});
  } catch (e) {
    if (!(e instanceof StepError)) throw e;
    return { address: formatAddress(input.wanted), why: 'taken, and no free port near it' };
  }
  const address = formatAddress(choice.address);
  if (choice.decision.reuse) return { address, why: "this sandbox's server runs there now", ours: address };
  const recorded = recordedAddress(input.recorded);
  if (recorded && address === formatAddress(recorded)) return { address, why: 'the port this sandbox had, free now' };
  if (address === formatAddress(input.wanted)) return { address, why: 'the default, free now' };
  return { address, why: `${formatAddress(recorded ?? input.wanted)} is taken: the next free port` };
}
