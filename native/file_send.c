/*
 * sockit's file-sending fast path for Linux: a file's bytes go from the page cache to a TCP socket
 * with sendfile(2) — no copy through user memory, and on loopback none at all on the sending side,
 * as the socket takes references to the cached pages — and its SHA-256 is computed with Node's own
 * OpenSSL on a libuv pool thread, reading the file in small positioned reads that stay in the CPU
 * cache. This is what nginx and Apache do for static files; nc and a read/write loop copy every byte
 * twice on the sending side.
 *
 * It holds one piece of the file protocol only: a DATA frame's 5-byte header (u32 big-endian length
 * of type + body, then the type byte), passed in by the caller as the type byte. src/io/native-file-send.ts
 * is its only caller and documents the calls; when this file cannot be built or loaded, sockit reads
 * blocks and writes them to the socket from JavaScript instead.
 *
 * Both calls run on the libuv pool and call back once: cb(error | null, bytesDone). Each works on
 * its own duplicates of the descriptors it is given, so JavaScript closing a socket or file under a
 * call in flight never lets the call touch a descriptor number that was reused meanwhile; a send
 * waiting for the socket to take more checks its cancel token every POLL_SLICE_MS.
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <uv.h>

#include "napi_helpers.h"

#include <openssl/evp.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

/* Positioned reads for hashing: small enough to stay in L2 between the copy and the hash. */
#define HASH_READ_BYTES (256 * 1024)
/* How often a send blocked on a full socket looks at its cancel token. */
#define POLL_SLICE_MS 50
/* sendfile(2) moves at most this much per call (the kernel's own cap is ~2 GiB). */
#define SENDFILE_MAX (16 * 1024 * 1024)

/* ---------- SHA-256 state (a JS external) ---------- */

typedef struct {
  EVP_MD_CTX *ctx;
  int busy; /* a hashFile call is running on it */
} sha_t;

static void sha_finalize(napi_env env, void *data, void *hint) {
  sha_t *h = data;
  EVP_MD_CTX_free(h->ctx);
  free(h);
}

static sha_t *get_sha(napi_env env, napi_value value) {
  void *data = NULL;
  if (napi_get_value_external(env, value, &data) != napi_ok || data == NULL) {
    napi_throw_type_error(env, NULL, "expected a native SHA-256 state");
    return NULL;
  }
  sha_t *h = data;
  if (h->busy) {
    napi_throw_error(env, "ERR_SOCKIT_HASH_BUSY", "the SHA-256 state is in use by a call in flight");
    return NULL;
  }
  return h;
}

/* sha256New() → state */
static napi_value sha256_new(napi_env env, napi_callback_info info) {
  sha_t *h = calloc(1, sizeof *h);
  if (h == NULL) return throw_errno(env, "calloc", ENOMEM);
  h->ctx = EVP_MD_CTX_new();
  if (h->ctx == NULL || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1) {
    EVP_MD_CTX_free(h->ctx);
    free(h);
    napi_throw_error(env, "ERR_SOCKIT_HASH", "OpenSSL could not start a SHA-256");
    return NULL;
  }
  napi_value out;
  napi_create_external(env, h, sha_finalize, NULL, &out);
  return out;
}

/* sha256Update(state, bytes): adds bytes from memory, on this thread. */
static napi_value sha256_update(napi_env env, napi_callback_info info) {
  CALL_ARGS(2);
  sha_t *h = get_sha(env, argv[0]);
  if (h == NULL) return NULL;
  void *data;
  size_t length;
  if (napi_get_typedarray_info(env, argv[1], NULL, &length, &data, NULL, NULL) != napi_ok) {
    napi_throw_type_error(env, NULL, "expected a Uint8Array");
    return NULL;
  }
  EVP_DigestUpdate(h->ctx, data, length);
  return NULL;
}

