{
  "targets": [
    {
      "target_name": "pagemap_scan",
      "sources": ["native/pagemap_scan.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags_c": ["-std=gnu11"]
    }
  ]
}
