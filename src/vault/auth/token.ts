/**
 * Token auth: a token string, or a file holding one (`token_path`). Like the provider's
 * `_set_token`, there is no login request: the token is used as is, the file read and stripped.
 * On a sandbox server Airflow gets the tool's own root token: nothing to set up.
 */
import { FileError } from '../../errors.js';
import { MAX_TOKEN_BYTES, readUserFile } from '../../io/read.js';
import type { LoginResult } from '../api.js';
import { type AuthMethod, AuthError } from './types.js';

export type TokenAuthSpec = { method: 'token'; token: string } | { method: 'token'; tokenPath: string };

function readToken(spec: TokenAuthSpec): string {
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
}

export const token: AuthMethod<TokenAuthSpec> = {
  name: 'token',
  title: 'token',
  brief: 'the root token',
  choice: 'Airflow uses the sandbox root token (the classic guide; simplest)',
  doc: "Airflow uses the server's root token (in `.env`)",
  secretKwargs: ['token'],
  needs: '"token" (or "token_path"), or VAULT_TOKEN in Airflow\'s environment',
  placeholders: { token: '<your token>' },
  /** `token_path` wins over `token` (as in `_set_token`); VAULT_TOKEN from the env stands in for a missing `token`. */
  fromKwargs(kw, env) {
    if (typeof kw.token_path === 'string' && kw.token_path) return { method: 'token', tokenPath: kw.token_path };
    const value = typeof kw.token === 'string' && kw.token ? kw.token : env.get('VAULT_TOKEN');
    if (!value) return 'no token in the kwargs and no VAULT_TOKEN';
    return { method: 'token', token: value };
  },
  // Always explicit: 1.10 and providers before 3.6.3 ignore VAULT_TOKEN.
  kwargs: (spec) => ('token' in spec ? { token: spec.token } : { token_path: spec.tokenPath }),
  async login(_api, spec): Promise<LoginResult> {
    return { token: readToken(spec), policies: [], ttl: 0 };
  },
  describe: (spec) => ('token' in spec ? 'a token' : `the token in ${spec.tokenPath}`),
  explainRefusal: (e, _spec, rerun) => ({
    why: `the server refuses the token (${e.message})`,
    fix: rerun ?? 'use a valid token: vault token lookup <token> tells whether the server knows it',
  }),
};
