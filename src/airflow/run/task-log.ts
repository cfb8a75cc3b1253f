/**
 * Reading a task's log as Airflow wrote it: JSON lines on Airflow 3 (structlog: `event`, `level`,
 * an exception under `error_detail`), text lines on 2.x (`[time] {file:line} LEVEL - message`).
 */
export interface LogLine {
  level: string;
  message: string;
}

const TEXT_LINE = /^\[[^\]]+\]\s+\{[^}]*\}\s+([A-Z]+)\s+-\s+(.*)$/;

/** An exception Airflow 3 logs in `error_detail`: each of its chain as `Type: message`. */
function errorDetail(detail: unknown): string[] {
  if (!Array.isArray(detail)) return [];
  return detail
    .filter((d): d is Record<string, unknown> => !!d && typeof d === 'object')
    .map((d) => `${String(d.exc_type ?? 'Exception')}: ${String(d.exc_value ?? '')}`.trim());
}

export function parseTaskLog(text: string): LogLine[] {
  const out: LogLine[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (!line) continue;
    if (line.startsWith('{')) {
      try {
        const j = JSON.parse(line) as Record<string, unknown>;
        const level = typeof j.level === 'string' ? j.level.toUpperCase() : 'INFO';
        if (typeof j.event === 'string' && j.event) out.push({ level, message: j.event });
        for (const m of errorDetail(j.error_detail)) out.push({ level: 'ERROR', message: m });
        continue;
      } catch {
        /* not JSON after all: a text line */
      }
    }
    const m = TEXT_LINE.exec(line);
    const last = out.at(-1);
    if (m?.[1] !== undefined && m[2] !== undefined) out.push({ level: m[1], message: m[2] });
    else if (last) last.message += `\n${line}`;
    else out.push({ level: 'INFO', message: line });
  }
  return out;
}

/** The lines the example DAG prints when a connection resolved (the password only as set/not set). */
export function resolvedLines(lines: LogLine[]): string[] {
  return lines.map((l) => l.message).filter((m) => m.startsWith('Resolved '));
}

/** Airflow's group markers and bookkeeping say nothing about why a task failed. */
const NOISE = /^::(end)?group::|^Dependencies all met|^Exporting env vars|^Filling up the DagBag|^DAG bundles loaded/;

/** The end of a failed task's log: the last `n` meaningful lines, each cut to a readable length. */
export function logTail(lines: LogLine[], n = 8): string[] {
  return lines
    .filter((l) => !NOISE.test(l.message))
    .slice(-n)
    .map((l) => {
      const first = l.message.split('\n');
      // A text-format traceback: its last line is the exception.
      const msg = first.length > 1 ? `${first[0]} … ${first[first.length - 1]}` : l.message;
      return `${l.level === 'INFO' ? '' : `${l.level} `}${msg}`.slice(0, 500);
    });
}
