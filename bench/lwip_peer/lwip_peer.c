/* ustack-lwip-peer: an lwIP host on an existing TAP device, the lwIP reference
 * of `ustack bench` (bench/README.md) and of tests/interop/test_23_lwip_peer.sh.
 *
 * Built on Debian's liblwip-dev (2.1.3, a shared library) as it is configured
 * there (/usr/include/lwip/lwipopts.h): NO_SYS 0 with core locking, TCP_MSS
 * 1460, TCP_WND and TCP_SND_BUF 65535 (window scale 1: the window never
 * exceeds 64 KB, that is fixed when the library is built), MEM_LIBC_MALLOC and
 * MEMP_MEM_MALLOC (pools come from malloc), LWIP_CHECKSUM_ON_COPY.
 *
 * Its own TAP netif, not the library's tapif: that one corrupts the heap on any
 * received frame over 592 bytes (../shared/TESTING.md). Each received frame is
 * read straight into a PBUF_RAM pbuf and handed to ethernet_input with the core
 * lock held, on this program's main thread (no message to the tcpip thread per
 * frame); lwIP's tcpip thread only runs its timers. The TCP side is the raw API
 * under the same lock.
 *
 *   --mode sink    listen on --port; read every connection to its end; print
 *                  "sink bytes=N seconds=S [sha256=HEX]" (seconds from accept to
 *                  the peer's FIN), then close. --count N: exit after N.
 *   --mode source  connect to --connect A.B.C.D:PORT; send --bytes N or for
 *                  --seconds S a fixed pseudo-random sequence (copied into lwIP,
 *                  as send() copies); shut the sending side; wait for the peer's
 *                  FIN; print "source bytes=N seconds=S [sha256=HEX]"; exit.
 *   --hash         the sha256 of what was read or sent (for tests: it costs
 *                  more CPU than lwIP itself, so the bench leaves it off).
 *
 * "ready" is printed once the interface is up (and the listener open). The
 * address answers ping (lwIP's ICMP). Exit status 0 when done, 1 on any error,
 * 2 on bad arguments; --timeout S (default 300) bounds the whole run. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lwip/etharp.h"
#include "lwip/init.h"
#include "lwip/ip4_addr.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "lwip/tcpip.h"
#include "netif/ethernet.h"
#if LWIP_IPV6
#include "lwip/ethip6.h"
#endif
#include "sha256.h"

/* Frames on a 1500-byte MTU are at most 1514 bytes (no FCS on a TAP); a read
 * that fills the whole buffer may have been cut short and is dropped. */
enum { kFrameBuf = 1536, kMaxFrame = 1514, kReadBatch = 64 };
/* The source's data: pseudo-random bytes read at offset (sent mod kPeriod), a
 * prime, so that no segment boundary lines up with the repetition. */
enum { kPeriod = 65521, kChunk = 65535 };

static struct {
  const char* tap;
  ip4_addr_t addr, mask;
  bool source;
  uint16_t port;
  ip4_addr_t dst;
  double seconds;
  uint64_t bytes;
  bool hash;
  long count;
  double timeout;
} opt;

static int tap_fd = -1;
static struct netif nif;
static volatile sig_atomic_t stop_signal;
static bool done;
static bool failed;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_signal(int sig) {
  (void)sig;
  stop_signal = 1;
}

/* --- The TAP netif ------------------------------------------------------- */

static err_t tap_linkoutput(struct netif* n, struct pbuf* p) {
  (void)n;
  static uint8_t frame[65536]; /* tot_len is 16 bits; a chained pbuf (rare: LWIP_NETIF_TX_SINGLE_PBUF) */
  const void* data = p->payload;
  if (p->next != NULL) {
    pbuf_copy_partial(p, frame, p->tot_len, 0);
    data = frame;
  }
  const ssize_t w = write(tap_fd, data, p->tot_len);
  return w == (ssize_t)p->tot_len ? ERR_OK : ERR_IF;
}

static err_t tap_netif_init(struct netif* n) {
  static const uint8_t mac[6] = {0x02, 0x6c, 0x77, 0x69, 0x70, 0x01}; /* local, "lwip" */
  n->name[0] = 't';
  n->name[1] = 'p';
  n->output = etharp_output;
#if LWIP_IPV6
  n->output_ip6 = ethip6_output;
#endif
  n->linkoutput = tap_linkoutput;
  n->mtu = 1500;
  n->hwaddr_len = 6;
  memcpy(n->hwaddr, mac, 6);
  n->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET | NETIF_FLAG_LINK_UP;
  return ERR_OK;
}

/* Opens an existing TAP: TUNSETIFF on a missing name would create a new,
 * unconfigured device (../shared/TESTING.md), so check it exists first. */
