// Start the benchmark population and keep it until stdin closes: for profiling by hand.
import { buildMemhog, startPopulation } from './population.mjs';

const population = await startPopulation(buildMemhog());
console.log(
  JSON.stringify({
    normalPid: population.normalPid,
    sparsePids: population.sparsePids,
    count: population.pids.length,
  }),
);
process.stdin.resume();
process.stdin.on('end', () => {
  population.teardown();
  process.exit(0);
});
