/* The guest's side of the integration test (tests/integration/test_guest.py),
 * run by the guest image's /init. Built static (gcc -static) by build-image.sh.
 *
 *   guest-agent --udp-port P --tcp-port Q
 *
 * Counts the datagrams that reach a kernel UDP socket bound to port P: every
 * one, and the distinct sequence numbers among those that carry the test's
 * payload ("VMQG" and a 32-bit big-endian sequence number). Accepts TCP
 * connections on port Q, one at a time, and reports the bytes each carried
 * and their SHA-256 once the peer closes.
 *
 * It talks over the serial console (stdin and stdout): one command per line,
 * one reply line each, every reply starting with "@vmq ":
 *   udp-reset   zero the UDP counters         -> @vmq udp-reset
 *   udp-count   the UDP counters              -> @vmq udp count=N unique=U bytes=B other=O
 *   snmp        the kernel's checksum errors  -> @vmq snmp udp_in_csum_errors=N tcp_in_csum_errors=M ...
 *   link        eth0's state                  -> @vmq link operstate=up carrier=1
 *   tcp-send IP PORT BYTES                    -> @vmq tcp-sent bytes=N sha256=HEX
 *               one connection to IP:PORT carrying BYTES pseudo-random bytes
 *               (xorshift32, seed 1), closed; replies once the peer has closed
 *               too, so every byte was acknowledged. At most 60 s blocked in a
 *               send or receive, else "@vmq error tcp-send ...".
 *   quit        exit                          -> @vmq bye
 * and on its own: "@vmq ready udp=P tcp=Q" once it listens, and
 * "@vmq tcp bytes=N sha256=HEX" for every connection that ended.
 * Every loop is bounded by its input; it polls, so a silent peer costs nothing.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <termios.h>
#include <unistd.h>

/* --- SHA-256 (FIPS 180-4) ------------------------------------------------ */

struct sha256 {
  uint32_t h[8];
  uint64_t length;
  uint8_t block[64];
  size_t used;
};

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

static uint32_t rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

static void sha256_init(struct sha256 *s) {
  static const uint32_t h0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  memcpy(s->h, h0, sizeof h0);
  s->length = 0;
  s->used = 0;
}

static void sha256_block(struct sha256 *s, const uint8_t *p) {
  uint32_t w[64];
  for (int i = 0; i < 16; i++)
    w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
  for (int i = 16; i < 64; i++) {
    uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
    uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  uint32_t a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3], e = s->h[4], f = s->h[5], g = s->h[6], h = s->h[7];
  for (int i = 0; i < 64; i++) {
    uint32_t t1 = h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
    uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
    h = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  s->h[0] += a, s->h[1] += b, s->h[2] += c, s->h[3] += d;
  s->h[4] += e, s->h[5] += f, s->h[6] += g, s->h[7] += h;
}

static void sha256_update(struct sha256 *s, const uint8_t *p, size_t n) {
  s->length += n;
  while (n > 0) {
    size_t take = 64 - s->used < n ? 64 - s->used : n;
    memcpy(s->block + s->used, p, take);
    s->used += take, p += take, n -= take;
    if (s->used == 64) {
      sha256_block(s, s->block);
      s->used = 0;
    }
  }
}

static void sha256_hex(struct sha256 *s, char out[65]) {
  uint64_t bits = s->length * 8;
  uint8_t pad = 0x80, zero = 0, len[8];
  sha256_update(s, &pad, 1);
  while (s->used != 56) sha256_update(s, &zero, 1);
  for (int i = 0; i < 8; i++) len[i] = (uint8_t)(bits >> (56 - 8 * i));
  sha256_update(s, len, 8);
  for (int i = 0; i < 8; i++) sprintf(out + 8 * i, "%08x", s->h[i]);
}

/* --- the agent ------------------------------------------------------------- */

#define MAX_SEQ (1u << 20) /* distinct sequence numbers tracked: far above any test's stream */

static uint8_t seen[MAX_SEQ / 8];
static unsigned long long udp_count, udp_unique, udp_bytes, udp_other;

static void reply(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void reply(const char *fmt, ...) {
  char line[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  /* One write per line: kernel messages on the console cannot split it then. */
  dprintf(STDOUT_FILENO, "\n@vmq %s\n", line);
}

static void udp_reset(void) {
  memset(seen, 0, sizeof seen);
  udp_count = udp_unique = udp_bytes = udp_other = 0;
}

static void udp_drain(int fd) {
  uint8_t buf[2048];
  for (int i = 0; i < 4096; i++) { /* bounded; poll brings us back for the rest */
    ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0) return;
    udp_count++;
    udp_bytes += (unsigned long long)n;
    if (n >= 8 && memcmp(buf, "VMQG", 4) == 0) {
      uint32_t seq = (uint32_t)buf[4] << 24 | (uint32_t)buf[5] << 16 | (uint32_t)buf[6] << 8 | buf[7];
      if (seq < MAX_SEQ && !(seen[seq / 8] & (1u << (seq % 8)))) {
        seen[seq / 8] |= (uint8_t)(1u << (seq % 8));
        udp_unique++;
      }
    } else {
      udp_other++;
    }
  }
}

/* "Udp: InDatagrams ... InCsumErrors ..." from /proc/net/snmp: the header line's
 * field names, then the values line. */
static long long snmp_field(const char *proto, const char *field) {
  FILE *f = fopen("/proc/net/snmp", "r");
  if (!f) return -1;
  char names[1024], values[1024];
  long long result = -1;
  size_t plen = strlen(proto);
  while (fgets(names, sizeof names, f) && fgets(values, sizeof values, f)) {
    if (strncmp(names, proto, plen) != 0 || names[plen] != ':') continue;
    char *ns = NULL, *vs = NULL;
    char *n = strtok_r(names + plen + 1, " \n", &ns);
    char *v = strtok_r(values + plen + 1, " \n", &vs);
    while (n && v) {
      if (strcmp(n, field) == 0) {
        result = atoll(v);
        break;
      }
      n = strtok_r(NULL, " \n", &ns);
      v = strtok_r(NULL, " \n", &vs);
    }
    break;
  }
  fclose(f);
  return result;
}

static int listen_on(int type, int port) {
  int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1, big = 8 << 20;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (type == SOCK_DGRAM) setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr = {INADDR_ANY}};
  if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || (type == SOCK_STREAM && listen(fd, 4) < 0)) {
    close(fd);
    return -1;
  }
  return fd;
}

