import { dirname, resolve } from 'node:path';
import { createSecureContext } from 'node:tls';
import { readTextFile, readYamlFile } from '../export/config-file.js';
import { ConfigFileError } from '../export/errors.js';
import { parseWebConfig, type WebConfig, WebConfigError } from './web-config.js';

const OPTION = '--web.config.file';

/** Read --web.config.file; file names inside it are relative to its directory, as exporter-toolkit has them. */
export const loadWebConfig = (path: string): WebConfig => {
  const doc = readYamlFile(OPTION, path);
  const base = dirname(resolve(path));
  let config: WebConfig;
  try {
    config = parseWebConfig(doc, (file, what) => readTextFile(OPTION, resolve(base, file), what));
  } catch (error) {
    if (error instanceof WebConfigError) throw new ConfigFileError(OPTION, path, error.message);
    throw error;
  }
  if (config.tls) {
    // Load them now, so that a key that does not fit its certificate is a usage error and not a crash.
    const { cert, key, ca } = config.tls;
    try {
      createSecureContext({ cert, key, ...(ca ? { ca } : {}) });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new ConfigFileError(OPTION, path, `the certificate, key or client CA does not load: ${message}`);
    }
  }
  return config;
};
