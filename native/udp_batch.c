/*
 * sockit's batched UDP I/O for Linux: one non-blocking UDP socket watched by a libuv poll handle,
 * read with recvmmsg(2) (and UDP_GRO, so the kernel may hand over many same-sized datagrams as one
 * buffer) and written with sendmmsg(2) (and UDP_SEGMENT, so one buffer of equal-sized datagrams
 * crosses the stack once). This is what QUIC stacks do (quinn-udp, quiche, msquic); node:dgram makes
 * one system call and one JavaScript callback per datagram, and that, not the protocol, bounds a
 * JavaScript transport on loopback.
 *
 * It holds no protocol: bytes in, bytes out. src/io/native-udp.ts is its only caller and documents
 * the calls; when this file cannot be built or loaded, sockit uses node:dgram instead.
 *
 * JS callback: onEvent(kind, value)
 *   kind 1 (READ):     value = number of filled receive slots (see `attachReceive`)
 *   kind 2 (WRITABLE): the socket can take more after a send returned -EAGAIN
 *   kind 3 (ERROR):    value = -errno from a receive (e.g. ECONNREFUSED after ICMP port unreachable)
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <uv.h>

#include "napi_helpers.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef SOL_UDP
#define SOL_UDP 17
#endif
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif

#define MAX_SLOTS 64
#define MAX_SEND 64
#define META_PER_SLOT 4
#define MAX_READ_BATCHES_PER_POLL 8
#define CONTROL_BYTES 64

enum { KIND_READ = 1, KIND_WRITABLE = 2, KIND_ERROR = 3 };

typedef struct {
  int fd;
  int family;
  int closing;
  int gro;
  int referenced;
  int events;
  int owners; /* the JS external and the libuv handle: freed when both are done */
  uv_poll_t poll;
  napi_env env;
  napi_ref on_event;
  napi_async_context async_context;
  /* receive slots, owned by JS (kept alive by the references) */
  napi_ref rx_arena_ref;
  uint8_t *rx_arena;
  size_t rx_slot_bytes;
  int rx_slots;
  napi_ref rx_meta_ref;
  int32_t *rx_meta;
  napi_ref rx_addrs_ref;
  struct sockaddr_storage rx_from[MAX_SLOTS];
  char rx_control[MAX_SLOTS][CONTROL_BYTES];
  struct sockaddr_storage last_from;
  socklen_t last_from_len;
} port_t;

/* ---------- small helpers ---------- */

static napi_value int_value(napi_env env, int32_t v) {
  napi_value out;
  napi_create_int32(env, v, &out);
  return out;
}

static port_t *get_port(napi_env env, napi_value value) {
  void *data = NULL;
  if (napi_get_value_external(env, value, &data) != napi_ok || data == NULL) {
    napi_throw_type_error(env, NULL, "expected a native UDP port");
    return NULL;
  }
  port_t *p = data;
  if (p->closing) {
    napi_throw_error(env, "ERR_SOCKET_DGRAM_NOT_RUNNING", "the native UDP port is closed");
    return NULL;
  }
  return p;
}

/* The arguments of a call on a port: argv[0] is the port, `p` its state (returns if it is closed). */
#define PORT_ARGS(n)              \
  CALL_ARGS(n);                   \
  port_t *p = get_port(env, argv[0]); \
  if (p == NULL) return NULL

/* Parses a numeric address (IPv6 scope ids allowed) into `out` for a socket of `family`. */
static int parse_address(const char *host, int port, int family, struct sockaddr_storage *out, socklen_t *len) {
  memset(out, 0, sizeof *out);
  if (family == AF_INET) {
    struct sockaddr_in *a = (struct sockaddr_in *)out;
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &a->sin_addr) != 1) return EINVAL;
    *len = sizeof *a;
    return 0;
  }
  struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)out;
  a6->sin6_family = AF_INET6;
  a6->sin6_port = htons((uint16_t)port);
  if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
    *len = sizeof *a6;
    return 0;
  }
  struct in_addr v4;
  if (inet_pton(AF_INET, host, &v4) == 1) { /* an IPv4 peer of a dual-stack socket */
    a6->sin6_addr.s6_addr[10] = 0xff;
    a6->sin6_addr.s6_addr[11] = 0xff;
    memcpy(&a6->sin6_addr.s6_addr[12], &v4, 4);
    *len = sizeof *a6;
    return 0;
  }
  struct addrinfo hints, *res = NULL; /* fe80::1%lo and the like */
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_INET6;
  hints.ai_flags = AI_NUMERICHOST;
  hints.ai_socktype = SOCK_DGRAM;
  if (getaddrinfo(host, NULL, &hints, &res) != 0 || res == NULL) return EINVAL;
  memcpy(a6, res->ai_addr, res->ai_addrlen);
  a6->sin6_port = htons((uint16_t)port);
  *len = (socklen_t)res->ai_addrlen;
  freeaddrinfo(res);
  return 0;
}