/* The first line of a file under /sys, without its newline ("?" if unreadable). */
static void read_line(const char *path, char *out, size_t size) {
  FILE *f = fopen(path, "r");
  if (!f || !fgets(out, (int)size, f)) snprintf(out, size, "?");
  if (f) fclose(f);
  out[strcspn(out, "\n")] = '\0';
}

/* tcp-send IP PORT BYTES: see the header. Blocks the agent while it runs. */
static void tcp_send(const char *args) {
  char ip[64];
  int port = 0;
  unsigned long long total = 0;
  struct in_addr address;
  if (sscanf(args, "%63s %d %llu", ip, &port, &total) != 3 || port <= 0 || port > 65535 ||
      inet_pton(AF_INET, ip, &address) != 1) {
    reply("error tcp-send needs IP PORT BYTES");
    return;
  }
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    reply("error tcp-send socket: %s", strerror(errno));
    return;
  }
  struct timeval timeout = {.tv_sec = 60};
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr = address};
  if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
    reply("error tcp-send connect: %s", strerror(errno));
    close(fd);
    return;
  }
  struct sha256 hash;
  sha256_init(&hash);
  uint8_t buf[16384];
  uint32_t x = 1;
  unsigned long long sent = 0;
  while (sent < total) {
    size_t n = total - sent < sizeof buf ? (size_t)(total - sent) : sizeof buf;
    for (size_t i = 0; i < n; i++) {
      x ^= x << 13;
      x ^= x >> 17;
      x ^= x << 5;
      buf[i] = (uint8_t)x;
    }
    sha256_update(&hash, buf, n);
    for (size_t off = 0; off < n;) {
      ssize_t w = send(fd, buf + off, n - off, MSG_NOSIGNAL);
      if (w <= 0) {
        reply("error tcp-send after %llu bytes: %s", sent + off, w < 0 ? strerror(errno) : "closed");
        close(fd);
        return;
      }
      off += (size_t)w;
    }
    sent += n;
  }
  shutdown(fd, SHUT_WR);
  ssize_t r;
  while ((r = read(fd, buf, sizeof buf)) > 0) { /* until the peer closes: bounded by SO_RCVTIMEO */
  }
  close(fd);
  if (r < 0) {
    reply("error tcp-send waiting for the peer to close: %s", strerror(errno));
    return;
  }
  char hex[65];
  sha256_hex(&hash, hex);
  reply("tcp-sent bytes=%llu sha256=%s", sent, hex);
}

