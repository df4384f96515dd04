// dsrlb packet ring: an AF_PACKET socket with a memory-mapped RX ring (TPACKET_V2 or V3) and TX ring,
// exposed to JavaScript as external ArrayBuffers over the mapping. The addon does only what needs a
// system call: open/bind/filter/fan-out, the poll registration (one JS callback per readiness),
// send() of the TX ring (flush), PACKET_STATISTICS, and close. Walking the slots, handing frames to
// the handler, releasing slots and writing TX slots is done in JavaScript (src/io/ring-*.ts).
//
// Never crash the process: every method checks `closed`; errors are thrown as JS Errors carrying
// `code` (errno name or EFILTER/EOPTIONS), `errno` and `step` (which call failed), which the
// adapter turns into DsrlbErrors with the fix. The mapping is unmapped by the ArrayBuffers'
// finalizers, never under a live view: close() detaches them first (views then read as empty).
#include <napi.h>
#include <uv.h>

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <pcap/pcap.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <string>

namespace {

const char* ErrnoName(int e) {
  switch (e) {
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case EINVAL: return "EINVAL";
    case ENOMEM: return "ENOMEM";
    case ENODEV: return "ENODEV";
    case ENXIO: return "ENXIO";
    case ENETDOWN: return "ENETDOWN";
    case EBUSY: return "EBUSY";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
    case EALREADY: return "EALREADY";
    case EMSGSIZE: return "EMSGSIZE";
    case ENOBUFS: return "ENOBUFS";
    case EAGAIN: return "EAGAIN";
    case EBADF: return "EBADF";
    case ENOPROTOOPT: return "ENOPROTOOPT";
    default: return "EUNKNOWN";
  }
}

Napi::Error SysError(Napi::Env env, const char* step, int e, const std::string& extra = "") {
  std::string msg = std::string(step) + ": " + strerror(e) + (extra.empty() ? "" : " (" + extra + ")");
  Napi::Error err = Napi::Error::New(env, msg);
  err.Set("code", Napi::String::New(env, ErrnoName(e)));
  err.Set("errno", Napi::Number::New(env, e));
  err.Set("step", Napi::String::New(env, step));
  return err;
}

Napi::Error CodeError(Napi::Env env, const char* code, const char* step, const std::string& msg) {
  Napi::Error err = Napi::Error::New(env, std::string(step) + ": " + msg);
  err.Set("code", Napi::String::New(env, code));
  err.Set("errno", Napi::Number::New(env, 0));
  err.Set("step", Napi::String::New(env, step));
  return err;
}

struct Mapping {
  void* addr;
  size_t len;
};

void UnmapFinalizer(Napi::Env, void* data, Mapping* m) {
  (void)data;
  if (m != nullptr) {
    munmap(m->addr, m->len);
    delete m;
  }
}

uint32_t U32(const Napi::Object& o, const char* k, uint32_t def) {
  Napi::Value v = o.Get(k);
  return v.IsNumber() ? v.As<Napi::Number>().Uint32Value() : def;
}
int32_t I32(const Napi::Object& o, const char* k, int32_t def) {
  Napi::Value v = o.Get(k);
  return v.IsNumber() ? v.As<Napi::Number>().Int32Value() : def;
}

class Ring : public Napi::ObjectWrap<Ring> {
 public:
  static Napi::Object Init(Napi::Env env, Napi::Object exports) {
    Napi::Function f = DefineClass(env, "Ring",
                                   {
                                       InstanceMethod("start", &Ring::Start),
                                       InstanceMethod("stop", &Ring::Stop),
                                       InstanceMethod("flush", &Ring::Flush),
                                       InstanceMethod("stats", &Ring::Stats),
                                       InstanceMethod("check", &Ring::Check),
                                       InstanceMethod("close", &Ring::Close),
                                   });
    exports.Set("Ring", f);
    return exports;
  }

