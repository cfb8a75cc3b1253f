/**
 * Reads what `vault|bao server -dev` printed on stdout (vault.md §1, §9.2). The patterns hold for
 * every Vault and OpenBao version seen; the token prefix is never assumed (hvs., s., or a custom id).
 */

export interface Banner {
  rootToken?: string;
  unsealKey?: string;
  /** The address from the `export VAULT_ADDR=` / `BAO_ADDR=` hint. */
  address?: string;
  /** `Vault` or `OpenBao`, from the configuration header or the started line. */
  flavour?: 'Vault' | 'OpenBao';
  /** The `Version: OpenBao v2.7.2, ...` line of the configuration block (printed before the token exists). */
  version?: { flavour: 'Vault' | 'OpenBao'; version: string };
  /** The server's own error lines (address in use, bad flag, dev-mode failure). */
  errors: string[];
}

// Under a PTY the WARNING lines arrive coloured; strip escapes before matching.
const ANSI = /\x1b\[[0-9;]*m/g;

export function parseBanner(text: string): Banner {
  const banner: Banner = { errors: [] };
  for (const raw of text.replace(ANSI, '').split(/\r?\n/)) {
    const line = raw.trimEnd();
    let m: RegExpMatchArray | null;
    if ((m = line.match(/^Root Token: (\S+)$/))) banner.rootToken = m[1];
    else if ((m = line.match(/^Unseal Key: (\S+)$/))) banner.unsealKey = m[1];
    else if ((m = line.match(/^\s*\$ export (?:VAULT|BAO)_ADDR='([^']+)'$/))) banner.address = m[1];
    else if ((m = line.match(/^==> (Vault|OpenBao) server (?:configuration|started)/)))
      banner.flavour = m[1] as Banner['flavour'];
    else if ((m = line.match(/^\s*Version: (Vault|OpenBao) v(\d+\.\d+\.\d+[^\s,(]*)/)))
      banner.version = { flavour: m[1] as 'Vault' | 'OpenBao', version: m[2] ?? '' };
    else if (
      /^(Error|error)\b/.test(line) ||
      /^flag provided but not defined/.test(line) ||
      /^You cannot specify/.test(line)
    ) {
      banner.errors.push(line);
    }
  }
  return banner;
}
