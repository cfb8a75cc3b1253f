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
/** The distinct lengths of the registered secrets, longest first (null: to be recomputed). */
let lengths: number[] | null = null;
/** The first two UTF-16 units of each registered secret, as one number. */
let heads: Set<number> | null = null;
const headOf = (t: string, i: number): number => t.charCodeAt(i) * 65536 + t.charCodeAt(i + 1);

/** Remember a secret for every later redact() in this process (the error printer among them). */
export function registerSecret(...secrets: (string | null | undefined)[]): void {
  for (const s of secrets) {
    if (!s || s.length < MIN_REDACTED) continue;
    registered.add(s);
    lengths = null;
    // A URI carries the password percent-encoded; an error may echo either form.
    try {
      const enc = encodeURIComponent(s);
      if (enc !== s) registered.add(enc);
      lengths = null;
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

/**
 * A URI as the user typed it, to echo in a message, with what may be its password masked even when
 * it is malformed (`postgres//u:pw@db`, which URI_USERINFO does not see as a URI): the text between
 * the last ':' before the last '@' and that '@'. Masking too much is harmless; showing a password is not.
 */
export function maskTypedUri(uri: string): string {
  const at = uri.lastIndexOf('@');
  if (at < 0) return uri;
  const colon = uri.lastIndexOf(':', at);
  if (colon < 0 || colon + 1 === at) return uri;
  return `${uri.slice(0, colon + 1)}****${uri.slice(at)}`;
}

/** Replaces every occurrence of each secret in `text`; the last line of defence for any message we print. */
export function redact(text: string, secrets: (string | null | undefined)[] = []): string {
  registerSecret(...secrets);
  return maskRegistered(
    text.replace(URI_USERINFO, (_, head: string, pw: string) => (pw ? `${head}****@` : `${head}@`)),
  );
}

/**
 * Every registered secret in `text` masked, in one pass: at each position the substrings of each
 * registered length are looked up in the set, longest first (a secret containing another is masked
 * whole). Linear in the text times the number of distinct lengths, whatever the number of secrets
 * (100,000 imported passwords sharing a prefix included).
 */
function maskRegistered(text: string): string {
  if (registered.size === 0) return text;
  if (!lengths || !heads) {
    lengths = [...new Set([...registered].map((x) => x.length))].sort((a, b) => b - a);
    heads = new Set([...registered].map((x) => headOf(x, 0)));
  }
  let out = '';
  let from = 0;
  for (let i = 0; i + MIN_REDACTED <= text.length; ) {
    // Most positions start no secret: two characters rule them out before any substring is made.
    if (!heads.has(headOf(text, i))) {
      i++;
      continue;
    }
    let hit: string | undefined;
    for (const n of lengths) {
      if (i + n > text.length) continue;
      const sub = text.slice(i, i + n);
      if (registered.has(sub) && !revealed.has(sub)) {
        hit = sub;
        break;
      }
    }
    if (hit === undefined) {
      i++;
      continue;
    }
    out += text.slice(from, i) + maskToken(hit);
    i += hit.length;
    from = i;
  }
  return out + text.slice(from);
}