static int open_tap(const char* name) {
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  if (strlen(name) >= IFNAMSIZ) {
    fprintf(stderr, "ustack-lwip-peer: interface name too long: %s\n", name);
    return -1;
  }
  strcpy(ifr.ifr_name, name);
  const int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  const int exists = s >= 0 && ioctl(s, SIOCGIFINDEX, &ifr) == 0;
  if (s >= 0) close(s);
  if (!exists) {
    fprintf(stderr, "ustack-lwip-peer: no interface %s in this network namespace\n", name);
    return -1;
  }
  const int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    perror("ustack-lwip-peer: /dev/net/tun");
    return -1;
  }
  memset(&ifr, 0, sizeof ifr);
  strcpy(ifr.ifr_name, name);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    fprintf(stderr, "ustack-lwip-peer: TUNSETIFF %s: %s\n", name, strerror(errno));
    close(fd);
    return -1;
  }
  if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/* Reads the frames waiting on the TAP (at most kReadBatch) into PBUF_RAM pbufs
 * and hands them to lwIP. Called with the core lock held. */
static void read_frames(void) {
  static struct pbuf* spare;
  for (int i = 0; i < kReadBatch; i++) {
    if (spare == NULL) spare = pbuf_alloc(PBUF_RAW, kFrameBuf, PBUF_RAM);
    if (spare == NULL) return;
    const ssize_t n = read(tap_fd, spare->payload, kFrameBuf);
    if (n < 0) return; /* EAGAIN: nothing more now */
    if (n < 14 || n > kMaxFrame) continue;
    struct pbuf* p = spare;
    spare = NULL;
    pbuf_realloc(p, (u16_t)n);
    if (nif.input(p, &nif) != ERR_OK) pbuf_free(p);
  }
}

/* --- Sink ------------------------------------------------------------------ */

struct sink_conn {
  uint64_t bytes;
  double start;
  struct sha256 sha;
};

static long served;

static void sink_err(void* arg, err_t err) {
  fprintf(stderr, "ustack-lwip-peer: sink connection error %d\n", (int)err);
  free(arg);
  failed = true;
  done = true;
}

static err_t sink_recv(void* arg, struct tcp_pcb* pcb, struct pbuf* p, err_t err) {
  struct sink_conn* c = arg;
  (void)err;
  if (p == NULL) { /* the peer's FIN: all its data is in */
    const double secs = now_s() - c->start;
    char hex[65] = "";
    if (opt.hash) sha256_hex(&c->sha, hex);
    printf("sink bytes=%llu seconds=%.6f%s%s\n", (unsigned long long)c->bytes, secs, opt.hash ? " sha256=" : "",
           hex);
    tcp_arg(pcb, NULL);
    tcp_recv(pcb, NULL);
    tcp_err(pcb, NULL);
    free(c);
    if (opt.count > 0 && ++served >= opt.count) done = true;
    if (tcp_close(pcb) != ERR_OK) {
      tcp_abort(pcb);
      return ERR_ABRT;
    }
    return ERR_OK;
  }
  c->bytes += p->tot_len;
  if (opt.hash)
    for (struct pbuf* q = p; q != NULL; q = q->next) sha256_update(&c->sha, q->payload, q->len);
  tcp_recved(pcb, p->tot_len);
  pbuf_free(p);
  return ERR_OK;
}

static err_t sink_accept(void* arg, struct tcp_pcb* pcb, err_t err) {
  (void)arg;
  if (err != ERR_OK || pcb == NULL) return ERR_VAL;
  struct sink_conn* c = calloc(1, sizeof *c);
  if (c == NULL) {
    tcp_abort(pcb);
    return ERR_ABRT;
  }
  c->start = now_s();
  sha256_init(&c->sha);
  tcp_arg(pcb, c);
  tcp_recv(pcb, sink_recv);
  tcp_err(pcb, sink_err);
  return ERR_OK;
}

/* --- Source ---------------------------------------------------------------- */

static struct {
  struct tcp_pcb* pcb;
  uint8_t data[kPeriod + kChunk];
  uint64_t sent; /* accepted by tcp_write */
  double start, deadline;
  bool connected, shut;
  struct sha256 sha;
} src;

static void source_fill_data(void) {
  uint64_t x = 0x9e3779b97f4a7c15ull; /* xorshift64 */
  for (size_t i = 0; i < sizeof src.data; i++) {
    if (i < kPeriod) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      src.data[i] = (uint8_t)(x >> 32);
    } else {
      src.data[i] = src.data[i - kPeriod];
    }
  }
}

/* Writes while lwIP takes more, until the byte count or the deadline; then
 * shuts the sending side (FIN after the data). Called with the core lock held. */
