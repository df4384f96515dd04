/*
 * sd_notify for dsrlb: sends one datagram to the unix socket systemd names in $NOTIFY_SOCKET.
 * Node has no AF_UNIX datagram sockets, and a helper program would send from another PID than the
 * service's main one (see docs/design/service.md), so this is a Node-API function sending from
 * the calling process itself, as libsystemd's sd_notify() does (no libsystemd dependency).
 *
 *   send(socketPath: string, message: string): number   bytes sent; throws with the errno text
 *
 * A path starting with '@' is an abstract socket (the '@' becomes a NUL byte).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <node_api.h>

static napi_value throw_msg(napi_env env, const char *what, int err) {
  char buf[256];
  snprintf(buf, sizeof buf, "%s: %s", what, err ? strerror(err) : "invalid argument");
  napi_throw_error(env, err == ENOENT ? "ENOENT" : err == ECONNREFUSED ? "ECONNREFUSED" : "E_SD_NOTIFY", buf);
  return NULL;
}

static napi_value do_send(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2) return throw_msg(env, "send(path, message)", 0);

  struct sockaddr_un sa;
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  size_t plen = 0;
  if (napi_get_value_string_utf8(env, argv[0], sa.sun_path, sizeof sa.sun_path, &plen) != napi_ok || plen == 0 ||
      plen >= sizeof sa.sun_path - 1) {
    return throw_msg(env, "NOTIFY_SOCKET path (empty or too long)", 0);
  }
  if (sa.sun_path[0] == '@') sa.sun_path[0] = '\0';
  socklen_t salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen);

  size_t mlen = 0;
  if (napi_get_value_string_utf8(env, argv[1], NULL, 0, &mlen) != napi_ok) return throw_msg(env, "message is not a string", 0);
  char msg[4096];
  if (mlen >= sizeof msg) return throw_msg(env, "message longer than 4095 bytes", 0);
  napi_get_value_string_utf8(env, argv[1], msg, sizeof msg, &mlen);

  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_msg(env, "socket(AF_UNIX, SOCK_DGRAM)", errno);
  ssize_t n = sendto(fd, msg, mlen, MSG_NOSIGNAL, (struct sockaddr *)&sa, salen);
  int err = errno;
  close(fd);
  if (n < 0) return throw_msg(env, "sendto NOTIFY_SOCKET", err);
  napi_value out;
  napi_create_int64(env, (int64_t)n, &out);
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "send", NAPI_AUTO_LENGTH, do_send, NULL, &fn);
  napi_set_named_property(env, exports, "send", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
