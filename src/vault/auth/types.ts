/**
 * How the tool and Airflow log in to Vault. Every method yields a client token for a VaultClient
 * and says which VaultBackend kwargs make the provider log in the same way, so steps, checks,
 * templates and status never assume a root token.
 */
import type { LoginResult, VaultClient } from '../client.js';

export interface Auth {
  /** The provider's `auth_type` value. */
  readonly method: string;
  /** Log in as the provider would (no request for a plain token) and return the client token. */
  login(client: VaultClient): Promise<LoginResult>;
  /** The VaultBackend kwargs for this method, with the provider's own keys (secrets included: the caller masks). */
  backendKwargs(): Record<string, unknown>;
  /** One line for messages and status; never a secret. */
  describe(): string;
}

/** Raised when an auth method's own input is unusable (a token file that cannot be read, ...). */
export class AuthError extends Error {
  constructor(
    readonly kind: 'token-file' | 'missing',
    message: string,
  ) {
    super(message);
    this.name = 'AuthError';
  }
}