static void source_pump(void) {
  if (src.pcb == NULL || !src.connected || src.shut) return;
  while (true) {
    const bool by_bytes = opt.bytes > 0;
    if ((by_bytes && src.sent >= opt.bytes) || (!by_bytes && now_s() >= src.deadline)) {
      src.shut = true;
      if (tcp_shutdown(src.pcb, 0, 1) != ERR_OK) {
        failed = done = true;
        return;
      }
      tcp_output(src.pcb);
      return;
    }
    uint32_t n = tcp_sndbuf(src.pcb);
    if (n > kChunk) n = kChunk;
    if (by_bytes && n > opt.bytes - src.sent) n = (uint32_t)(opt.bytes - src.sent);
    if (n == 0) break;
    const uint8_t* at = src.data + src.sent % kPeriod;
    if (tcp_write(src.pcb, at, (u16_t)n, TCP_WRITE_FLAG_COPY) != ERR_OK) break; /* ERR_MEM: queue full */
    if (opt.hash) sha256_update(&src.sha, at, n);
    src.sent += n;
  }
  tcp_output(src.pcb);
}

static err_t source_sent(void* arg, struct tcp_pcb* pcb, u16_t len) {
  (void)arg;
  (void)pcb;
  (void)len;
  source_pump();
  return ERR_OK;
}

static err_t source_recv(void* arg, struct tcp_pcb* pcb, struct pbuf* p, err_t err) {
  (void)arg;
  (void)err;
  if (p != NULL) { /* nothing is expected back: take it and drop it */
    tcp_recved(pcb, p->tot_len);
    pbuf_free(p);
    return ERR_OK;
  }
  /* The peer's FIN: it has read everything (it closes after our FIN). */
  const double secs = now_s() - src.start;
  char hex[65] = "";
  if (opt.hash) sha256_hex(&src.sha, hex);
  printf("source bytes=%llu seconds=%.6f%s%s\n", (unsigned long long)src.sent, secs, opt.hash ? " sha256=" : "",
         hex);
  if (!src.shut) {
    fprintf(stderr, "ustack-lwip-peer: the peer closed before the source was done\n");
    failed = true;
  }
  tcp_arg(pcb, NULL);
  tcp_recv(pcb, NULL);
  tcp_sent(pcb, NULL);
  tcp_err(pcb, NULL);
  src.pcb = NULL;
  done = true;
  if (tcp_close(pcb) != ERR_OK) {
    tcp_abort(pcb);
    return ERR_ABRT;
  }
  return ERR_OK;
}

static void source_err(void* arg, err_t err) {
  (void)arg;
  fprintf(stderr, "ustack-lwip-peer: source connection error %d (%s)\n", (int)err,
          src.connected ? "after connecting" : "connect failed");
  src.pcb = NULL;
  failed = done = true;
}

static err_t source_connected(void* arg, struct tcp_pcb* pcb, err_t err) {
  (void)arg;
  (void)pcb;
  if (err != ERR_OK) return err;
  src.connected = true;
  src.start = now_s();
  src.deadline = src.start + opt.seconds;
  source_pump();
  return ERR_OK;
}

/* --- Arguments and main loop ----------------------------------------------- */

static void usage(void) {
  fprintf(stderr,
          "usage: ustack-lwip-peer --tap NAME --addr A.B.C.D/LEN\n"
          "         --mode sink --port P [--hash] [--count N]\n"
          "       | --mode source --connect A.B.C.D:PORT (--bytes N | --seconds S) [--hash]\n"
          "       [--timeout S]\n");
}

static bool parse_cidr(const char* s, ip4_addr_t* addr, ip4_addr_t* mask) {
  char buf[32];
  const char* slash = strchr(s, '/');
  if (slash == NULL || (size_t)(slash - s) >= sizeof buf) return false;
  memcpy(buf, s, (size_t)(slash - s));
  buf[slash - s] = 0;
  char* end;
  const long len = strtol(slash + 1, &end, 10);
  if (*end != 0 || len < 1 || len > 32 || !ip4addr_aton(buf, addr)) return false;
  const uint32_t m = len == 32 ? 0xffffffffu : ~(0xffffffffu >> len);
  ip4_addr_set_u32(mask, lwip_htonl(m));
  return true;
}

static bool parse_endpoint(const char* s, ip4_addr_t* addr, uint16_t* port) {
  char buf[32];
  const char* colon = strrchr(s, ':');
  if (colon == NULL || (size_t)(colon - s) >= sizeof buf) return false;
  memcpy(buf, s, (size_t)(colon - s));
  buf[colon - s] = 0;
  char* end;
  const long p = strtol(colon + 1, &end, 10);
  if (*end != 0 || p < 1 || p > 65535 || !ip4addr_aton(buf, addr)) return false;
  *port = (uint16_t)p;
  return true;
}