/* sha256Hex(state, final) → hex digest; without `final` the state goes on (a digest of a copy). */
static napi_value sha256_hex(napi_env env, napi_callback_info info) {
  CALL_ARGS(2);
  sha_t *h = get_sha(env, argv[0]);
  if (h == NULL) return NULL;
  bool final = false;
  napi_get_value_bool(env, argv[1], &final);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  EVP_MD_CTX *ctx = h->ctx;
  EVP_MD_CTX *copy = NULL;
  if (!final) {
    copy = EVP_MD_CTX_new();
    if (copy == NULL || EVP_MD_CTX_copy_ex(copy, h->ctx) != 1) {
      EVP_MD_CTX_free(copy);
      napi_throw_error(env, "ERR_SOCKIT_HASH", "OpenSSL could not copy a SHA-256");
      return NULL;
    }
    ctx = copy;
  }
  int ok = EVP_DigestFinal_ex(ctx, md, &md_len);
  EVP_MD_CTX_free(copy);
  if (ok != 1) {
    napi_throw_error(env, "ERR_SOCKIT_HASH", "OpenSSL could not finish a SHA-256");
    return NULL;
  }
  char hex[2 * EVP_MAX_MD_SIZE + 1];
  for (unsigned int i = 0; i < md_len; i++) snprintf(hex + 2 * i, 3, "%02x", md[i]);
  napi_value out;
  napi_create_string_latin1(env, hex, 2 * md_len, &out);
  return out;
}

/* ---------- cancel tokens (a JS external) ---------- */

static void token_finalize(napi_env env, void *data, void *hint) { free(data); }

/* cancelToken() → token */
static napi_value cancel_token(napi_env env, napi_callback_info info) {
  atomic_int *flag = malloc(sizeof *flag);
  if (flag == NULL) return throw_errno(env, "malloc", ENOMEM);
  atomic_init(flag, 0);
  napi_value out;
  napi_create_external(env, flag, token_finalize, NULL, &out);
  return out;
}

/* cancel(token): sends waiting on this token give up with ECANCELED. */
static napi_value cancel(napi_env env, napi_callback_info info) {
  CALL_ARGS(1);
  void *data = NULL;
  if (napi_get_value_external(env, argv[0], &data) != napi_ok || data == NULL) {
    napi_throw_type_error(env, NULL, "expected a cancel token");
    return NULL;
  }
  atomic_store((atomic_int *)data, 1);
  return NULL;
}

/* ---------- jobs on the libuv pool ---------- */

typedef struct {
  napi_async_work work;
  napi_ref keep;   /* the SHA-256 state or the cancel token, alive while the job runs */
  napi_ref cb;
  sha_t *sha;      /* hash jobs */
  atomic_int *cancelled; /* send jobs */
  int file;        /* our duplicate */
  int sock;        /* our duplicate, send jobs; -1 otherwise */
  int64_t offset;
  int64_t length;
  uint32_t frame_body;
  uint8_t type;
  int64_t done;
  int err;
  const char *syscall;
} job_t;

static void job_free(napi_env env, job_t *j) {
  if (j->file >= 0) close(j->file);
  if (j->sock >= 0) close(j->sock);
  if (j->keep) napi_delete_reference(env, j->keep);
  if (j->cb) napi_delete_reference(env, j->cb);
  if (j->work) napi_delete_async_work(env, j->work);
  free(j);
}

static void job_complete(napi_env env, napi_status status, void *data) {
  job_t *j = data;
  if (j->sha) j->sha->busy = 0;
  napi_value cb, global, args[2];
  napi_get_reference_value(env, j->cb, &cb);
  napi_get_global(env, &global);
  if (status == napi_cancelled) j->err = ECANCELED, j->syscall = "queue";
  if (j->err) args[0] = errno_error(env, j->syscall, j->err);
  else napi_get_null(env, &args[0]);
  napi_create_double(env, (double)j->done, &args[1]);
  job_free(env, j);
  napi_call_function(env, global, cb, 2, args, NULL);
}

