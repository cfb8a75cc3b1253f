import { describe, expect, it } from 'vitest';
import { PipProgress, pinnedCount } from '../../src/progress.js';

// What pip 24/25 prints for `pip install --progress-bar off -r requirements.txt` (abridged).
const PIP_OUTPUT = [
  'Collecting a2wsgi==1.10.10 (from -r requirements/airflow3.txt (line 2))',
  '  Downloading a2wsgi-1.10.10-py3-none-any.whl.metadata (4.0 kB)',
  'Collecting aiosmtplib==5.1.3 (from -r requirements/airflow3.txt (line 3))',
  '  Using cached aiosmtplib-5.1.3-py3-none-any.whl.metadata (3.7 kB)',
  'Collecting alembic==1.20.1 (from -r requirements/airflow3.txt (line 5))',
  '  Downloading alembic-1.20.1-py3-none-any.whl (245 kB)',
  'Downloading a2wsgi-1.10.10-py3-none-any.whl (17 kB)',
  'Using cached aiosmtplib-5.1.3-py3-none-any.whl (27 kB)',
];

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('pip progress', () => {
  it('counts each package once, though pip names it in several lines', () => {
    const c = clock();
    const lines: string[] = [];
    const p = new PipProgress({ what: 'Airflow 3.3.2', total: 132, now: c.now }, (l) => lines.push(l));
    for (const l of PIP_OUTPUT) p.line(l.trim());
    expect(p.text()).toContain('3/132 packages collected (alembic)');
  });

  it('never counts past the total', () => {
    const p = new PipProgress({ what: 'x', total: 2 }, () => {});
    for (let i = 0; i < 5; i++) p.line(`Collecting p${i}==1`);
    expect(p.text()).toContain('2/2 packages');
  });

  it('estimates from the rate so far, then from the collect time once pip installs', () => {
    const c = clock();
    const p = new PipProgress({ what: 'A', total: 100, collectShare: 0.5, now: c.now }, () => {});
    expect(p.remainingMs()).toBeUndefined();
    for (let i = 0; i < 10; i++) {
      c.advance(1_000);
      p.line(`Collecting p${i}==1`);
    }
    // 10 s for 10 of 100: 100 s collecting, half the whole: 200 s in all, 190 s left.
    expect(p.remainingMs()).toBe(190_000);
    c.advance(90_000);
    p.line('Installing collected packages: p0, p1');
    // Collecting took 100 s, half the whole: 100 s left.
    expect(p.remainingMs()).toBe(100_000);
    expect(p.text()).toMatch(/^installing A: unpacking 100 packages \(1 min 40 s, about 1 min 40 s left\)$/);
  });

  it('starts from the typical duration before anything is counted', () => {
    const c = clock();
    const p = new PipProgress({ what: 'A', total: 1, typicalMs: 40_000, now: c.now }, () => {});
    c.advance(10_000);
    expect(p.remainingMs()).toBe(30_000);
  });

  it('reports on a timer while pip is silent', async () => {
    const lines: string[] = [];
    const p = new PipProgress({ what: 'A', total: 3, tickMs: 20 }, (l) => lines.push(l)).start();
    await new Promise((r) => setTimeout(r, 110));
    p.stop();
    const n = lines.length;
    expect(n).toBeGreaterThanOrEqual(3);
    await new Promise((r) => setTimeout(r, 60));
    expect(lines.length).toBe(n);
  });

  it('counts the pinned lines of a requirements file', () => {
    expect(pinnedCount('# comment\na==1\nb[extra]==2\n\n-r other.txt\nc>=3\n')).toBe(2);
  });
});
