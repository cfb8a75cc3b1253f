/**
 * Reading a file the user named (--config, --import): only a regular file, only up to a stated
 * size, never blocking. fstat on the opened fd decides, so a FIFO, /dev/zero or a 13 GiB file is
 * refused before a byte is read; O_NONBLOCK keeps the open of a FIFO with no writer from hanging.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { UsageError } from '../errors.js';

export const MAX_IMPORT_BYTES = 10 * 1024 * 1024;
export const MAX_CONFIG_BYTES = 1024 * 1024;

export interface InputFile {
  /** How the file is named in messages: `--import 'x.json'`, `config file 'y.yaml'`. */
  label: string;
  /** What to do instead, said after the problem. */
  fix: string;
  maxBytes: number;
}

function kindOf(st: import('node:fs').Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

const mb = (n: number) => `${Math.round(n / 1024 / 1024)} MB`;

export function readInputFile(path: string, f: InputFile): string {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'does not exist'
        : code === 'EACCES'
          ? 'cannot be read (permission denied)'
          : code === 'EISDIR'
            ? 'is a directory'
            : `cannot be opened (${code})`;
    throw new UsageError(`${f.label} ${why}; ${f.fix}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new UsageError(`${f.label} is ${kindOf(st)}, not a regular file; ${f.fix}`);
    if (st.size > f.maxBytes)
      throw new UsageError(
        `${f.label} is ${mb(st.size)}, over the ${mb(f.maxBytes)} this tool reads; split it or remove what it does not need`,
      );
    // Read at most one byte past the cap: a file that grows while we read is still bounded.
    const buf = Buffer.alloc(Math.min(st.size, f.maxBytes) + 1);
    let got = 0;
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, buf, got, buf.length - got, null);
      } catch (e) {
        throw new UsageError(`${f.label} cannot be read (${(e as NodeJS.ErrnoException).code}); ${f.fix}`);
      }
      if (n === 0) break;
      got += n;
      if (got === buf.length) {
        if (got > f.maxBytes)
          throw new UsageError(
            `${f.label} grew past the ${mb(f.maxBytes)} this tool reads while it was read; ${f.fix}`,
          );
        break;
      }
    }
    return buf.subarray(0, got).toString('utf8');
  } finally {
    closeSync(fd);
  }
}