  Ring(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Ring>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject()) throw CodeError(env, "EOPTIONS", "open", "expected an options object");
    Napi::Object o = info[0].As<Napi::Object>();
    std::string iface = o.Get("iface").IsString() ? o.Get("iface").As<Napi::String>().Utf8Value() : "";
    std::string filter = o.Get("filter").IsString() ? o.Get("filter").As<Napi::String>().Utf8Value() : "";
    version_ = U32(o, "version", 2);
    uint32_t rxBlockSize = U32(o, "rxBlockSize", 0), rxBlockNr = U32(o, "rxBlockNr", 0), rxFrameSize = U32(o, "rxFrameSize", 0);
    uint32_t txBlockSize = U32(o, "txBlockSize", 0), txBlockNr = U32(o, "txBlockNr", 0), txFrameSize = U32(o, "txFrameSize", 0);
    uint32_t blockTimeoutMs = U32(o, "blockTimeoutMs", 1);
    bool qdiscBypass = o.Get("qdiscBypass").ToBoolean();
    int32_t fanoutGroup = I32(o, "fanoutGroup", -1);
    if (iface.empty() || iface.size() >= IFNAMSIZ) throw CodeError(env, "EOPTIONS", "open", "bad interface name");
    if (version_ != 2 && version_ != 3) throw CodeError(env, "EOPTIONS", "open", "version must be 2 or 3");
    if (rxBlockSize == 0 || rxBlockNr == 0 || rxFrameSize == 0 || txBlockSize == 0 || txBlockNr == 0 || txFrameSize == 0)
      throw CodeError(env, "EOPTIONS", "open", "ring geometry missing");

    ifindex_ = if_nametoindex(iface.c_str());
    if (ifindex_ == 0) throw SysError(env, "if_nametoindex", errno == 0 ? ENODEV : errno, iface);

