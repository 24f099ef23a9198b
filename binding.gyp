{
  "targets": [
    {
      "target_name": "memusage_native",
      "sources": ["native/addon.c", "native/pagemap_scan.c", "native/page_loops.c", "native/object_runs.c", "native/proc_batch.c", "native/malloc_policy.c", "native/file_frames.c", "native/status_sampler.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags_c": ["-std=gnu11", "-Wall", "-Wextra"],
      "ldflags": ["-pthread"]
    },
    {
      "target_name": "memusage-launch",
      "type": "executable",
      "sources": ["native/launcher.c"],
      "cflags_c": ["-std=gnu11", "-Wall", "-Wextra", "-O2"]
    }
  ]
}
