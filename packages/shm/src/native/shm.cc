// Shared memory zones as real SharedArrayBuffers.
//
// Invariants:
// - A zone is a file descriptor (memfd, or an shm_open object unlinked at once) mapped
//   MAP_SHARED; every process that maps the same fd sees the same bytes.
// - The SharedArrayBuffer's backing store points straight at the mapping (no copy); the
//   mapping is released when the last SharedArrayBuffer referencing it is collected.
// - Nothing here locks: concurrency is the store engine's job (Atomics over the SAB).
#include <node.h>
#include <v8.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace {

using v8::ArrayBuffer;
using v8::BackingStore;
using v8::Context;
using v8::FunctionCallbackInfo;
using v8::Isolate;
using v8::Local;
using v8::Number;
using v8::Object;
using v8::SharedArrayBuffer;
using v8::String;
using v8::Value;

void Throw(Isolate* isolate, const char* code, const std::string& msg) {
  Local<Context> ctx = isolate->GetCurrentContext();
  Local<Value> err = v8::Exception::Error(
      String::NewFromUtf8(isolate, msg.c_str()).ToLocalChecked());
  err.As<Object>()
      ->Set(ctx, String::NewFromUtf8Literal(isolate, "code"),
            String::NewFromUtf8(isolate, code).ToLocalChecked())
      .Check();
  isolate->ThrowException(err);
}

void Unmap(void* data, size_t length, void* /*deleter_data*/) {
  if (data != nullptr && length > 0) munmap(data, length);
}

int CreateFd(const char* name) {
#ifdef SYS_memfd_create
  int fd = static_cast<int>(syscall(SYS_memfd_create, name, 1u /* MFD_CLOEXEC */));
  if (fd >= 0) return fd;
  if (errno != ENOSYS && errno != EINVAL) return -1;
#endif
  // Fallback: a POSIX shm object, unlinked at once: the fd keeps it alive and is what
  // workers inherit, so no name is ever left behind in /dev/shm.
  char path[96];
  for (int attempt = 0; attempt < 16; attempt++) {
    snprintf(path, sizeof path, "/checkups-%d-%s-%d", static_cast<int>(getpid()), name, attempt);
    int fd = shm_open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
      shm_unlink(path);
      return fd;
    }
    if (errno != EEXIST) return -1;
  }
  return -1;
}

Local<SharedArrayBuffer> MapFd(Isolate* isolate, int fd, size_t size, bool* ok) {
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) {
    *ok = false;
    return Local<SharedArrayBuffer>();
  }
  std::unique_ptr<BackingStore> store =
      SharedArrayBuffer::NewBackingStore(p, size, Unmap, nullptr);
  *ok = true;
  return SharedArrayBuffer::New(isolate, std::move(store));
}

// create(name: string, size: number) -> { fd, buffer }
void Create(const FunctionCallbackInfo<Value>& args) {
  Isolate* isolate = args.GetIsolate();
  Local<Context> ctx = isolate->GetCurrentContext();
  if (args.Length() < 2 || !args[0]->IsString() || !args[1]->IsNumber()) {
    return Throw(isolate, "SHM_ERR_INVALID_ARG", "create(name: string, size: number)");
  }
  String::Utf8Value name(isolate, args[0]);
  double dsize = args[1].As<Number>()->Value();
  if (!(dsize >= 4096) || dsize > 64.0 * 1024 * 1024 * 1024) {
    return Throw(isolate, "SHM_ERR_INVALID_ARG", "zone size must be between 4096 bytes and 64 GiB");
  }
  size_t size = static_cast<size_t>(dsize);
  int fd = CreateFd(*name);
  if (fd < 0) {
    return Throw(isolate, "SHM_ERR_CREATE", std::string("memfd_create/shm_open failed: ") + strerror(errno));
  }
  if (ftruncate(fd, static_cast<off_t>(size)) != 0) {
    int e = errno;
    close(fd);
    return Throw(isolate, "SHM_ERR_CREATE", std::string("ftruncate failed: ") + strerror(e));
  }
  bool ok = false;
  Local<SharedArrayBuffer> sab = MapFd(isolate, fd, size, &ok);
  if (!ok) {
    int e = errno;
    close(fd);
    return Throw(isolate, "SHM_ERR_MAP", std::string("mmap failed: ") + strerror(e));
  }
  Local<Object> out = Object::New(isolate);
  out->Set(ctx, String::NewFromUtf8Literal(isolate, "fd"), Number::New(isolate, fd)).Check();
  out->Set(ctx, String::NewFromUtf8Literal(isolate, "buffer"), sab).Check();
  args.GetReturnValue().Set(out);
}

// attach(fd: number) -> SharedArrayBuffer (size taken from fstat)
void Attach(const FunctionCallbackInfo<Value>& args) {
  Isolate* isolate = args.GetIsolate();
  if (args.Length() < 1 || !args[0]->IsNumber()) {
    return Throw(isolate, "SHM_ERR_INVALID_ARG", "attach(fd: number)");
  }
  int fd = static_cast<int>(args[0].As<Number>()->Value());
  struct stat st;
  if (fstat(fd, &st) != 0) {
    return Throw(isolate, "SHM_ERR_ATTACH", std::string("fstat(fd ") + std::to_string(fd) + ") failed: " + strerror(errno));
  }
  if (st.st_size < 4096) {
    return Throw(isolate, "SHM_ERR_ATTACH", "fd " + std::to_string(fd) + " is not a shared memory zone (size " + std::to_string(st.st_size) + ")");
  }
  bool ok = false;
  Local<SharedArrayBuffer> sab = MapFd(isolate, fd, static_cast<size_t>(st.st_size), &ok);
  if (!ok) {
    return Throw(isolate, "SHM_ERR_MAP", std::string("mmap failed: ") + strerror(errno));
  }
  args.GetReturnValue().Set(sab);
}

// closeFd(fd: number) -> void   (the mapping stays valid after the fd is closed)
void CloseFd(const FunctionCallbackInfo<Value>& args) {
  if (args.Length() >= 1 && args[0]->IsNumber()) {
    close(static_cast<int>(args[0].As<Number>()->Value()));
  }
}

// clearCloexec(fd) -> void: lets a child inherit the fd through spawn's stdio mapping.
void ClearCloexec(const FunctionCallbackInfo<Value>& args) {
  if (args.Length() >= 1 && args[0]->IsNumber()) {
    int fd = static_cast<int>(args[0].As<Number>()->Value());
    int flags = fcntl(fd, F_GETFD);
    if (flags >= 0) fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC);
  }
}

void Init(Local<Object> exports, Local<Value>, void*) {
  NODE_SET_METHOD(exports, "create", Create);
  NODE_SET_METHOD(exports, "attach", Attach);
  NODE_SET_METHOD(exports, "closeFd", CloseFd);
  NODE_SET_METHOD(exports, "clearCloexec", ClearCloexec);
}

}  // namespace

NODE_MODULE_CONTEXT_AWARE(NODE_GYP_MODULE_NAME, Init)
