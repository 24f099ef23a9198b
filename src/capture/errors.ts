/**
 * A capture that cannot be written or read as one (truncated, corrupt, a newer format, not a capture):
 * one stderr line, exit 1. Never wrong numbers: a capture is checked whole before anything is replayed.
 */
export class CaptureError extends Error {
  override readonly name = 'CaptureError';
}
