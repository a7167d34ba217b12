/*
 * transfer-floor: the fastest way this machine can move one file over loopback TCP with SHA-256
 * computed by both ends, as a yardstick for `sockit put` in bench/files-transfer.bench.ts.
 *
 * It is not part of sockit and speaks no sockit protocol. It has no start-up cost, no framing, no
 * JavaScript and no safety checks; it does what sockit does to the bytes, in C, each job on its own
 * thread:
 *   sender:   sendfile(2) of the whole file (no copy through user memory) | SHA-256 of the file by
 *             OpenSSL, read back with pread(2) on a second thread.
 *   receiver: read(2) into 1 MiB aligned blocks (a ring of 16) | SHA-256 of each block on a second
 *             thread | O_DIRECT writes of each block on a third.
 * If this program cannot beat nc on a machine, no implementation of the protocol can.
 *
 * Wire: 8-byte little-endian size, the bytes, the sender's 32-byte digest; the receiver answers one
 * byte, 1 if the digests are equal. Both ends exit 0 only then.
 *
 *   transfer-floor recv PORT OUTFILE     accept one connection on 127.0.0.1:PORT, then exit
 *   transfer-floor send PORT FILE        send FILE to 127.0.0.1:PORT
 *
 * Build: cc -O2 -pthread -o transfer-floor transfer-floor.c -lcrypto   (Debian: libssl-dev)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define BLOCK (1 << 20)
#define RING 16
#define HASH_READ (256 * 1024)

static void die(const char *what) {
  perror(what);
  exit(2);
}

static void read_exactly(int fd, void *buf, size_t n) {
  for (size_t got = 0; got < n;) {
    ssize_t r = read(fd, (char *)buf + got, n - got);
    if (r == 0) errno = EPIPE;
    if (r <= 0) die("read");
    got += (size_t)r;
  }
}

static void write_exactly(int fd, const void *buf, size_t n) {
  for (size_t done = 0; done < n;) {
    ssize_t w = write(fd, (const char *)buf + done, n - done);
    if (w <= 0) die("write");
    done += (size_t)w;
  }
}

static struct sockaddr_in loopback(const char *port) {
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port))};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return sa;
}

/* ---------- sender ---------- */

struct file_hash {
  int fd;
  uint64_t size;
  unsigned char digest[32];
};

static void *hash_file(void *arg) {
  struct file_hash *h = arg;
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  unsigned char *buf = malloc(HASH_READ);
  if (ctx == NULL || buf == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) die("sha256");
  for (uint64_t off = 0; off < h->size;) {
    ssize_t r = pread(h->fd, buf, HASH_READ, (off_t)off);
    if (r <= 0) die("pread");
    EVP_DigestUpdate(ctx, buf, (size_t)r);
    off += (uint64_t)r;
  }
  EVP_DigestFinal_ex(ctx, h->digest, NULL);
  EVP_MD_CTX_free(ctx);
  free(buf);
  return NULL;
}

static int send_file(const char *port, const char *file) {
  struct file_hash h = {.fd = open(file, O_RDONLY)};
  struct stat st;
  if (h.fd < 0 || fstat(h.fd, &st) != 0) die(file);
  h.size = (uint64_t)st.st_size;
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = loopback(port);
  if (connect(s, (struct sockaddr *)&sa, sizeof sa) != 0) die("connect");
  pthread_t hasher;
  if (pthread_create(&hasher, NULL, hash_file, &h) != 0) die("pthread_create");
  unsigned char head[8];
  for (int i = 0; i < 8; i++) head[i] = (unsigned char)(h.size >> (8 * i));
  write_exactly(s, head, sizeof head);
  for (off_t off = 0; (uint64_t)off < h.size;) {
    if (sendfile(s, h.fd, &off, h.size - (uint64_t)off) <= 0) die("sendfile");
  }
  pthread_join(hasher, NULL);
  write_exactly(s, h.digest, sizeof h.digest);
  unsigned char verdict = 0;
  read_exactly(s, &verdict, 1);
  return verdict == 1 ? 0 : 1;
}

/* ---------- receiver: a ring of blocks, filled by read, consumed by the hasher and the writer ---------- */

static unsigned char *ring[RING];
static size_t ring_len[RING];
static uint64_t filled, hashed, written; /* blocks so far, each only grows */
static int finished;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;

