/*
 * The kernel's view of who is on the other end of a connected Unix socket. Node has no API for it,
 * and the Workload API must never take a caller's identity from anything the caller sends.
 *
 *   getPeerCred(fd)    -> { pid, uid, gid }      getsockopt(SO_PEERCRED): credentials at connect()
 *   getPeerPidfd(fd)   -> number | null           getsockopt(SO_PEERPIDFD) (Linux >= 6.5): a pidfd for
 *                                                  the very process that connected, no PID-reuse window
 *   pidfdOpen(pid)     -> number                  pidfd_open(2), for kernels without SO_PEERPIDFD
 *   pidfdIsAlive(pfd)  -> boolean                 pidfd_send_signal(pfd, 0): false once the process died
 *
 * Errors are thrown as JS Errors whose `code` is the errno name (EBADF, ENOTSOCK, ...). The caller
 * closes the pidfds it gets (fs.closeSync).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>
#include <node_api.h>

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[160];
  const char *name;
  switch (err) {
    case EBADF: name = "EBADF"; break;
    case ENOTSOCK: name = "ENOTSOCK"; break;
    case ENOTCONN: name = "ENOTCONN"; break;
    case EINVAL: name = "EINVAL"; break;
    case ESRCH: name = "ESRCH"; break;
    case EPERM: name = "EPERM"; break;
    case EMFILE: name = "EMFILE"; break;
    case ENFILE: name = "ENFILE"; break;
    case ENOPROTOOPT: name = "ENOPROTOOPT"; break;
    default: name = "EUNKNOWN"; break;
  }
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_throw_error(env, name, msg);
  return NULL;
}

/* The one int32 argument every function takes; throws a TypeError and returns -1 if it is not one. */
static int int_arg(napi_env env, napi_callback_info info, int32_t *out) {
  size_t argc = 1;
  napi_value argv[1];
  napi_valuetype type;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return -1;
  if (argc < 1 || napi_typeof(env, argv[0], &type) != napi_ok || type != napi_number ||
      napi_get_value_int32(env, argv[0], out) != napi_ok || *out < 0) {
    napi_throw_type_error(env, "EINVAL", "expected a non-negative integer argument");
    return -1;
  }
  return 0;
}

static napi_value set_int(napi_env env, napi_value obj, const char *name, int64_t value) {
  napi_value v;
  napi_create_int64(env, value, &v);
  napi_set_named_property(env, obj, name, v);
  return obj;
}

static napi_value get_peer_cred(napi_env env, napi_callback_info info) {
  int32_t fd;
  struct ucred cred;
  socklen_t len = sizeof cred;
  napi_value result;
  if (int_arg(env, info, &fd) != 0) return NULL;
  memset(&cred, 0, sizeof cred);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return throw_errno(env, "getsockopt(SO_PEERCRED)", errno);
  if (len != sizeof cred) return throw_errno(env, "getsockopt(SO_PEERCRED)", EINVAL);
  napi_create_object(env, &result);
  set_int(env, result, "pid", cred.pid);
  set_int(env, result, "uid", cred.uid);
  set_int(env, result, "gid", cred.gid);
  return result;
}

static napi_value get_peer_pidfd(napi_env env, napi_callback_info info) {
  int32_t fd;
  int pidfd = -1;
  socklen_t len = sizeof pidfd;
  napi_value result;
  if (int_arg(env, info, &fd) != 0) return NULL;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) != 0) {
    /* An older kernel (ENOPROTOOPT), or a peer from another pid namespace / already gone (ESRCH,
       ENODATA): the caller falls back to pidfd_open and the start-time check. */
    if (errno == ENOPROTOOPT || errno == ESRCH || errno == ENODATA) {
      napi_get_null(env, &result);
      return result;
    }
    return throw_errno(env, "getsockopt(SO_PEERPIDFD)", errno);
  }
  napi_create_int32(env, pidfd, &result);
  return result;
}

static napi_value pidfd_open_js(napi_env env, napi_callback_info info) {
  int32_t pid;
  long pidfd;
  napi_value result;
  if (int_arg(env, info, &pid) != 0) return NULL;
  pidfd = syscall(SYS_pidfd_open, (pid_t)pid, 0);
  if (pidfd < 0) return throw_errno(env, "pidfd_open", errno);
  napi_create_int32(env, (int32_t)pidfd, &result);
  return result;
}

static napi_value pidfd_is_alive(napi_env env, napi_callback_info info) {
  int32_t pidfd;
  napi_value result;
  if (int_arg(env, info, &pidfd) != 0) return NULL;
  if (syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) == 0) {
    napi_get_boolean(env, 1, &result);
  } else if (errno == ESRCH) {
    napi_get_boolean(env, 0, &result);
  } else {
    /* EPERM means alive but not ours to signal: signal 0 still proves existence. */
    if (errno == EPERM) {
      napi_get_boolean(env, 1, &result);
      return result;
    }
    return throw_errno(env, "pidfd_send_signal", errno);
  }
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"getPeerCred", NULL, get_peer_cred, NULL, NULL, NULL, napi_enumerable, NULL},
    {"getPeerPidfd", NULL, get_peer_pidfd, NULL, NULL, NULL, napi_enumerable, NULL},
    {"pidfdOpen", NULL, pidfd_open_js, NULL, NULL, NULL, napi_enumerable, NULL},
    {"pidfdIsAlive", NULL, pidfd_is_alive, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
