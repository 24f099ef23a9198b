import { EngineUnavailableError } from '../../engine/errors.js';
import { StreamScratch } from '../../engine/stream-scratch.js';
import type { EngineChoice } from '../../engine/types.js';
import { readYamlFile } from '../../export/config-file.js';
import { type ExportSnapshot, measureExport } from '../../export/measure.js';
import { exportFamilies } from '../../export/metrics.js';
import { bind } from '../../serve/bind.js';
import { parseListen, urlOf } from '../../serve/listen.js';
import { loadWebConfig } from '../../serve/load-web-config.js';
import { createExporterServer } from '../../serve/server.js';
import { SnapshotCache } from '../../serve/snapshot-cache.js';
import { parseWebConfig } from '../../serve/web-config.js';
import type { CommandContext } from '../context.js';
import { EXIT_OK, UsageError } from '../errors.js';
import { type GroupingOptions, groupingOf } from '../export-options.js';
import { VERSION } from '../version.js';

export interface ServeCommandOptions extends GroupingOptions {
  listen: string;
  webConfigFile?: string | undefined;
  minInterval?: number;
  budget: number;
  requestTimeout: number;
  engine: EngineChoice;
  pid?: number[];
}

/** `memusage serve`: bind, print the ready line with the URL, serve until SIGINT or SIGTERM. */
export const runServe = async (ctx: CommandContext, options: ServeCommandOptions): Promise<number> => {
  const address = parseListen(options.listen);
  if (typeof address === 'string') throw new UsageError(`--listen: ${address}`);
  const grouping = groupingOf(options, readYamlFile);
  if (grouping.warning) ctx.io.err(`memusage: warning: ${grouping.warning}\n`);
  const web =
    options.webConfigFile === undefined
      ? parseWebConfig(null, () => '')
      : loadWebConfig(options.webConfigFile);
  const caps = ctx.capabilities();
  if (options.engine === 'pagemap' && !caps.frames)
    throw new EngineUnavailableError(`the pagemap engine cannot run: ${caps.framesReason}`);
  const engine = options.engine !== 'smaps' && caps.frames ? 'pagemap engine' : 'smaps_rollup engine';
  const users = ctx.users();
  const now = () => performance.now();
  // Scrape after scrape, the engine works in the same arrays instead of allocating and faulting them in.
  const scratch = new StreamScratch();
  const cache = new SnapshotCache<ExportSnapshot>(
    () =>
      measureExport(
        {
          procRoot: ctx.procRoot,
          engine: options.engine,
          by: grouping.by,
          maxGroups: options.maxGroups,
          pids: options.pid,
          scratch,
        },
        caps,
        users,
      ),
    {
      minIntervalMs: (options.minInterval ?? 0) * 1000,
      budgetMs: options.budget * 1000,
      now,
      defer: (fn) => setImmediate(fn),
    },
  );
  const server = createExporterServer({
    cache,
    families: (snap, age) =>
      exportFamilies(snap, {
        version: VERSION,
        age,
        minInterval: options.minInterval ?? 0,
        by: grouping.name,
      }),
    web,
    requestTimeoutMs: options.requestTimeout * 1000,
    now,
    log: (line) => ctx.io.err(`memusage: ${line}\n`),
  });
  const port = await bind(server, address);
  const url = urlOf(web.tls ? 'https' : 'http', address.host, port);
  ctx.io.err(`memusage: serving ${url} (${engine})\n`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      server.close(() => resolve());
      server.closeAllConnections();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  return EXIT_OK;
};
