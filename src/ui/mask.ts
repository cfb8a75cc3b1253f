/**
 * The one redactor. Secrets in output are masked unless the user asked to see them: a secret
 * shows at most its first 4 characters, and none at all when shorter than 16 (4 of 12 would be a
 * third of it). Every message that leaves the process (steps, doctor, JSON, errors, the wizard's
 * hints) goes through redact(), which masks
 *  - every secret registered so far (the root token once known, every seeded password), and
 *  - the password part of anything shaped like a URI with user info (scheme://user:password@),
 *    which catches a secret in input that failed before it could be registered.
 */

export const MASK_MIN_SHOWN = 16;

export function maskToken(token: string, show = false): string {
  if (show) return token;
  if (token.length < MASK_MIN_SHOWN) return '****';
  return `${token.slice(0, 4)}…(${token.length} chars)`;
}

/**
 * Registered secrets shorter than this are not searched for as substrings: masking every "host"
 * (the example connection's password) would garble "localhost" in every message. They are still
 * masked where they stand as a URI's password (URI_USERINFO below).
 */
const MIN_REDACTED = 6;
const registered = new Set<string>();

/** Remember a secret for every later redact() in this process (the error printer among them). */
export function registerSecret(...secrets: (string | null | undefined)[]): void {
  for (const s of secrets) {
    if (!s || s.length < MIN_REDACTED) continue;
    registered.add(s);
    // A URI carries the password percent-encoded; an error may echo either form.
    try {
      const enc = encodeURIComponent(s);
      if (enc !== s) registered.add(enc);
    } catch {
      /* a lone surrogate: no encoded form */
    }
  }
}

const revealed = new Set<string>();

/** A secret the user asked to see (--show-token): redact() leaves it whole from now on. */
export function revealSecret(secret: string | null | undefined): void {
  if (secret) revealed.add(secret);
}

/** The secrets registered so far (tests scan output for them). */
export function registeredSecrets(): string[] {
  return [...registered];
}

// scheme://user:password@  (the password stops at '@' as Python's urlsplit reads it: the last '@' of the netloc)
const URI_USERINFO = /([A-Za-z][A-Za-z0-9+.\-_]*:\/\/[^\s:@/?#'"]*:)([^\s/?#'"]*)@/g;

/** Replaces every occurrence of each secret in `text`; the last line of defence for any message we print. */
export function redact(text: string, secrets: (string | null | undefined)[] = []): string {
  registerSecret(...secrets);
  let out = text.replace(URI_USERINFO, (_, head: string, pw: string) => (pw ? `${head}****@` : `${head}@`));
  // Longest first, so a secret that contains another is masked whole.
  for (const s of [...registered].sort((a, b) => b.length - a.length)) {
    if (!revealed.has(s) && out.includes(s)) out = out.split(s).join(maskToken(s));
  }
  return out;
}
