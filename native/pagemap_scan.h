/* The PAGEMAP_SCAN ioctl (pagemap_scan.c), one part of the memusage_native addon (addon.c). */
#ifndef MEMUSAGE_PAGEMAP_SCAN_H
#define MEMUSAGE_PAGEMAP_SCAN_H

#include <node_api.h>

/* Adds exports.scan and exports.PAGE_IS; returns 0 (with a pending N-API error) on failure. */
int register_pagemap_scan(napi_env env, napi_value exports);

#endif
