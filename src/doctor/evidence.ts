/**
 * Airflow's own evidence, read from the probe: for each id, what its Vault backend did (each HTTP
 * request it sent and what came back, what it raised, what Vault handed it), so that a check names
 * the request a status answered instead of guessing from the status alone.
 */
import type { BackendAnswer, IdVerdict, ProbeException, ProbeReport, SentRequest } from '../airflow/probe.js';
import type { DoctorContext } from './types.js';

export type IdKind = 'connection' | 'variable';

export interface VaultAnswer {
  kind: IdKind;
  id: string;
  verdict: IdVerdict;
  /** The Vault backend's own answer, when Airflow's lookup reached it. */
  vault?: BackendAnswer<string>;
}

const VAULT_BACKENDS = new Set(['VaultBackend']);

/** Airflow's answer (the probe) when it got as far as asking its backends. */
export function askedAirflow(ctx: Pick<DoctorContext, 'probe'>): ProbeReport | undefined {
  return ctx.probe && !ctx.probe.init_error ? ctx.probe : undefined;
}

export function vaultAnswers(p: ProbeReport, kind?: IdKind): VaultAnswer[] {
  const out: VaultAnswer[] = [];
  for (const [k, map] of [
    ['connection', p.connections],
    ['variable', p.variables],
  ] as const) {
    if (kind && kind !== k) continue;
    for (const [id, verdict] of Object.entries(map)) {
      const vault = verdict.backends.find((b) => VAULT_BACKENDS.has(b.name) && !b.alone);
      out.push({ kind: k, id, verdict, ...(vault ? { vault } : {}) });
    }
  }
  return out;
}

/** A request path without the API prefix: `auth/approle/login`, `secret/data/connections/x`. */
export function apiPath(path: string | null | undefined): string {
  return (path ?? '').replace(/\?.*$/, '').replace(/^\/v1\//, '');
}

/** The mount of a login request (`auth/<mount>/login[/<user>]`), or undefined for another request. */
export function loginMount(path: string | null | undefined): string | undefined {
  const m = /^auth\/(.+?)\/login(?:\/[^/]+)?$/.exec(apiPath(path));
  return m?.[1];
}

/** The request that failed: the last one with an error status or no answer, else the one the exception names. */
export function failedRequest(a: Pick<BackendAnswer<string>, 'requests' | 'error'>): SentRequest | undefined {
  const bad = [...a.requests].reverse().find((r) => r.error !== undefined || (r.status ?? 0) >= 400);
  if (bad) return bad;
  const carried = (a.error ?? []).find((e) => e.request);
  return carried?.request ? { ...carried.request, ...(carried.status ? { status: carried.status } : {}) } : undefined;
}

/** The innermost exception of a chain whose type is one of `names`. */
export function raised(chain: ProbeException[] | null | undefined, ...names: string[]): ProbeException | undefined {
  return [...(chain ?? [])].reverse().find((e) => names.includes(e.name));
}

/** The first id Airflow could not resolve, with its Vault backend's answer. */
export function firstMiss(p: ProbeReport): VaultAnswer | undefined {
  return vaultAnswers(p).find((a) => !a.verdict.found);
}

/** One attempt of Airflow's Vault backend: a lookup of an id, or (with no ids known) a listing. */
export interface Attempt {
  requests: SentRequest[];
  error: ProbeException[] | null;
  found: boolean;
}

/** Every attempt of Airflow's Vault backend, in the order it made them: listings first, then each id. */
export function attempts(p: ProbeReport): Attempt[] {
  const listed = (p.listing ?? []).map((l) => ({ requests: l.requests ?? [], error: l.error, found: !l.error }));
  const looked = vaultAnswers(p).flatMap((a) =>
    a.vault ? [{ requests: a.vault.requests, error: a.vault.error, found: a.verdict.found }] : [],
  );
  return [...listed, ...looked];
}

/** The first attempt that failed: a miss, or a listing that could not be made. */
export function firstFailure(p: ProbeReport): Attempt | undefined {
  // A miss, else an id a later backend answered after the Vault backend raised.
  const miss = firstMiss(p) ?? vaultAnswers(p).find((a) => a.vault?.error);
  if (miss?.vault) return { requests: miss.vault.requests, error: miss.vault.error, found: false };
  return (p.listing ?? [])
    .filter((l) => l.error)
    .map((l) => ({ requests: l.requests ?? [], error: l.error, found: false }))[0];
}