static void hash_execute(napi_env env, void *data) {
  job_t *j = data;
  unsigned char *buf = malloc(HASH_READ_BYTES);
  if (buf == NULL) {
    j->err = ENOMEM, j->syscall = "malloc";
    return;
  }
  while (j->done < j->length) {
    int64_t want = j->length - j->done;
    if (want > HASH_READ_BYTES) want = HASH_READ_BYTES;
    ssize_t n = pread(j->file, buf, (size_t)want, j->offset + j->done);
    if (n < 0) {
      if (errno == EINTR) continue;
      j->err = errno, j->syscall = "pread";
      break;
    }
    if (n == 0) break; /* the file is shorter: the caller sees done < length */
    EVP_DigestUpdate(j->sha->ctx, buf, (size_t)n);
    j->done += n;
  }
  free(buf);
}

/* Waits until the socket takes more; 0, or an errno (ECANCELED when the token was set). */
static int wait_writable(job_t *j) {
  for (;;) {
    if (atomic_load(j->cancelled)) return ECANCELED;
    struct pollfd p = {.fd = j->sock, .events = POLLOUT};
    int r = poll(&p, 1, POLL_SLICE_MS);
    if (r < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (r == 0) continue;
    if (p.revents & (POLLERR | POLLHUP | POLLNVAL)) {
      int e = 0;
      socklen_t len = sizeof e;
      getsockopt(j->sock, SOL_SOCKET, SO_ERROR, &e, &len);
      return e ? e : EPIPE;
    }
    if (p.revents & POLLOUT) return 0;
  }
}

static void send_execute(napi_env env, void *data) {
  job_t *j = data;
  while (j->done < j->length) {
    int64_t body = j->length - j->done;
    if (body > j->frame_body) body = j->frame_body;
    uint32_t framed = (uint32_t)body + 1;
    unsigned char head[5] = {framed >> 24, framed >> 16, framed >> 8, framed, j->type};
    size_t head_sent = 0;
    while (head_sent < sizeof head) {
      ssize_t n = send(j->sock, head + head_sent, sizeof head - head_sent, MSG_MORE | MSG_NOSIGNAL);
      if (n >= 0) {
        head_sent += (size_t)n;
        continue;
      }
      int e = errno;
      if (e == EINTR) continue;
      if (e == EAGAIN || e == EWOULDBLOCK) e = wait_writable(j);
      if (e) {
        j->err = e, j->syscall = e == ECANCELED ? "cancel" : "send";
        return;
      }
    }
    off_t pos = (off_t)(j->offset + j->done);
    int64_t left = body;
    while (left > 0) {
      ssize_t n = sendfile(j->sock, j->file, &pos, (size_t)(left > SENDFILE_MAX ? SENDFILE_MAX : left));
      if (n > 0) {
        left -= n;
        continue;
      }
      if (n == 0) {
        /* The file ended early: a frame is half sent, so the connection is unusable. */
        j->done += body - left;
        j->err = ENODATA, j->syscall = "sendfile";
        return;
      }
      int e = errno;
      if (e == EINTR) continue;
      if (e == EAGAIN || e == EWOULDBLOCK) e = wait_writable(j);
      if (e) {
        j->done += body - left;
        j->err = e, j->syscall = e == ECANCELED ? "cancel" : "sendfile";
        return;
      }
    }
    j->done += body;
  }
}

static int get_int64(napi_env env, napi_value v, int64_t *out) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok || d < 0 || d > 9007199254740991.0) return 0;
  *out = (int64_t)d;
  return 1;
}