    // Protocol 0: the socket receives nothing until bind() names ETH_P_ALL, after the filter and the
    // ring are in place, so no unfiltered frame ever reaches the ring.
    fd_ = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd_ < 0) throw SysError(env, "socket", errno);
    try {
      int v = version_ == 3 ? TPACKET_V3 : TPACKET_V2;
      Opt(env, fd_, PACKET_VERSION, &v, sizeof v, "PACKET_VERSION");
      int one = 1;
      // Frames this host sends (ours, the kernel's, other sockets') never come back in the ring.
      Opt(env, fd_, PACKET_IGNORE_OUTGOING, &one, sizeof one, "PACKET_IGNORE_OUTGOING");
      if (!filter.empty()) AttachFilter(env, fd_, filter);
      Opt(env, fd_, PACKET_LOSS, &one, sizeof one, "PACKET_LOSS");

      if (version_ == 3) {
        struct tpacket_req3 r3;
        memset(&r3, 0, sizeof r3);
        r3.tp_block_size = rxBlockSize;
        r3.tp_block_nr = rxBlockNr;
        r3.tp_frame_size = rxFrameSize;
        r3.tp_frame_nr = (rxBlockSize / rxFrameSize) * rxBlockNr;
        r3.tp_retire_blk_tov = blockTimeoutMs;
        Opt(env, fd_, PACKET_RX_RING, &r3, sizeof r3, "PACKET_RX_RING");
        rxLen_ = (size_t)rxBlockSize * rxBlockNr;
        // The kernel has no TX ring for V3: a second socket (V2, protocol 0: it receives nothing)
        // carries it. Its frames are outgoing, so the RX socket ignores them.
        txFd_ = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (txFd_ < 0) throw SysError(env, "socket", errno);
        int v2 = TPACKET_V2;
        Opt(env, txFd_, PACKET_VERSION, &v2, sizeof v2, "PACKET_VERSION");
      } else {
        struct tpacket_req r;
        memset(&r, 0, sizeof r);
        r.tp_block_size = rxBlockSize;
        r.tp_block_nr = rxBlockNr;
        r.tp_frame_size = rxFrameSize;
        r.tp_frame_nr = (rxBlockSize / rxFrameSize) * rxBlockNr;
        Opt(env, fd_, PACKET_RX_RING, &r, sizeof r, "PACKET_RX_RING");
        rxLen_ = (size_t)rxBlockSize * rxBlockNr;
        txFd_ = fd_;
      }
      // A malformed TX frame is skipped (status back to AVAILABLE) instead of stalling the ring.
      // Must precede the ring setup: the kernel refuses it (EBUSY) once a ring exists.
      if (txFd_ != fd_) Opt(env, txFd_, PACKET_LOSS, &one, sizeof one, "PACKET_LOSS");
      struct tpacket_req t;
      memset(&t, 0, sizeof t);
      t.tp_block_size = txBlockSize;
      t.tp_block_nr = txBlockNr;
      t.tp_frame_size = txFrameSize;
      t.tp_frame_nr = (txBlockSize / txFrameSize) * txBlockNr;
      Opt(env, txFd_, PACKET_TX_RING, &t, sizeof t, "PACKET_TX_RING");
      txLen_ = (size_t)txBlockSize * txBlockNr;
      if (qdiscBypass) Opt(env, txFd_, PACKET_QDISC_BYPASS, &one, sizeof one, "PACKET_QDISC_BYPASS");
      // Every TX frame in flight holds its skb's truesize against the send buffer: a small buffer
      // makes send() stop early. Room for the whole TX ring (root may exceed wmem_max), best effort.
      int sndbuf = (int)std::min<size_t>(txLen_ * 2, 64u << 20);
      if (setsockopt(txFd_, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof sndbuf) < 0)
        (void)setsockopt(txFd_, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);

      uint8_t* rxMap;
      uint8_t* txMap;
      if (txFd_ == fd_) {
        void* m = mmap(nullptr, rxLen_ + txLen_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_LOCKED | MAP_POPULATE, fd_, 0);
        if (m == MAP_FAILED) m = mmap(nullptr, rxLen_ + txLen_, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
        if (m == MAP_FAILED) throw SysError(env, "mmap", errno);
        rxMap = (uint8_t*)m;
        txMap = rxMap + rxLen_;
      } else {
        void* m = mmap(nullptr, rxLen_, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
        if (m == MAP_FAILED) throw SysError(env, "mmap", errno);
        rxMap = (uint8_t*)m;
        void* mt = mmap(nullptr, txLen_, PROT_READ | PROT_WRITE, MAP_SHARED, txFd_, 0);
        if (mt == MAP_FAILED) {
          int e = errno;
          munmap(m, rxLen_);
          throw SysError(env, "mmap", e);
        }
        txMap = (uint8_t*)mt;
      }
      // From here the ArrayBuffers own the mapping (each unmaps its part when it is freed).
      Napi::ArrayBuffer rx = Napi::ArrayBuffer::New(env, rxMap, rxLen_, UnmapFinalizer, new Mapping{rxMap, rxLen_});
      Napi::ArrayBuffer tx = Napi::ArrayBuffer::New(env, txMap, txLen_, UnmapFinalizer, new Mapping{txMap, txLen_});
      rxRef_ = Napi::Persistent(rx);
      txRef_ = Napi::Persistent(tx);
      info.This().As<Napi::Object>().Set("rx", rx);
      info.This().As<Napi::Object>().Set("tx", tx);
      Napi::ArrayBuffer ctl = Napi::ArrayBuffer::New(env, 4 * sizeof(double));
      ctl_ = (double*)ctl.Data();
      ctlRef_ = Napi::Persistent(ctl);
      info.This().As<Napi::Object>().Set("ctl", ctl);

      struct sockaddr_ll sll;
      memset(&sll, 0, sizeof sll);
      sll.sll_family = AF_PACKET;
      sll.sll_ifindex = (int)ifindex_;
      sll.sll_protocol = htons(ETH_P_ALL);
      if (bind(fd_, (struct sockaddr*)&sll, sizeof sll) < 0) throw SysError(env, "bind", errno, iface);
      if (txFd_ != fd_) {
        sll.sll_protocol = 0;  // sends only
        if (bind(txFd_, (struct sockaddr*)&sll, sizeof sll) < 0) throw SysError(env, "bind", errno, iface);
      }
      if (fanoutGroup >= 0) {
        // Joined after bind (the kernel refuses a fan-out on an unbound socket) and after the ring.
        int arg = (fanoutGroup & 0xffff) | ((PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_DEFRAG) << 16);
        Opt(env, fd_, PACKET_FANOUT, &arg, sizeof arg, "PACKET_FANOUT");
      }
    } catch (...) {
      Release(false);
      throw;
    }
  }

  ~Ring() { Release(false); }

 private:
  static void Opt(Napi::Env env, int fd, int name, const void* v, socklen_t len, const char* step) {
    if (setsockopt(fd, SOL_PACKET, name, v, len) < 0) throw SysError(env, step, errno);
  }

  static void AttachFilter(Napi::Env env, int fd, const std::string& filter) {
    pcap_t* p = pcap_open_dead(DLT_EN10MB, 262144);
    if (p == nullptr) throw CodeError(env, "EFILTER", "pcap_compile", "pcap_open_dead failed");
    struct bpf_program prog;
    if (pcap_compile(p, &prog, filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) < 0) {
      std::string why = pcap_geterr(p);
      pcap_close(p);
      throw CodeError(env, "EFILTER", "pcap_compile", why + " (filter: " + filter + ")");
    }
    struct sock_fprog fp;
    fp.len = (unsigned short)prog.bf_len;
    fp.filter = (struct sock_filter*)prog.bf_insns;
    int rc = setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof fp);
    int e = errno;
    pcap_freecode(&prog);
    pcap_close(p);
    if (rc < 0) throw SysError(env, "SO_ATTACH_FILTER", e);
  }

