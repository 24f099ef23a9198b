/* fileFrames (file_frames.c): one part of the memusage_native addon (addon.c). */
#ifndef MEMUSAGE_FILE_FRAMES_H
#define MEMUSAGE_FILE_FRAMES_H

#include <node_api.h>

/* Adds exports.fileFrames; returns 0 (with a pending N-API error) on failure. */
int register_file_frames(napi_env env, napi_value exports);

#endif
