/*
 * sockit's file-sending fast path for Linux: a file's bytes go from the page cache to a TCP socket
 * with sendfile(2) — no copy through user memory, and on loopback none at all on the sending side,
 * as the socket takes references to the cached pages — and its SHA-256 is computed with Node's own
 * OpenSSL on a libuv pool thread, reading the file in small positioned reads that stay in the CPU
 * cache. This is what nginx and Apache do for static files; nc and a read/write loop copy every byte
 * twice on the sending side.
 *
 * It holds one piece of the file protocol only: a DATA frame's 5-byte header (u32 big-endian length
 * of type + body, then the type byte), the type byte passed in by the caller. src/io/native-file-send.ts
 * is its only caller and documents the calls; when this file cannot be built or loaded, sockit reads
 * blocks and writes them to the socket from JavaScript instead.
 *
 * Sending runs on the event loop, as Node's own socket writes do: a non-blocking sendfile(2) until
 * the socket is full, then a libuv poll handle waits until it takes more. No pool thread ever waits
 * for a slow peer, so downloads to slow clients cannot starve the pool that file system calls need.
 * Hashing is CPU work and runs on the pool. Both work on their own duplicates of the descriptors
 * they are given, so JavaScript closing a socket or file under a call in flight never lets the call
 * touch a descriptor number that was reused meanwhile.
 *
 * One more call sits here because Node has no binding for it: flock(2), with which the receiving
 * side claims a part file across processes (src/io/native-file-lock.ts).
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <uv.h>

#include "napi_helpers.h"

#include <openssl/evp.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

/* Positioned reads for hashing: small enough to stay in L2 between the copy and the hash. */
#define HASH_READ_BYTES (256 * 1024)
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

/* ---------- hashing file ranges on the libuv pool ---------- */

typedef struct {
  napi_async_work work;
  napi_ref keep; /* the SHA-256 state, alive while the job runs */
  napi_ref cb;
  sha_t *sha;
  int file; /* our duplicate */
  int64_t offset;
  int64_t length;
  int64_t done;
  int err;
  const char *syscall;
} job_t;

static void job_free(napi_env env, job_t *j) {
  if (j->file >= 0) close(j->file);
  if (j->keep) napi_delete_reference(env, j->keep);
  if (j->cb) napi_delete_reference(env, j->cb);
  if (j->work) napi_delete_async_work(env, j->work);
  free(j);
}

static void job_complete(napi_env env, napi_status status, void *data) {
  job_t *j = data;
  j->sha->busy = 0;
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

static int get_int64(napi_env env, napi_value v, int64_t *out) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok || d < 0 || d > 9007199254740991.0) return 0;
  *out = (int64_t)d;
  return 1;
}

/* A duplicate of `fd` (close-on-exec), or -1 after throwing. */
static int dup_fd(napi_env env, int fd) {
  int out = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (out < 0) throw_errno(env, "dup", errno);
  return out;
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
  job_t *j = calloc(1, sizeof *j);
  if (j == NULL) return throw_errno(env, "calloc", ENOMEM);
  j->file = dup_fd(env, fd);
  if (j->file < 0) {
    free(j);
    return NULL;
  }
  j->sha = h;
  j->offset = offset;
  j->length = length;
  napi_value resource_name;
  napi_create_string_utf8(env, "sockit.hashFile", NAPI_AUTO_LENGTH, &resource_name);
  napi_create_reference(env, argv[0], 1, &j->keep);
  napi_create_reference(env, argv[4], 1, &j->cb);
  if (napi_create_async_work(env, NULL, resource_name, hash_execute, job_complete, j, &j->work) != napi_ok ||
      napi_queue_async_work(env, j->work) != napi_ok) {
    job_free(env, j);
    napi_throw_error(env, "ERR_SOCKIT_NATIVE", "could not queue work on the libuv pool");
    return NULL;
  }
  h->busy = 1;
  return NULL;
}

/* ---------- sending DATA frames on the event loop ---------- */

