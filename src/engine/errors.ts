/** The requested engine cannot run here (e.g. --engine pagemap without root). */
export class EngineUnavailableError extends Error {
  override readonly name = 'EngineUnavailableError';
}
