/* The per-page loops (page_loops.c), exported as `loops` by the same addon as PAGEMAP_SCAN. */
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

/* Adds exports.loops; returns 0 (with a pending N-API error) on failure. */
int register_page_loops(napi_env env, napi_value exports);

#endif
