/**
 * Readiness by the components' own health endpoints, polled until every component reports ready,
 * one of them exits, or the time is up. Each request is a fresh connection (no keep-alive): an
 * idle kept-alive connection would hold up the API server's graceful shutdown later.
 */
import { request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ComponentName, HealthEndpoint } from './components.js';
import type { ComponentExit, RunningComponent } from './spawn.js';

export function httpGet(url: string, timeoutMs = 2_000): Promise<{ status: number; body: string } | null> {
  return new Promise((resolve) => {
    const req = request(url, { agent: false, headers: { Connection: 'close' }, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        if (body.length < 64 * 1024) body += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', () => resolve(null));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
    req.end();
  });
}

export type Readiness =
  | { ok: true }
  | { ok: false; kind: 'exited'; component: RunningComponent; exit: ComponentExit }
  | { ok: false; kind: 'timeout'; waiting: ComponentName[] };

export interface WaitOptions {
  /** Heartbeats older than this (epoch ms) belong to a previous run. */
  sinceMs: number;
  timeoutMs: number;
  onReady?(name: ComponentName): void;
  pollMs?: number;
}

/** The first component that has exited, if any. */
export function exitedComponent(running: RunningComponent[]): RunningComponent | undefined {
  return running.find((c) => c.exit !== undefined);
}

export async function waitReady(
  health: HealthEndpoint[],
  running: RunningComponent[],
  o: WaitOptions,
): Promise<Readiness> {
  const ready = new Set<ComponentName>();
  const deadline = Date.now() + o.timeoutMs;
  for (;;) {
    for (const h of health) {
      const r = await httpGet(h.url);
      for (const name of r ? h.ready(r.status, r.body, o.sinceMs) : []) {
        if (ready.has(name)) continue;
        ready.add(name);
        o.onReady?.(name);
      }
    }
    const waiting = running.map((c) => c.name).filter((n) => !ready.has(n));
    if (!waiting.length) return { ok: true };
    const dead = exitedComponent(running);
    if (dead?.exit) return { ok: false, kind: 'exited', component: dead, exit: dead.exit };
    if (Date.now() > deadline) return { ok: false, kind: 'timeout', waiting };
    await sleep(o.pollMs ?? 250);
  }
}
