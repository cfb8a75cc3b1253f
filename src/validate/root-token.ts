/**
 * A --root-token the server takes as it is: it travels in an environment variable and an HTTP
 * header, and Node refuses a header with a character outside Latin-1 (ERR_INVALID_CHAR) only when
 * the first request is sent, after the server started. Printable ASCII without quotes, '$', '\\'
 * and '`' is what every consumer (header, .env, docker.env) carries unchanged.
 */
export function rootTokenCharsProblem(id: string): string | null {
  const bad = [...id].find((c) => !/^[\x21-\x7e]$/.test(c) || /['"$\\`]/.test(c));
  if (bad === undefined) return null;
  const cp = bad.codePointAt(0) ?? 0;
  const shown = cp < 0x21 || cp > 0x7e ? `U+${cp.toString(16).toUpperCase().padStart(4, '0')}` : `'${bad}'`;
  return `holds ${shown}, which an HTTP header and the .env cannot carry as it is`;
}