/* Formats an address as node:dgram does ("127.0.0.1", "::1", "::ffff:127.0.0.1", "fe80::1%lo"). */
static void format_address(const struct sockaddr_storage *ss, char *text, size_t size, int *port) {
  text[0] = 0;
  if (ss->ss_family == AF_INET) {
    const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
    inet_ntop(AF_INET, &a->sin_addr, text, (socklen_t)size);
    *port = ntohs(a->sin_port);
  } else if (ss->ss_family == AF_INET6) {
    const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)ss;
    inet_ntop(AF_INET6, &a6->sin6_addr, text, (socklen_t)size);
    if (a6->sin6_scope_id != 0) {
      char scope[IF_NAMESIZE + 2] = "%";
      if (if_indextoname(a6->sin6_scope_id, scope + 1) == NULL) snprintf(scope, sizeof scope, "%%%u", a6->sin6_scope_id);
      strncat(text, scope, size - strlen(text) - 1);
    }
    *port = ntohs(a6->sin6_port);
  } else {
    *port = 0;
  }
}

static int get_string(napi_env env, napi_value value, char *out, size_t size) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, value, out, size, &len) != napi_ok) return -1;
  return (int)len;
}

/* ---------- calling JavaScript ---------- */

static void call_js(port_t *p, int kind, int value) {
  napi_env env = p->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value fn, recv, argv[2], result;
  napi_get_reference_value(env, p->on_event, &fn);
  napi_get_global(env, &recv); /* napi_make_callback wants an object as `this` */
  argv[0] = int_value(env, kind);
  argv[1] = int_value(env, value);
  napi_make_callback(env, p->async_context, recv, fn, 2, argv, &result);
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) { /* the callback threw: an uncaught exception, as from any Node callback */
    napi_value exception;
    napi_get_and_clear_last_exception(env, &exception);
    napi_fatal_exception(env, exception);
  }
  napi_close_handle_scope(env, scope);
}

/* ---------- receiving ---------- */

/* One recvmmsg into the slots; fills the meta table; returns the slot count, 0, or -errno. */
static int receive_batch(port_t *p) {
  struct mmsghdr msgs[MAX_SLOTS];
  struct iovec iovs[MAX_SLOTS];
  int slots = p->rx_slots;
  for (int i = 0; i < slots; i++) {
    iovs[i].iov_base = p->rx_arena + (size_t)i * p->rx_slot_bytes;
    iovs[i].iov_len = p->rx_slot_bytes;
    memset(&msgs[i].msg_hdr, 0, sizeof msgs[i].msg_hdr);
    msgs[i].msg_hdr.msg_name = &p->rx_from[i];
    msgs[i].msg_hdr.msg_namelen = sizeof p->rx_from[i];
    msgs[i].msg_hdr.msg_iov = &iovs[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    msgs[i].msg_hdr.msg_control = p->rx_control[i];
    msgs[i].msg_hdr.msg_controllen = CONTROL_BYTES;
  }
  int n;
  do {
    n = recvmmsg(p->fd, msgs, (unsigned)slots, MSG_DONTWAIT, NULL);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -errno;

  napi_env env = p->env;
  napi_value addrs = NULL;
  for (int i = 0; i < n; i++) {
    int32_t *meta = p->rx_meta + i * META_PER_SLOT;
    int segment = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msgs[i].msg_hdr); c != NULL; c = CMSG_NXTHDR(&msgs[i].msg_hdr, c)) {
      if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
        int v;
        memcpy(&v, CMSG_DATA(c), sizeof v);
        segment = v;
      }
    }
    meta[0] = (int32_t)msgs[i].msg_len;
    meta[1] = segment;
    socklen_t len = msgs[i].msg_hdr.msg_namelen;
    int changed = len != p->last_from_len || memcmp(&p->rx_from[i], &p->last_from, len) != 0;
    meta[3] = changed;
    if (changed) {
      char text[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
      int port = 0;
      format_address(&p->rx_from[i], text, sizeof text, &port);
      meta[2] = port;
      memcpy(&p->last_from, &p->rx_from[i], len);
      p->last_from_len = len;
      if (addrs == NULL) napi_get_reference_value(env, p->rx_addrs_ref, &addrs);
      napi_value s;
      napi_create_string_latin1(env, text, NAPI_AUTO_LENGTH, &s);
      napi_set_element(env, addrs, (uint32_t)i, s);
    } else {
      meta[2] = p->rx_from[i].ss_family == AF_INET ? ntohs(((struct sockaddr_in *)&p->rx_from[i])->sin_port)
                                                   : ntohs(((struct sockaddr_in6 *)&p->rx_from[i])->sin6_port);
    }
  }
  return n;
}

