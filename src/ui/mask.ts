/** Secrets in output: masked unless the user asked to see them. */

export function maskToken(token: string, show = false): string {
  if (show) return token;
  if (token.length < 12) return '****';
  return `${token.slice(0, 4)}…(${token.length} chars)`;
}

/** Replaces every occurrence of each secret in `text`; the last line of defence for any message we print. */
export function redact(text: string, secrets: (string | undefined)[]): string {
  let out = text;
  for (const s of secrets) {
    if (s && s.length >= 4) out = out.split(s).join(maskToken(s));
  }
  return out;
}
