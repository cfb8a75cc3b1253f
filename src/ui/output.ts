/** Where human output goes, with colour only on a terminal that wants it. */
import { styleText } from 'node:util';

export interface OutputMode {
  json: boolean;
  quiet: boolean;
  verbose: boolean;
  color: boolean;
}

type Style = Parameters<typeof styleText>[0];

export function makePainter(color: boolean) {
  return (style: Style, text: string) => (color ? styleText(style, text) : text);
}

export function colorWanted(noColorFlag: boolean, stream: NodeJS.WriteStream = process.stdout): boolean {
  if (noColorFlag || 'NO_COLOR' in process.env) return false;
  if (process.env.FORCE_COLOR && process.env.FORCE_COLOR !== '0') return true;
  return Boolean(stream.isTTY);
}

let closed = false;

/** The reader went away (EPIPE from `| head`): further output is dropped, never an error. */
export function markStdoutClosed(): void {
  closed = true;
}

export function writeOut(line: string): void {
  if (closed) return;
  process.stdout.write(line + '\n');
}

export function writeErr(line: string): void {
  if (closed) return;
  process.stderr.write(line + '\n');
}
