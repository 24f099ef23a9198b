/** Worker side of the worker-thread prototype: collect the PIDs it is given and hand the pages back. */
import { parentPort, workerData } from 'node:worker_threads';
import { collectPids, transferList } from './collect.mjs';

const result = collectPids(workerData.pids);
parentPort.postMessage(result, transferList(result.collected));
