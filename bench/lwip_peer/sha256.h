/* SHA-256 (FIPS 180-4), for ustack-lwip-peer to report a digest of the bytes
 * it received or sent, so that a test can compare it with sha256sum. */
#ifndef USTACK_LWIP_PEER_SHA256_H
#define USTACK_LWIP_PEER_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct sha256 {
  uint32_t h[8];
  uint64_t bytes;
  uint8_t block[64];
  size_t used;
};

void sha256_init(struct sha256* s);
void sha256_update(struct sha256* s, const void* data, size_t n);
/* 64 lowercase hex digits and a NUL into hex[65]. */
void sha256_hex(struct sha256* s, char hex[65]);

#endif
