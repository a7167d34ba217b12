/*
 * What sockit's native helpers share: errors shaped like Node's own system errors (message
 * "<syscall>: <strerror>", code the errno name such as EAGAIN or EPIPE, errno negative, syscall),
 * the arguments of a call, and the entries of the exports table.
 */
#ifndef SOCKIT_NAPI_HELPERS_H
#define SOCKIT_NAPI_HELPERS_H

#include <node_api.h>
#include <uv.h>

#include <stdio.h>
#include <string.h>

/* A Node-style system error for errno `err` (positive) from `syscall`. */
static inline napi_value errno_error(napi_env env, const char *syscall, int err) {
  char message[160];
  snprintf(message, sizeof message, "%s: %s", syscall, strerror(err));
  napi_value msg, code, error;
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &msg);
  napi_create_string_utf8(env, uv_err_name(-err), NAPI_AUTO_LENGTH, &code);
  napi_create_error(env, code, msg, &error);
  napi_value errno_value, syscall_value;
  napi_create_int32(env, -err, &errno_value);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &syscall_value);
  napi_set_named_property(env, error, "errno", errno_value);
  napi_set_named_property(env, error, "syscall", syscall_value);
  return error;
}

/* Throws errno_error(...) and returns NULL, for `return throw_errno(...)`. */
static inline napi_value throw_errno(napi_env env, const char *syscall, int err) {
  napi_throw(env, errno_error(env, syscall, err));
  return NULL;
}

/* The first `n` arguments of a call, as `argv` (missing ones are undefined). */
#define CALL_ARGS(n)     \
  size_t argc = (n);     \
  napi_value argv[(n)];  \
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL)

/* One exported function. */
#define EXPORT_FN(name, fn) {(name), NULL, (fn), NULL, NULL, NULL, napi_default, NULL}

#endif
