# The C++ standard is deliberately not set here: the Node headers' own common.gypi picks the one
# their V8 needs (gnu++17 up to Node 22, gnu++20 from Node 24), and a -std flag of ours would come
# after it and override it. shm.cc is written to compile under both.
{
  "targets": [
    {
      "target_name": "shm",
      "sources": ["src/native/shm.cc"],
      "cflags_cc": ["-O2", "-Wno-cast-function-type"],
      "libraries": ["-lrt"]
    }
  ]
}
