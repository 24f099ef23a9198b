/* The per-page loops (page_loops.c), exported as `loops`: one part of the memusage_native addon (addon.c). */
#ifndef MEMUSAGE_PAGE_LOOPS_H
#define MEMUSAGE_PAGE_LOOPS_H

#include <node_api.h>

#include <stddef.h>
#include <stdint.h>

/*
 * Decode `entries` pagemap entries (two u32 words each) into the present pages' PFNs and attributes
 * (ATTR_FILE, plus `extra`); count real swap entries and other non-present markers. Returns the number
 * of present pages written. Twin of decodePagemapJs (src/account/decode-pagemap.ts).
 */
size_t pagemap_decode(const uint32_t *words, size_t entries, uint32_t extra, uint32_t *pfns, uint8_t *attrs,
                      uint32_t *swap, uint32_t *markers);

/*
 * Copy the entries of a frame-file chunk (PFNs [chunk, chunk + entries), two u32 words each) whose PFN is
 * set in `bits` into lo/hi (hi may be NULL) from dense index `dense` on. Returns the next dense index, or
 * -1 when that would pass `capacity`. The caller checks that bits covers the chunk. Twin of gatherFramesJs
 * (src/account/frame-table.ts).
 */
int64_t frames_gather(const uint32_t *words, uint32_t chunk, uint32_t entries, const uint32_t *bits, uint32_t *lo,
                      uint32_t *hi, uint32_t dense, size_t capacity);

/*
 * Set bits of a word. Without -mpopcnt (not every x86-64 has the instruction) __builtin_popcount is a
 * call into libgcc, which showed in profiles of the per-page loops; this is the same few operations inline.
 */
static inline uint32_t popcount32(uint32_t v) {
  v -= (v >> 1) & 0x55555555u;
  v = (v & 0x33333333u) + ((v >> 2) & 0x33333333u);
  return (((v + (v >> 4)) & 0x0f0f0f0fu) * 0x01010101u) >> 24;
}

/* Adds exports.loops; returns 0 (with a pending N-API error) on failure. */
int register_page_loops(napi_env env, napi_value exports);

#endif
