{
  "targets": [
    {
      "target_name": "shm",
      "sources": ["src/native/shm.cc"],
      "cflags_cc": ["-O2", "-std=c++17", "-Wno-cast-function-type"],
      "libraries": ["-lrt"]
    }
  ]
}