static void update_poll(port_t *p);

static void on_poll(uv_poll_t *handle, int status, int events) {
  port_t *p = handle->data;
  if (p->closing) return;
  napi_handle_scope scope;
  napi_open_handle_scope(p->env, &scope);
  if (status < 0) {
    /* libuv reports POLLERR (here: an ICMP error queued on the socket) as UV_EBADF and stops the
     * handle. Report the socket's real error, as a receive would, and watch again. */
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    update_poll(p);
    if (err != 0) call_js(p, KIND_ERROR, -err);
  } else {
    if (events & UV_WRITABLE) {
      p->events &= ~UV_WRITABLE;
      update_poll(p);
      call_js(p, KIND_WRITABLE, 0);
    }
    if ((events & UV_READABLE) && p->rx_arena != NULL) {
      for (int round = 0; round < MAX_READ_BATCHES_PER_POLL && !p->closing; round++) {
        int n = receive_batch(p);
        if (n < 0) {
          call_js(p, KIND_ERROR, n);
          continue;
        }
        if (n == 0) break;
        call_js(p, KIND_READ, n);
        if (n < p->rx_slots) break;
      }
    }
  }
  napi_close_handle_scope(p->env, scope);
}

static void update_poll(port_t *p) {
  if (p->closing) return;
  if (p->events == 0) uv_poll_stop(&p->poll);
  else uv_poll_start(&p->poll, p->events, on_poll);
}

/* ---------- exported calls ---------- */

static void release(port_t *p) {
  if (--p->owners == 0) free(p);
}

static void on_closed(uv_handle_t *handle) {
  release(handle->data);
}

/* Stops watching, closes the socket and drops the JS references; the handle closes asynchronously. */
static void shut(napi_env env, port_t *p) {
  p->closing = 1;
  uv_poll_stop(&p->poll);
  close(p->fd);
  if (p->rx_arena_ref) napi_delete_reference(env, p->rx_arena_ref);
  if (p->rx_meta_ref) napi_delete_reference(env, p->rx_meta_ref);
  if (p->rx_addrs_ref) napi_delete_reference(env, p->rx_addrs_ref);
  napi_delete_reference(env, p->on_event);
  napi_async_destroy(env, p->async_context);
  p->rx_arena = NULL;
  uv_close((uv_handle_t *)&p->poll, on_closed);
}

static void finalize_port(napi_env env, void *data, void *hint) {
  (void)hint;
  port_t *p = data;
  if (!p->closing) shut(env, p);
  release(p);
}

