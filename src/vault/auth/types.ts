/**
 * How the tool and Airflow log in to Vault. Each method (one file beside this one, one line in
 * index.ts) says everything about itself: how the provider reads it from the backend kwargs, the
 * kwargs it writes, how it logs in, what it sets up on a sandbox server, and how a refusal is
 * explained. Steps, doctor, the settings schema and the wizard ask the registry, never a method.
 */
import type { LoginResult, VaultApi, VaultError } from '../api.js';

/** What every method's spec has: its name, the provider's `auth_type`. */
export interface AuthSpecBase {
  method: string;
}

/** A refused login, explained: what is wrong and what to do. */
export interface Refusal {
  why: string;
  fix: string;
}

/** What a method needs to set Airflow's login up on the sandbox's own server. */
export interface SandboxAuthInput {
  /** The ACL policy (already written) the identity Airflow logs in as is bound to. */
  policy: string;
  /** The kwargs the sandbox's .env gives Airflow now: credentials that still log in are kept, so a rerun changes nothing. */
  current: Readonly<Record<string, unknown>>;
  /** How long a credential stays valid in seconds (0: no expiry); `renew`: the user just asked for that, so a new one. */
  ttl: { seconds: number; renew: boolean };
  /** Now, in ms since the epoch (injected: tests pass a clock). */
  now(): number;
  /** A line of progress for the user. */
  say(message: string): void;
}

export interface SandboxAuth<S extends AuthSpecBase> {
  /** The dry run's lines: what `setUp` would do. */
  plan(input: { policy: string; ttl: SandboxAuthInput['ttl'] }): string[];
  /** Enable the method, bind an identity to the policy, and return the credentials Airflow gets. */
  setUp(api: VaultApi, input: SandboxAuthInput): Promise<S>;
  /** How the report names what Airflow logs in as ("AppRole (role airflow)"); never a secret. */
  summary(spec: S): string;
  /** The same for the JSON summary: the identity's kind and name ({ role: 'airflow' }). */
  identity(spec: S): Record<string, string>;
}

export interface AuthMethod<S extends AuthSpecBase> {
  /** The provider's `auth_type`, the `--auth` choice and the config's `vault.auth` value. */
  readonly name: S['method'];
  /** The method's name in a sentence ("AppRole"). */
  readonly title: string;
  /** What --help says of the choice, in a few words ("the root token"). */
  readonly brief: string;
  /** The wizard's line for the choice. */
  readonly choice: string;
  /** What the README's options table says of it (markdown, one sentence or two). */
  readonly doc: string;
  /** The kwargs that carry secrets (masked in every message; the env files are 0600). */
  readonly secretKwargs: readonly string[];
  /** The kwargs a login this way needs, for a fix that says what to add ('"role_id" and "secret_id"'). */
  readonly needs: string;
  /** The kwargs a dry run shows before the real credentials exist. */
  readonly placeholders: Readonly<Record<string, unknown>>;
  /** How the provider logs in with these kwargs (env: Airflow's environment), or what is wrong with them. */
  fromKwargs(kw: Readonly<Record<string, unknown>>, env: ReadonlyMap<string, string>): S | string;
  /**
   * Airflow's credentials for an existing Vault (--vault-url), from the environment (never from a
   * flag value: argv is visible to every user), or what is missing. Absent: not offered there.
   */
  fromEnv?(env: NodeJS.ProcessEnv): S | string;
  /** The kwargs that make the provider log in this way (secrets included: the caller masks). */
  kwargs(spec: S): Record<string, unknown>;
  /** Log in as the provider does and return the client token. */
  login(api: VaultApi, spec: S): Promise<LoginResult>;
  /** Where the login goes, for messages ("AppRole login at auth/approle"); never a secret. */
  describe(spec: S): string;
  /** A login the server refused, explained. `rerun` is the command that redoes the sandbox's set-up, when there is one. */
  explainRefusal(e: VaultError, spec: S, rerun?: string): Refusal;
  /** What the method sets up on a sandbox server; absent: Airflow uses the tool's own token. */
  readonly sandbox?: SandboxAuth<S>;
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

/** A method's spec with its method's behaviour bound to it: what steps and checks hold. */
export interface Auth {
  /** The provider's `auth_type` value. */
  readonly method: string;
  login(client: VaultApi): Promise<LoginResult>;
  /** The VaultBackend kwargs for this method, with the provider's own keys (secrets included: the caller masks). */
  backendKwargs(): Record<string, unknown>;
  /** One line for messages and status; never a secret. */
  describe(): string;
}