/* Waits for block `next` to be filled (or the end); returns its slot, or -1 at the end. */
static int wait_block(uint64_t next) {
  pthread_mutex_lock(&lock);
  while (next >= filled && !finished) pthread_cond_wait(&changed, &lock);
  int slot = next < filled ? (int)(next % RING) : -1;
  pthread_mutex_unlock(&lock);
  return slot;
}

static void advance(uint64_t *counter) {
  pthread_mutex_lock(&lock);
  (*counter)++;
  pthread_cond_broadcast(&changed);
  pthread_mutex_unlock(&lock);
}

static unsigned char received_digest[32];

static void *hash_blocks(void *arg) {
  (void)arg;
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) die("sha256");
  for (int slot; (slot = wait_block(hashed)) >= 0; advance(&hashed)) EVP_DigestUpdate(ctx, ring[slot], ring_len[slot]);
  EVP_DigestFinal_ex(ctx, received_digest, NULL);
  EVP_MD_CTX_free(ctx);
  return NULL;
}

static int out_fd;

static void *write_blocks(void *arg) {
  (void)arg;
  uint64_t off = 0;
  for (int slot; (slot = wait_block(written)) >= 0; advance(&written)) {
    /* O_DIRECT wants whole sectors: the last block is padded, then the file is cut to size. */
    size_t n = (ring_len[slot] + 4095) & ~(size_t)4095;
    memset(ring[slot] + ring_len[slot], 0, n - ring_len[slot]);
    if (pwrite(out_fd, ring[slot], n, (off_t)off) != (ssize_t)n) die("pwrite");
    off += ring_len[slot];
  }
  if (ftruncate(out_fd, (off_t)off) != 0) die("ftruncate");
  return NULL;
}

static int receive_file(const char *port, const char *file) {
  int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  struct sockaddr_in sa = loopback(port);
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(ls, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(ls, 1) != 0) die("listen");
  int s = accept(ls, NULL, NULL);
  if (s < 0) die("accept");
  out_fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_DIRECT, 0644);
  if (out_fd < 0 && errno == EINVAL) out_fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644); /* tmpfs */
  if (out_fd < 0) die(file);
  for (int i = 0; i < RING; i++) {
    if (posix_memalign((void **)&ring[i], 4096, BLOCK) != 0) die("posix_memalign");
  }
  unsigned char head[8];
  read_exactly(s, head, sizeof head);
  uint64_t size = 0;
  for (int i = 0; i < 8; i++) size |= (uint64_t)head[i] << (8 * i);
  pthread_t hasher, writer;
  if (pthread_create(&hasher, NULL, hash_blocks, NULL) != 0 || pthread_create(&writer, NULL, write_blocks, NULL) != 0) die("pthread_create");
  for (uint64_t got = 0; got < size;) {
    pthread_mutex_lock(&lock);
    while (filled - hashed >= RING || filled - written >= RING) pthread_cond_wait(&changed, &lock);
    int slot = (int)(filled % RING);
    pthread_mutex_unlock(&lock);
    ring_len[slot] = size - got < BLOCK ? (size_t)(size - got) : BLOCK;
    read_exactly(s, ring[slot], ring_len[slot]);
    got += ring_len[slot];
    advance(&filled);
  }
  pthread_mutex_lock(&lock);
  finished = 1;
  pthread_cond_broadcast(&changed);
  pthread_mutex_unlock(&lock);
  pthread_join(hasher, NULL);
  pthread_join(writer, NULL);
  unsigned char theirs[32];
  read_exactly(s, theirs, sizeof theirs);
  unsigned char verdict = memcmp(theirs, received_digest, sizeof theirs) == 0;
  if (close(out_fd) != 0) die("close");
  write_exactly(s, &verdict, 1);
  close(s);
  if (!verdict) fprintf(stderr, "transfer-floor: SHA-256 differs\n");
  return verdict ? 0 : 1;
}

int main(int argc, char **argv) {
  if (argc == 4 && strcmp(argv[1], "send") == 0) return send_file(argv[2], argv[3]);
  if (argc == 4 && strcmp(argv[1], "recv") == 0) return receive_file(argv[2], argv[3]);
  fprintf(stderr, "usage: transfer-floor send|recv PORT FILE\n");
  return 2;
}
