import { dirname, resolve } from 'node:path';
import { readTextFile, readYamlFile } from '../export/config-file.js';
import { ConfigFileError } from '../export/errors.js';
import { parseWebConfig, type WebConfig, WebConfigError } from './web-config.js';

const OPTION = '--web.config.file';

/** Read --web.config.file; file names inside it are relative to its directory, as exporter-toolkit has them. */
export const loadWebConfig = (path: string): WebConfig => {
  const doc = readYamlFile(OPTION, path);
  const base = dirname(resolve(path));
  try {
    return parseWebConfig(doc, (file, what) => readTextFile(OPTION, resolve(base, file), what));
  } catch (error) {
    if (error instanceof WebConfigError) throw new ConfigFileError(OPTION, path, error.message);
    throw error;
  }
};