/* open(family 4|6, address, port, ipv6Only, recvBufferSize, sendBufferSize, onEvent) -> port */
static napi_value js_open(napi_env env, napi_callback_info info) {
  CALL_ARGS(7);
  int32_t family_number, port_number, rcvbuf, sndbuf;
  bool v6only;
  char host[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
  napi_get_value_int32(env, argv[0], &family_number);
  if (get_string(env, argv[1], host, sizeof host) < 0) return throw_errno(env, "bind", EINVAL);
  napi_get_value_int32(env, argv[2], &port_number);
  napi_get_value_bool(env, argv[3], &v6only);
  napi_get_value_int32(env, argv[4], &rcvbuf);
  napi_get_value_int32(env, argv[5], &sndbuf);
  int family = family_number == 6 ? AF_INET6 : AF_INET;

  struct sockaddr_storage addr;
  socklen_t addr_len;
  int err = parse_address(host, port_number, family, &addr, &addr_len);
  if (err) return throw_errno(env, "bind", err);
  int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket", errno);
  int one = 1, off = 0;
  if (family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, v6only ? &one : &off, sizeof one);
  if (rcvbuf > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  if (sndbuf > 0) setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  if (bind(fd, (struct sockaddr *)&addr, addr_len) != 0) {
    err = errno;
    close(fd);
    return throw_errno(env, "bind", err);
  }
  port_t *p = calloc(1, sizeof *p);
  p->fd = fd;
  p->family = family;
  p->env = env;
  p->referenced = 1;
  p->owners = 2;
  p->gro = setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof one) == 0;
  uv_loop_t *loop;
  napi_get_uv_event_loop(env, &loop);
  uv_poll_init(loop, &p->poll, fd);
  p->poll.data = p;
  napi_create_reference(env, argv[6], 1, &p->on_event);
  napi_value resource_name;
  napi_create_string_utf8(env, "SockitNativeUdp", NAPI_AUTO_LENGTH, &resource_name);
  napi_async_init(env, NULL, resource_name, &p->async_context);
  napi_value external;
  napi_create_external(env, p, finalize_port, NULL, &external);
  return external;
}

/* connect(port, address, remotePort): a client's socket talks to one peer. */
static napi_value js_connect(napi_env env, napi_callback_info info) {
  PORT_ARGS(3);
  char host[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
  int32_t port_number;
  if (get_string(env, argv[1], host, sizeof host) < 0) return throw_errno(env, "connect", EINVAL);
  napi_get_value_int32(env, argv[2], &port_number);
  struct sockaddr_storage addr;
  socklen_t addr_len;
  int err = parse_address(host, port_number, p->family, &addr, &addr_len);
  if (err) return throw_errno(env, "connect", err);
  if (connect(p->fd, (struct sockaddr *)&addr, addr_len) != 0) return throw_errno(env, "connect", errno);
  return NULL;
}

/* address(port) -> [address, port, family 4|6, gro 0|1] */
static napi_value js_address(napi_env env, napi_callback_info info) {
  PORT_ARGS(1);
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (getsockname(p->fd, (struct sockaddr *)&ss, &len) != 0) return throw_errno(env, "getsockname", errno);
  char text[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
  int port = 0;
  format_address(&ss, text, sizeof text, &port);
  napi_value out, s;
  napi_create_array_with_length(env, 4, &out);
  napi_create_string_latin1(env, text, NAPI_AUTO_LENGTH, &s);
  napi_set_element(env, out, 0, s);
  napi_set_element(env, out, 1, int_value(env, port));
  napi_set_element(env, out, 2, int_value(env, ss.ss_family == AF_INET6 ? 6 : 4));
  napi_set_element(env, out, 3, int_value(env, p->gro));
  return out;
}

/*
 * attachReceive(port, arena Uint8Array, slotBytes, meta Int32Array, addrs Array): receive into
 * `slots = arena.length / slotBytes` slots; per filled slot i, meta[4i..4i+3] = length, GRO segment
 * size (0: one datagram), source port, 1 if the source differs from the previous datagram's (then
 * addrs[i] holds its address text). Starts watching for readability.
 */
static napi_value js_attach_receive(napi_env env, napi_callback_info info) {
  PORT_ARGS(5);
  void *arena, *meta;
  size_t arena_len, meta_len;
  napi_typedarray_type type;
  napi_value ab;
  size_t offset;
  int32_t slot_bytes;
  napi_get_typedarray_info(env, argv[1], &type, &arena_len, &arena, &ab, &offset);
  napi_get_value_int32(env, argv[2], &slot_bytes);
  napi_get_typedarray_info(env, argv[3], &type, &meta_len, &meta, &ab, &offset);
  int slots = slot_bytes > 0 ? (int)(arena_len / (size_t)slot_bytes) : 0;
  if (slots > MAX_SLOTS) slots = MAX_SLOTS;
  if (slots < 1 || meta_len < (size_t)slots * META_PER_SLOT) {
    napi_throw_range_error(env, NULL, "receive arena or meta table too small");
    return NULL;
  }
  napi_create_reference(env, argv[1], 1, &p->rx_arena_ref);
  napi_create_reference(env, argv[3], 1, &p->rx_meta_ref);
  napi_create_reference(env, argv[4], 1, &p->rx_addrs_ref);
  p->rx_arena = arena;
  p->rx_slot_bytes = (size_t)slot_bytes;
  p->rx_slots = slots;
  p->rx_meta = meta;
  p->events |= UV_READABLE;
  update_poll(p);
  return int_value(env, slots);
}

/*
 * send(port, arena Uint8Array, meta Int32Array, count, remotePort, remoteAddress | null) -> sent | -errno
 * Message k is arena[meta[3k] .. meta[3k] + meta[3k+1]); when meta[3k+2] (a segment size) is below
 * its length, the kernel cuts it into datagrams of that size (UDP_SEGMENT). Returns how many
 * messages the kernel took (fewer than count when its buffer filled: watch for WRITABLE, then send
 * the rest), or -errno (-EAGAIN when it took none).
 */
static napi_value js_send(napi_env env, napi_callback_info info) {
  PORT_ARGS(6);
  uint8_t *arena;
  int32_t *meta;
  size_t arena_len, meta_len, offset;
  napi_typedarray_type type;
  napi_value ab;
  napi_get_typedarray_info(env, argv[1], &type, &arena_len, (void **)&arena, &ab, &offset);
  napi_get_typedarray_info(env, argv[2], &type, &meta_len, (void **)&meta, &ab, &offset);
  int32_t count, remote_port;
  napi_get_value_int32(env, argv[3], &count);
  napi_get_value_int32(env, argv[4], &remote_port);
  if (count < 0 || count > MAX_SEND || (size_t)count * 3 > meta_len) {
    napi_throw_range_error(env, NULL, "bad send count");
    return NULL;
  }
  struct sockaddr_storage addr;
  socklen_t addr_len = 0;
  napi_valuetype vt;
  napi_typeof(env, argv[5], &vt);
  if (vt == napi_string) {
    char host[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
    if (get_string(env, argv[5], host, sizeof host) < 0) return int_value(env, -EINVAL);
    int err = parse_address(host, remote_port, p->family, &addr, &addr_len);
    if (err) return int_value(env, -err);
  }
  struct mmsghdr msgs[MAX_SEND];
  struct iovec iovs[MAX_SEND];
  union {
    char buf[CMSG_SPACE(sizeof(uint16_t))];
    struct cmsghdr align;
  } control[MAX_SEND];
  for (int k = 0; k < count; k++) {
    int32_t off = meta[3 * k], len = meta[3 * k + 1], seg = meta[3 * k + 2];
    if (off < 0 || len < 0 || (size_t)off + (size_t)len > arena_len) {
      napi_throw_range_error(env, NULL, "send message outside the arena");
      return NULL;
    }
    iovs[k].iov_base = arena + off;
    iovs[k].iov_len = (size_t)len;
    memset(&msgs[k].msg_hdr, 0, sizeof msgs[k].msg_hdr);
    msgs[k].msg_hdr.msg_iov = &iovs[k];
    msgs[k].msg_hdr.msg_iovlen = 1;
    if (addr_len > 0) {
      msgs[k].msg_hdr.msg_name = &addr;
      msgs[k].msg_hdr.msg_namelen = addr_len;
    }
    if (seg > 0 && seg < len) {
      memset(&control[k], 0, sizeof control[k]);
      msgs[k].msg_hdr.msg_control = control[k].buf;
      msgs[k].msg_hdr.msg_controllen = sizeof control[k].buf;
      struct cmsghdr *c = CMSG_FIRSTHDR(&msgs[k].msg_hdr);
      c->cmsg_level = SOL_UDP;
      c->cmsg_type = UDP_SEGMENT;
      c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
      uint16_t s = (uint16_t)seg;
      memcpy(CMSG_DATA(c), &s, sizeof s);
    }
  }
  int n;
  do {
    n = sendmmsg(p->fd, msgs, (unsigned)count, MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return int_value(env, errno == EWOULDBLOCK ? -EAGAIN : -errno);
  return int_value(env, n);
}

/* watchWritable(port): call back WRITABLE once the socket can take more. */
static napi_value js_watch_writable(napi_env env, napi_callback_info info) {
  PORT_ARGS(1);
  p->events |= UV_WRITABLE;
  update_poll(p);
  return NULL;
}

/* setRef(port, bool): whether the port keeps the event loop alive. */
static napi_value js_set_ref(napi_env env, napi_callback_info info) {
  PORT_ARGS(2);
  bool ref;
  napi_get_value_bool(env, argv[1], &ref);
  if (ref) uv_ref((uv_handle_t *)&p->poll);
  else uv_unref((uv_handle_t *)&p->poll);
  p->referenced = ref;
  return NULL;
}

/* close(port): stops watching and closes the socket; later calls throw. */
static napi_value js_close(napi_env env, napi_callback_info info) {
  CALL_ARGS(1);
  void *data = NULL;
  if (napi_get_value_external(env, argv[0], &data) != napi_ok || data == NULL) return NULL;
  port_t *p = data;
  if (!p->closing) shut(env, p);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      EXPORT_FN("open", js_open),
      EXPORT_FN("connect", js_connect),
      EXPORT_FN("address", js_address),
      EXPORT_FN("attachReceive", js_attach_receive),
      EXPORT_FN("send", js_send),
      EXPORT_FN("watchWritable", js_watch_writable),
      EXPORT_FN("setRef", js_set_ref),
      EXPORT_FN("close", js_close),
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