static bool parse_args(int argc, char** argv) {
  static const struct option longopts[] = {
      {"tap", required_argument, 0, 't'},     {"addr", required_argument, 0, 'a'},
      {"mode", required_argument, 0, 'm'},    {"port", required_argument, 0, 'p'},
      {"connect", required_argument, 0, 'c'}, {"seconds", required_argument, 0, 's'},
      {"bytes", required_argument, 0, 'b'},   {"hash", no_argument, 0, 'h'},
      {"count", required_argument, 0, 'n'},   {"timeout", required_argument, 0, 'T'},
      {0, 0, 0, 0}};
  bool have_addr = false, have_mode = false, have_connect = false;
  opt.timeout = 300;
  int ch;
  while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
    switch (ch) {
      case 't': opt.tap = optarg; break;
      case 'a': have_addr = parse_cidr(optarg, &opt.addr, &opt.mask); break;
      case 'm':
        have_mode = strcmp(optarg, "sink") == 0 || strcmp(optarg, "source") == 0;
        opt.source = strcmp(optarg, "source") == 0;
        break;
      case 'p': opt.port = (uint16_t)atoi(optarg); break;
      case 'c': have_connect = parse_endpoint(optarg, &opt.dst, &opt.port); break;
      case 's': opt.seconds = atof(optarg); break;
      case 'b': opt.bytes = strtoull(optarg, NULL, 10); break;
      case 'h': opt.hash = true; break;
      case 'n': opt.count = atol(optarg); break;
      case 'T': opt.timeout = atof(optarg); break;
      default: return false;
    }
  }
  if (optind != argc || opt.tap == NULL || !have_addr || !have_mode || opt.port == 0) return false;
  if (opt.source && (!have_connect || (opt.bytes == 0) == (opt.seconds <= 0))) return false;
  return opt.timeout > 0;
}

int main(int argc, char** argv) {
  if (!parse_args(argc, argv)) {
    usage();
    return 2;
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal; /* no SA_RESTART: poll() returns EINTR */
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  tap_fd = open_tap(opt.tap);
  if (tap_fd < 0) return 1;
  if (opt.source) source_fill_data();

  tcpip_init(NULL, NULL); /* lwip_init, and the tcpip thread for the timers */
  LOCK_TCPIP_CORE();
  ip4_addr_t gw;
  ip4_addr_set_zero(&gw);
  bool ok = netif_add(&nif, &opt.addr, &opt.mask, &gw, NULL, tap_netif_init, ethernet_input) != NULL;
  if (ok) {
    netif_set_default(&nif);
    netif_set_up(&nif);
    netif_set_link_up(&nif);
  }
  if (ok && !opt.source) {
    struct tcp_pcb* pcb = tcp_new();
    ok = pcb != NULL && tcp_bind(pcb, IP4_ADDR_ANY, opt.port) == ERR_OK;
    struct tcp_pcb* listener = ok ? tcp_listen_with_backlog(pcb, 16) : NULL;
    ok = listener != NULL;
    if (ok) tcp_accept(listener, sink_accept);
  }
  if (ok && opt.source) {
    sha256_init(&src.sha);
    src.pcb = tcp_new();
    ok = src.pcb != NULL;
    if (ok) {
      tcp_recv(src.pcb, source_recv);
      tcp_sent(src.pcb, source_sent);
      tcp_err(src.pcb, source_err);
      ip_addr_t dst;
      ip_addr_copy_from_ip4(dst, opt.dst);
      ok = tcp_connect(src.pcb, &dst, opt.port, source_connected) == ERR_OK;
    }
  }
  UNLOCK_TCPIP_CORE();
  if (!ok) {
    fprintf(stderr, "ustack-lwip-peer: lwIP setup failed\n");
    return 1;
  }
  printf("ready %s %s\n", opt.tap, ip4addr_ntoa(&opt.addr));

  const double give_up = now_s() + opt.timeout;
  double linger_until = 0; /* once done: a moment for the last ACKs to leave */
  while (!stop_signal) {
    const double t = now_s();
    if (t >= give_up) {
      fprintf(stderr, "ustack-lwip-peer: not done within --timeout %.0f s\n", opt.timeout);
      failed = true;
      break;
    }
    if (done && linger_until == 0) linger_until = t + 0.2;
    if (linger_until > 0 && t >= linger_until) break;
    struct pollfd pfd = {.fd = tap_fd, .events = POLLIN};
    const int r = poll(&pfd, 1, 20);
    LOCK_TCPIP_CORE();
    if (r > 0) read_frames();
    if (opt.source) source_pump(); /* the deadline passes with no ACK too */
    UNLOCK_TCPIP_CORE();
  }
  return failed ? 1 : 0;
}