typedef struct {
  uv_poll_t poll;
  napi_env env;
  napi_ref cb;
  napi_async_context context;
  int sock; /* our duplicates */
  int file;
  int64_t offset;
  int64_t length;
  int64_t done; /* body bytes sent */
  uint32_t frame_body;
  uint8_t type;
  unsigned char head[5]; /* the current frame's header, head_sent bytes of it sent */
  size_t head_sent;
  int64_t body_left; /* the current frame's body still to send; 0 between frames */
  int finished; /* the callback has been called (or is being called) */
  int owners;   /* the poll handle and the JS external: freed when both are done */
} send_t;

static void send_release(send_t *s) {
  if (--s->owners == 0) free(s);
}

static void send_closed(uv_handle_t *handle) { send_release(handle->data); }

static void send_finalize(napi_env env, void *data, void *hint) { send_release(data); }

/*
 * Sends as much as the socket takes now: 1 when everything is sent, 0 when the socket is full,
 * or -errno (and `*syscall`) on failure; -ENODATA when the file ended first.
 */
static int send_pump(send_t *s, const char **syscall) {
  while (s->done < s->length) {
    if (s->body_left == 0) {
      int64_t body = s->length - s->done;
      if (body > s->frame_body) body = s->frame_body;
      uint32_t framed = (uint32_t)body + 1;
      s->head[0] = framed >> 24, s->head[1] = framed >> 16, s->head[2] = framed >> 8, s->head[3] = framed;
      s->head[4] = s->type;
      s->head_sent = 0;
      s->body_left = body;
    }
    while (s->head_sent < sizeof s->head) {
      ssize_t n = send(s->sock, s->head + s->head_sent, sizeof s->head - s->head_sent, MSG_MORE | MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n >= 0) {
        s->head_sent += (size_t)n;
        continue;
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
      *syscall = "send";
      return -errno;
    }
    while (s->body_left > 0) {
      off_t pos = (off_t)(s->offset + s->done);
      ssize_t n = sendfile(s->sock, s->file, &pos, (size_t)(s->body_left > SENDFILE_MAX ? SENDFILE_MAX : s->body_left));
      if (n > 0) {
        s->body_left -= n;
        s->done += n;
        continue;
      }
      *syscall = "sendfile";
      if (n == 0) return -ENODATA; /* a frame is half sent: the connection is unusable */
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
      return -errno;
    }
  }
  return 1;
}

/* Stops the job and calls back cb(error | null, bytesSent), once. */
static void send_finish(send_t *s, int err, const char *syscall, int from_js) {
  if (s->finished) return;
  s->finished = 1;
  napi_env env = s->env;
  uv_poll_stop(&s->poll);
  close(s->sock);
  close(s->file);
  uv_close((uv_handle_t *)&s->poll, send_closed);
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value cb, recv, args[2], result;
  napi_get_reference_value(env, s->cb, &cb);
  napi_get_global(env, &recv);
  if (err) args[0] = errno_error(env, syscall, err);
  else napi_get_null(env, &args[0]);
  napi_create_double(env, (double)s->done, &args[1]);
  napi_delete_reference(env, s->cb);
  if (from_js) {
    napi_call_function(env, recv, cb, 2, args, &result);
  } else {
    napi_make_callback(env, s->context, recv, cb, 2, args, &result);
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) {
      napi_value exception;
      napi_get_and_clear_last_exception(env, &exception);
      napi_fatal_exception(env, exception);
    }
  }
  napi_async_destroy(env, s->context);
  napi_close_handle_scope(env, scope);
}

static void send_on_poll(uv_poll_t *handle, int status, int events) {
  send_t *s = handle->data;
  if (s->finished) return;
  const char *syscall = "poll";
  int r;
  if (status < 0) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(s->sock, SOL_SOCKET, SO_ERROR, &err, &len);
    r = -(err ? err : EPIPE);
    syscall = "send";
  } else {
    r = send_pump(s, &syscall);
  }
  if (r != 0) send_finish(s, r < 0 ? -r : 0, syscall, 0);
}

/*
 * sendFrames(sockFd, fileFd, offset, length, frameBody, type, cb) → job: sends [offset,
 * offset+length) of the file as DATA frames of at most frameBody bytes each, on the event loop;
 * cb(error | null, bytesSent) once.
 */
