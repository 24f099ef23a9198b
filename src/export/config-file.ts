import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { ConfigFileError } from './errors.js';

/** Files larger than this are not configuration: refuse them rather than parse megabytes of YAML. */
const MAX_CONFIG_BYTES = 1024 * 1024;

/** Read and parse a YAML configuration file; every failure is a ConfigFileError naming the option. */
export const readYamlFile = (option: string, path: string): unknown => {
  let text: string;
  try {
    const bytes = readFileSync(path);
    if (bytes.length > MAX_CONFIG_BYTES) throw new ConfigFileError(option, path, 'larger than 1 MiB');
    text = bytes.toString('utf8');
  } catch (error) {
    if (error instanceof ConfigFileError) throw error;
    const e = error as NodeJS.ErrnoException;
    throw new ConfigFileError(option, path, `cannot read: ${e.code ?? e.message}`);
  }
  try {
    // YAML 1.2 core schema, as Go's yaml.v2/v3 read these files: no custom tags, no merge keys.
    return parse(text, { strict: true, uniqueKeys: true, maxAliasCount: 100 });
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0]! : String(error);
    throw new ConfigFileError(option, path, `not valid YAML: ${message}`);
  }
};

/** Read a whole file as UTF-8 text (certificates, keys), as a ConfigFileError on failure. */
export const readTextFile = (option: string, path: string, what: string): string => {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    throw new ConfigFileError(option, path, `cannot read ${what}: ${e.code ?? e.message}`);
  }
};
