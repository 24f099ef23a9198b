import type { Command } from '@commander-js/extra-typings';
import { DEFAULT_LISTEN } from '../../serve/listen.js';
import { createContext } from '../context.js';
import type { Io } from '../io.js';
import { parseSeconds } from '../parse-options.js';
import type { RunState } from '../program.js';
import {
  engineOption,
  exportByOption,
  groupRulesOption,
  maxGroupsOption,
  pidsOption,
  procRootOption,
} from './common.js';

export const defineServe = (program: Command, io: Io, state: RunState): void => {
  program
    .command('serve')
    .description('a Prometheus exporter: memory by group at http://HOST:PORT/metrics')
    .option('--listen <host:port>', 'address to serve on; port 0 picks a free one', DEFAULT_LISTEN)
    .addOption(exportByOption())
    .addOption(groupRulesOption())
    .addOption(maxGroupsOption())
    .option(
      '--web.config.file <file>',
      'TLS and basic auth, in the exporter-toolkit web configuration format',
    )
    .option('--min-interval <seconds>', 'reuse a snapshot younger than this for later scrapes', parseSeconds)
    .option(
      '--budget <seconds>',
      'a scrape waits at most this long for a fresh snapshot (else gets the last one)',
      parseSeconds,
      10,
    )
    .option(
      '--request-timeout <seconds>',
      'time a client has to send its request (slow clients are cut off)',
      parseSeconds,
      10,
    )
    .addOption(engineOption())
    .addOption(procRootOption())
    .addOption(pidsOption())
    .action(async (options) => {
      const ctx = createContext(io, options.procRoot);
      state.exitCode = await (await import('../commands/serve.js')).runServe(ctx, {
        ...options,
        webConfigFile: options['web.config.file'],
      });
    });
};