  static void OnPoll(uv_poll_t* h, int status, int events) {
    (void)events;
    Ring* r = static_cast<Ring*>(h->data);
    if (r == nullptr || r->closed_ || r->cb_.IsEmpty()) return;
    Napi::Env env = r->cb_.Env();
    Napi::HandleScope scope(env);
    try {
      r->cb_.MakeCallback(env.Global(), {Napi::Number::New(env, status)}, *r->asyncCtx_);
    } catch (const Napi::Error& e) {
      // The JS side never throws out of its walk; if it still does, report it as uncaught.
      napi_fatal_exception(env, e.Value());
    }
  }

  static void OnPollClosed(uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); }

  Napi::Value Closed(Napi::Env env, const char* step) {
    throw CodeError(env, "ECLOSED", step, "the ring is closed");
  }

  // start(cb): one cb(status) per readiness of the socket (status < 0: a libuv error).
  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (closed_) return Closed(env, "start");
    if (info.Length() < 1 || !info[0].IsFunction()) throw CodeError(env, "EOPTIONS", "start", "expected a function");
    cb_ = Napi::Persistent(info[0].As<Napi::Function>());
    if (asyncCtx_ == nullptr) asyncCtx_ = new Napi::AsyncContext(env, "dsrlb.ring");
    if (poll_ == nullptr) {
      uv_loop_t* loop = nullptr;
      if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) throw CodeError(env, "EUV", "start", "no event loop");
      poll_ = new uv_poll_t;
      int rc = uv_poll_init_socket(loop, poll_, fd_);
      if (rc < 0) {
        delete poll_;
        poll_ = nullptr;
        throw CodeError(env, "EUV", "uv_poll_init", uv_strerror(rc));
      }
      poll_->data = this;
    }
    int rc = uv_poll_start(poll_, UV_READABLE, OnPoll);
    if (rc < 0) throw CodeError(env, "EUV", "uv_poll_start", uv_strerror(rc));
    return env.Undefined();
  }

  Napi::Value Stop(const Napi::CallbackInfo& info) {
    if (poll_ != nullptr) uv_poll_stop(poll_);
    return info.Env().Undefined();
  }

  // flush(): one send() for every TX slot marked SEND_REQUEST. Returns the bytes queued, or -errno.
  // ctl[0..1] = CLOCK_REALTIME (s, ns) read after the send: the residence clock of this batch.
  Napi::Value Flush(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (closed_) return Closed(env, "flush");
    ssize_t n = send(txFd_, nullptr, 0, MSG_DONTWAIT);
    int e = errno;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ctl_[0] = (double)ts.tv_sec;
    ctl_[1] = (double)ts.tv_nsec;
    return Napi::Number::New(env, n < 0 ? -(double)e : (double)n);
  }

  // stats(): [packets, drops, freezes] since the last call (the kernel resets them on read).
  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (closed_) return Closed(env, "stats");
    struct tpacket_stats_v3 st;
    memset(&st, 0, sizeof st);
    socklen_t len = version_ == 3 ? sizeof(struct tpacket_stats_v3) : sizeof(struct tpacket_stats);
    if (getsockopt(fd_, SOL_PACKET, PACKET_STATISTICS, &st, &len) < 0) throw SysError(env, "PACKET_STATISTICS", errno);
    Napi::Array a = Napi::Array::New(env, 3);
    a.Set(0u, Napi::Number::New(env, st.tp_packets));
    a.Set(1u, Napi::Number::New(env, st.tp_drops));
    a.Set(2u, Napi::Number::New(env, version_ == 3 ? st.tp_freeze_q_cnt : 0));
    return a;
  }

  // check(): 0 when healthy, else { errno, code, message, gone }: the socket's pending error (read
  // and so cleared: ENETDOWN when the interface went down or away), gone = the interface index no
  // longer exists (deleted, or moved to another namespace).
  Napi::Value Check(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (closed_) return Closed(env, "check");
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) < 0) err = errno;
    char name[IF_NAMESIZE];
    bool gone = if_indextoname(ifindex_, name) == nullptr;
    if (err == 0 && gone) err = ENODEV;
    if (err == 0) return Napi::Number::New(env, 0);
    Napi::Object o = Napi::Object::New(env);
    o.Set("errno", Napi::Number::New(env, err));
    o.Set("code", Napi::String::New(env, ErrnoName(err)));
    o.Set("message", Napi::String::New(env, strerror(err)));
    o.Set("gone", Napi::Boolean::New(env, gone));
    return o;
  }

  // close(): true the first time, false after (idempotent: never a crash).
  Napi::Value Close(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (closed_) return Napi::Boolean::New(env, false);
    Release(true);
    return Napi::Boolean::New(env, true);
  }

  void Release(bool detach) {
    closed_ = true;
    if (poll_ != nullptr) {
      uv_poll_stop(poll_);
      poll_->data = nullptr;
      uv_close(reinterpret_cast<uv_handle_t*>(poll_), OnPollClosed);
      poll_ = nullptr;
    }
    if (detach) {
      // Views over the mapping become empty; the finalizers then unmap it.
      if (!rxRef_.IsEmpty()) rxRef_.Value().Detach();
      if (!txRef_.IsEmpty()) txRef_.Value().Detach();
    }
    rxRef_.Reset();
    txRef_.Reset();
    ctlRef_.Reset();
    ctl_ = nullptr;
    cb_.Reset();
    if (txFd_ >= 0 && txFd_ != fd_) close(txFd_);
    if (fd_ >= 0) close(fd_);
    txFd_ = fd_ = -1;
    delete asyncCtx_;
    asyncCtx_ = nullptr;
  }

  int fd_ = -1;
  int txFd_ = -1;
  unsigned ifindex_ = 0;
  uint32_t version_ = 2;
  size_t rxLen_ = 0, txLen_ = 0;
  bool closed_ = false;
  uv_poll_t* poll_ = nullptr;
  double* ctl_ = nullptr;
  Napi::Reference<Napi::ArrayBuffer> rxRef_, txRef_, ctlRef_;
  Napi::FunctionReference cb_;
  Napi::AsyncContext* asyncCtx_ = nullptr;
};

Napi::Object InitAll(Napi::Env env, Napi::Object exports) { return Ring::Init(env, exports); }

}  // namespace

NODE_API_MODULE(dsrlb_ring, InitAll)