static void command(const char *line, int *running) {
  if (strcmp(line, "udp-reset") == 0) {
    udp_reset();
    reply("udp-reset");
  } else if (strcmp(line, "udp-count") == 0) {
    reply("udp count=%llu unique=%llu bytes=%llu other=%llu", udp_count, udp_unique, udp_bytes, udp_other);
  } else if (strcmp(line, "snmp") == 0) {
    reply("snmp udp_in_datagrams=%lld udp_in_csum_errors=%lld udp_in_errors=%lld udp_rcvbuf_errors=%lld "
          "tcp_in_csum_errors=%lld tcp_in_segs=%lld",
          snmp_field("Udp", "InDatagrams"), snmp_field("Udp", "InCsumErrors"), snmp_field("Udp", "InErrors"),
          snmp_field("Udp", "RcvbufErrors"), snmp_field("Tcp", "InCsumErrors"), snmp_field("Tcp", "InSegs"));
  } else if (strcmp(line, "link") == 0) {
    char operstate[32], carrier[8];
    read_line("/sys/class/net/eth0/operstate", operstate, sizeof operstate);
    read_line("/sys/class/net/eth0/carrier", carrier, sizeof carrier);
    reply("link operstate=%s carrier=%s", operstate, carrier);
  } else if (strncmp(line, "tcp-send ", 9) == 0) {
    tcp_send(line + 9);
  } else if (strcmp(line, "quit") == 0) {
    reply("bye");
    *running = 0;
  } else if (line[0] != '\0') {
    reply("error unknown command '%.64s'", line);
  }
}

int main(int argc, char **argv) {
  int udp_port = 0, tcp_port = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--udp-port") == 0) udp_port = atoi(argv[i + 1]);
    else if (strcmp(argv[i], "--tcp-port") == 0) tcp_port = atoi(argv[i + 1]);
  }
  if (udp_port <= 0 || tcp_port <= 0) {
    fprintf(stderr, "usage: guest-agent --udp-port P --tcp-port Q\n");
    return 2;
  }
  struct termios t;
  if (tcgetattr(STDIN_FILENO, &t) == 0) { /* commands are not echoed into the replies */
    t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
    tcsetattr(STDIN_FILENO, TCSANOW, &t);
  }
  int udp = listen_on(SOCK_DGRAM, udp_port), tcp = listen_on(SOCK_STREAM, tcp_port), conn = -1;
  if (udp < 0 || tcp < 0) {
    reply("error cannot listen: %s", strerror(errno));
    return 1;
  }
  reply("ready udp=%d tcp=%d", udp_port, tcp_port);

  char line[256];
  size_t line_len = 0;
  struct sha256 hash;
  uint8_t buf[65536];
  int running = 1, console = STDIN_FILENO;
  while (running) {
    struct pollfd p[4] = {{console, POLLIN, 0}, {udp, POLLIN, 0}, {tcp, POLLIN, 0}, {conn, POLLIN, 0}};
    if (poll(p, conn >= 0 ? 4 : 3, -1) < 0) {
      if (errno == EINTR) continue;
      reply("error poll: %s", strerror(errno));
      return 1;
    }
    if (p[1].revents) udp_drain(udp);
    if (p[2].revents && conn < 0) {
      conn = accept4(tcp, NULL, NULL, SOCK_CLOEXEC);
      if (conn >= 0) sha256_init(&hash);
    }
    if (conn >= 0 && p[3].revents) {
      ssize_t n = read(conn, buf, sizeof buf);
      if (n > 0) {
        sha256_update(&hash, buf, (size_t)n);
      } else {
        char hex[65];
        unsigned long long bytes = hash.length;
        sha256_hex(&hash, hex);
        reply("tcp bytes=%llu sha256=%s%s", bytes, hex, n < 0 ? " error=read" : "");
        close(conn);
        conn = -1;
      }
    }
    if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      char c;
      ssize_t n = read(STDIN_FILENO, &c, 1);
      if (n <= 0) {
        console = -1; /* the console went away: keep serving the sockets */
        continue;
      }
      if (c == '\n' || c == '\r') {
        line[line_len] = '\0';
        command(line, &running);
        line_len = 0;
      } else if (line_len + 1 < sizeof line) {
        line[line_len++] = c;
      }
    }
  }
  return 0;
}
