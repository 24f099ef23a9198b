/**
 * --web.config.file: the web configuration file Prometheus exporters share (prometheus/exporter-toolkit),
 * so operators reuse theirs:
 *
 *   tls_server_config:
 *     cert_file: /etc/memusage/cert.pem
 *     key_file: /etc/memusage/key.pem
 *     client_auth_type: RequireAndVerifyClientCert   # optional, with client_ca_file
 *     client_ca_file: /etc/memusage/ca.pem
 *     min_version: TLS12                             # optional: TLS10..TLS13
 *   http_server_config:
 *     headers: { X-Frame-Options: deny }             # optional response headers
 *   basic_auth_users:
 *     prometheus: $2y$10$...                          # bcrypt hashes (htpasswd -nBC 10 "" | tr -d ':\n')
 *
 * Keys are checked strictly, as exporter-toolkit does: an unknown or unsupported key is an error, never
 * silently ignored (a security setting that does nothing is worse than a refusal).
 */
import type { SecureVersion } from 'node:tls';

export type ClientAuth =
  | 'NoClientCert'
  | 'RequestClientCert'
  | 'RequireAnyClientCert'
  | 'VerifyClientCertIfGiven'
  | 'RequireAndVerifyClientCert';

export interface TlsConfig {
  cert: string;
  key: string;
  ca: string | undefined;
  clientAuth: ClientAuth;
  minVersion: SecureVersion;
  maxVersion: SecureVersion | undefined;
}

export interface WebConfig {
  tls: TlsConfig | undefined;
  /** user → bcrypt hash; empty: no authentication. */
  users: ReadonlyMap<string, string>;
  headers: Readonly<Record<string, string>>;
}

export class WebConfigError extends Error {
  override readonly name = 'WebConfigError';
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const checkKeys = (value: Record<string, unknown>, where: string, known: readonly string[]) => {
  for (const key of Object.keys(value))
    if (!known.includes(key))
      throw new WebConfigError(`${where}: unknown or unsupported key "${key}" (known: ${known.join(', ')})`);
};

const VERSIONS: Record<string, SecureVersion> = {
  TLS10: 'TLSv1',
  TLS11: 'TLSv1.1',
  TLS12: 'TLSv1.2',
  TLS13: 'TLSv1.3',
};

const CLIENT_AUTH: readonly ClientAuth[] = [
  'NoClientCert',
  'RequestClientCert',
  'RequireAnyClientCert',
  'VerifyClientCertIfGiven',
  'RequireAndVerifyClientCert',
];

/** What bcrypt hashes look like ($2a$, $2b$ or $2y$, cost, 53 characters of salt and hash). */
export const BCRYPT_HASH = /^\$2[aby]\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$/;

const version = (value: unknown, where: string): SecureVersion => {
  const v = typeof value === 'string' ? VERSIONS[value] : undefined;
  if (!v) throw new WebConfigError(`${where}: expected one of ${Object.keys(VERSIONS).join(', ')}`);
  return v;
};

const text = (value: unknown, where: string): string => {
  if (typeof value !== 'string' || value === '') throw new WebConfigError(`${where}: expected a file name`);
  return value;
};

/**
 * Validate a parsed web configuration; `readFile(path, what)` reads the certificate files it names (paths
 * relative to the configuration file's directory, as exporter-toolkit resolves them, are the caller's job).
 */
export const parseWebConfig = (doc: unknown, readFile: (path: string, what: string) => string): WebConfig => {
  // An empty file is a valid configuration that asks for nothing (plain HTTP, no authentication).
  if (doc === null || doc === undefined) return { tls: undefined, users: new Map(), headers: {} };
  if (!isRecord(doc)) throw new WebConfigError('expected a mapping');
  checkKeys(doc, 'web config', ['tls_server_config', 'http_server_config', 'basic_auth_users']);
  let tls: TlsConfig | undefined;
  const t = doc.tls_server_config;
  if (t !== undefined && t !== null) {
    if (!isRecord(t)) throw new WebConfigError('tls_server_config: expected a mapping');
    checkKeys(t, 'tls_server_config', [
      'cert_file',
      'key_file',
      'client_auth_type',
      'client_ca_file',
      'min_version',
      'max_version',
    ]);
    const clientAuth = (t.client_auth_type ?? 'NoClientCert') as ClientAuth;
    if (!CLIENT_AUTH.includes(clientAuth))
      throw new WebConfigError(
        `tls_server_config.client_auth_type: expected one of ${CLIENT_AUTH.join(', ')}`,
      );
    const caFile =
      t.client_ca_file === undefined ? undefined : text(t.client_ca_file, 'tls_server_config.client_ca_file');
    if ((clientAuth === 'RequireAndVerifyClientCert' || clientAuth === 'VerifyClientCertIfGiven') && !caFile)
      throw new WebConfigError(`tls_server_config: client_auth_type ${clientAuth} needs client_ca_file`);
    // Every value is checked before any file is read: the first problem reported is the file's own.
    const minVersion =
      t.min_version === undefined ? 'TLSv1.2' : version(t.min_version, 'tls_server_config.min_version');
    const maxVersion =
      t.max_version === undefined ? undefined : version(t.max_version, 'tls_server_config.max_version');
    const certFile = text(t.cert_file, 'tls_server_config.cert_file');
    const keyFile = text(t.key_file, 'tls_server_config.key_file');
    tls = {
      cert: readFile(certFile, 'certificate'),
      key: readFile(keyFile, 'key'),
      ca: caFile === undefined ? undefined : readFile(caFile, 'client CA'),
      clientAuth,
      minVersion,
      maxVersion,
    };
  }
  const headers: Record<string, string> = {};
  const h = doc.http_server_config;
  if (h !== undefined && h !== null) {
    if (!isRecord(h)) throw new WebConfigError('http_server_config: expected a mapping');
    checkKeys(h, 'http_server_config', ['headers', 'http2']);
    if (h.http2 !== undefined && typeof h.http2 !== 'boolean')
      throw new WebConfigError('http_server_config.http2: expected true or false');
    if (h.headers !== undefined) {
      if (!isRecord(h.headers)) throw new WebConfigError('http_server_config.headers: expected a mapping');
      for (const [name, value] of Object.entries(h.headers)) {
        if (!/^[A-Za-z0-9-]+$/.test(name) || typeof value !== 'string' || /[\r\n]/.test(value))
          throw new WebConfigError(`http_server_config.headers: bad header "${name}"`);
        headers[name] = value;
      }
    }
  }
  const users = new Map<string, string>();
  const b = doc.basic_auth_users;
  if (b !== undefined && b !== null) {
    if (!isRecord(b)) throw new WebConfigError('basic_auth_users: expected a mapping of user to bcrypt hash');
    for (const [user, hash] of Object.entries(b)) {
      if (typeof hash !== 'string' || !BCRYPT_HASH.test(hash))
        throw new WebConfigError(`basic_auth_users.${user}: not a bcrypt hash ($2y$10$… from htpasswd -B)`);
      if (user.includes(':'))
        throw new WebConfigError(`basic_auth_users: a user name cannot hold ":" (${user})`);
      users.set(user, hash);
    }
  }
  return { tls, users, headers };
};