static napi_value send_frames(napi_env env, napi_callback_info info) {
  CALL_ARGS(7);
  int32_t sock, fd;
  uint32_t frame_body, type;
  int64_t offset, length;
  napi_valuetype cb_type = napi_undefined;
  napi_typeof(env, argv[6], &cb_type);
  if (napi_get_value_int32(env, argv[0], &sock) != napi_ok || napi_get_value_int32(env, argv[1], &fd) != napi_ok ||
      !get_int64(env, argv[2], &offset) || !get_int64(env, argv[3], &length) ||
      napi_get_value_uint32(env, argv[4], &frame_body) != napi_ok || frame_body == 0 || frame_body >= UINT32_MAX ||
      napi_get_value_uint32(env, argv[5], &type) != napi_ok || type > 255 || cb_type != napi_function) {
    napi_throw_type_error(env, NULL, "sendFrames(sockFd, fileFd, offset, length, frameBody, type, cb): bad arguments");
    return NULL;
  }
  send_t *s = calloc(1, sizeof *s);
  if (s == NULL) return throw_errno(env, "calloc", ENOMEM);
  s->sock = dup_fd(env, sock);
  s->file = s->sock < 0 ? -1 : dup_fd(env, fd);
  if (s->file < 0) {
    if (s->sock >= 0) close(s->sock);
    free(s);
    return NULL;
  }
  uv_loop_t *loop;
  napi_get_uv_event_loop(env, &loop);
  int rc = uv_poll_init(loop, &s->poll, s->sock);
  if (rc != 0) {
    close(s->sock);
    close(s->file);
    free(s);
    return throw_errno(env, "uv_poll_init", -rc);
  }
  s->poll.data = s;
  s->env = env;
  s->offset = offset;
  s->length = length;
  s->frame_body = frame_body;
  s->type = (uint8_t)type;
  s->owners = 2;
  napi_create_reference(env, argv[6], 1, &s->cb);
  napi_value resource_name, out;
  napi_create_string_utf8(env, "sockit.sendFrames", NAPI_AUTO_LENGTH, &resource_name);
  napi_async_init(env, NULL, resource_name, &s->context);
  /* The first poll reports the socket writable at once when it has room. */
  uv_poll_start(&s->poll, UV_WRITABLE, send_on_poll);
  napi_create_external(env, s, send_finalize, NULL, &out);
  return out;
}

/* cancelSend(job): a send still running stops and calls back with ECANCELED, now. */
static napi_value cancel_send(napi_env env, napi_callback_info info) {
  CALL_ARGS(1);
  void *data = NULL;
  if (napi_get_value_external(env, argv[0], &data) != napi_ok || data == NULL) {
    napi_throw_type_error(env, NULL, "cancelSend(job): expected a send job");
    return NULL;
  }
  send_finish(data, ECANCELED, "cancel", 1);
  return NULL;
}

/*
 * lockFile(fd): flock(2)'s exclusive lock on the open file, without waiting. true: taken (it goes
 * when the descriptor is closed, or the process dies); false: another open file — in this process
 * or another — holds it. The receiver claims a part file this way, so two processes writing into
 * one directory never share a part (src/transfer/disk-sink.ts). Other errors (ENOLCK, a file
 * system without locks) are thrown.
 */
static napi_value lock_file(napi_env env, napi_callback_info info) {
  CALL_ARGS(1);
  int32_t fd = -1;
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) {
    napi_throw_type_error(env, NULL, "lockFile(fd): expected a file descriptor");
    return NULL;
  }
  int rc;
  do rc = flock(fd, LOCK_EX | LOCK_NB);
  while (rc != 0 && errno == EINTR);
  if (rc != 0 && errno != EWOULDBLOCK) return throw_errno(env, "flock", errno);
  napi_value out;
  napi_get_boolean(env, rc == 0, &out);
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      EXPORT_FN("sha256New", sha256_new),
      EXPORT_FN("sha256Hex", sha256_hex),
      EXPORT_FN("hashFile", hash_file),
      EXPORT_FN("sendFrames", send_frames),
      EXPORT_FN("cancelSend", cancel_send),
      EXPORT_FN("lockFile", lock_file),
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
