/**
 * Token auth: a token string, or a file holding one (`token_path`). Like the provider's
 * `_set_token`, there is no login request: the token is used as is, the file read and stripped.
 */
import type { LoginResult } from '../client.js';
import { AuthError, type Auth } from './types.js';
import { FileError } from '../../errors.js';
import { MAX_TOKEN_BYTES, readUserFile } from '../../io/read.js';

export type TokenAuthSpec = { method: 'token'; token: string } | { method: 'token'; tokenPath: string };

export function tokenAuth(spec: TokenAuthSpec): Auth {
  const read = (): string => {
    if ('token' in spec) return spec.token;
    let text: string;
    try {
      text = readUserFile(spec.tokenPath, { what: 'the token file', maxBytes: MAX_TOKEN_BYTES });
    } catch (e) {
      if (!(e instanceof FileError)) throw e;
      throw new AuthError('token-file', `the token file ${spec.tokenPath} ${e.problem}`);
    }
    const token = text.trim();
    if (!token) throw new AuthError('token-file', `the token file ${spec.tokenPath} is empty`);
    return token;
  };
  return {
    method: 'token',
    async login(): Promise<LoginResult> {
      return { token: read(), policies: [], ttl: 0 };
    },
    backendKwargs() {
      // Always explicit: 1.10 and providers before 3.6.3 ignore VAULT_TOKEN.
      return 'token' in spec ? { token: spec.token } : { token_path: spec.tokenPath };
    },
    describe() {
      return 'token' in spec ? 'a token' : `the token in ${spec.tokenPath}`;
    },
  };
}

/**
 * What the provider's token auth would use, from VaultBackend kwargs: `token_path` wins over `token`
 * (as in `_set_token`), and VAULT_TOKEN from the env stands in for a missing `token`.
 */
export function tokenFromKwargs(kw: Record<string, unknown>, env: Map<string, string>): TokenAuthSpec | string {
  if (typeof kw.token_path === 'string' && kw.token_path) return { method: 'token', tokenPath: kw.token_path };
  const token = typeof kw.token === 'string' && kw.token ? kw.token : env.get('VAULT_TOKEN');
  if (!token) return 'no token in the kwargs and no VAULT_TOKEN';
  return { method: 'token', token };
}