static napi_value queue(napi_env env, job_t *j, napi_value keep, napi_value cb, napi_async_execute_callback execute, const char *name) {
  napi_value resource_name;
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &resource_name);
  napi_create_reference(env, keep, 1, &j->keep);
  napi_create_reference(env, cb, 1, &j->cb);
  if (napi_create_async_work(env, NULL, resource_name, execute, job_complete, j, &j->work) != napi_ok ||
      napi_queue_async_work(env, j->work) != napi_ok) {
    if (j->sha) j->sha->busy = 0;
    job_free(env, j);
    napi_throw_error(env, "ERR_SOCKIT_NATIVE", "could not queue work on the libuv pool");
  }
  return NULL;
}

static job_t *new_job(napi_env env, int file) {
  job_t *j = calloc(1, sizeof *j);
  if (j == NULL) {
    throw_errno(env, "calloc", ENOMEM);
    return NULL;
  }
  j->sock = -1;
  j->file = fcntl(file, F_DUPFD_CLOEXEC, 0);
  if (j->file < 0) {
    int e = errno;
    free(j);
    throw_errno(env, "dup", e);
    return NULL;
  }
  return j;
}

/* hashFile(state, fileFd, offset, length, cb): adds [offset, offset+length) of the file. */
static napi_value hash_file(napi_env env, napi_callback_info info) {
  CALL_ARGS(5);
  sha_t *h = get_sha(env, argv[0]);
  if (h == NULL) return NULL;
  int32_t fd;
  int64_t offset, length;
  if (napi_get_value_int32(env, argv[1], &fd) != napi_ok || !get_int64(env, argv[2], &offset) || !get_int64(env, argv[3], &length)) {
    napi_throw_type_error(env, NULL, "hashFile(state, fd, offset, length, cb): bad arguments");
    return NULL;
  }
  job_t *j = new_job(env, fd);
  if (j == NULL) return NULL;
  j->sha = h;
  j->offset = offset;
  j->length = length;
  h->busy = 1;
  return queue(env, j, argv[0], argv[4], hash_execute, "sockit.hashFile");
}

/*
 * sendFrames(sockFd, fileFd, offset, length, frameBody, type, token, cb): sends [offset,
 * offset+length) of the file as DATA frames of at most frameBody bytes each.
 */
static napi_value send_frames(napi_env env, napi_callback_info info) {
  CALL_ARGS(8);
  int32_t sock, fd;
  uint32_t frame_body, type;
  int64_t offset, length;
  void *token = NULL;
  if (napi_get_value_int32(env, argv[0], &sock) != napi_ok || napi_get_value_int32(env, argv[1], &fd) != napi_ok ||
      !get_int64(env, argv[2], &offset) || !get_int64(env, argv[3], &length) ||
      napi_get_value_uint32(env, argv[4], &frame_body) != napi_ok || frame_body == 0 || frame_body >= UINT32_MAX ||
      napi_get_value_uint32(env, argv[5], &type) != napi_ok || type > 255 ||
      napi_get_value_external(env, argv[6], &token) != napi_ok || token == NULL) {
    napi_throw_type_error(env, NULL, "sendFrames(sockFd, fileFd, offset, length, frameBody, type, token, cb): bad arguments");
    return NULL;
  }
  job_t *j = new_job(env, fd);
  if (j == NULL) return NULL;
  j->sock = fcntl(sock, F_DUPFD_CLOEXEC, 0);
  if (j->sock < 0) {
    int e = errno;
    job_free(env, j);
    return throw_errno(env, "dup", e);
  }
  j->cancelled = token;
  j->offset = offset;
  j->length = length;
  j->frame_body = frame_body;
  j->type = (uint8_t)type;
  return queue(env, j, argv[6], argv[7], send_execute, "sockit.sendFrames");
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      EXPORT_FN("sha256New", sha256_new),
      EXPORT_FN("sha256Update", sha256_update),
      EXPORT_FN("sha256Hex", sha256_hex),
      EXPORT_FN("hashFile", hash_file),
      EXPORT_FN("cancelToken", cancel_token),
      EXPORT_FN("cancel", cancel),
      EXPORT_FN("sendFrames", send_frames),
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
