/* The peer's SHA-256 against the test vectors of FIPS 180-4's examples (NIST
 * CSRC "SHA256.pdf", "SHA2_Additional.pdf"), fed in pieces of every size so
 * that block boundaries fall everywhere. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sha256.h"

static int check(const char* name, const unsigned char* data, size_t n, size_t piece, const char* want) {
  struct sha256 s;
  sha256_init(&s);
  for (size_t at = 0; at < n; at += piece) sha256_update(&s, data + at, n - at < piece ? n - at : piece);
  char got[65];
  sha256_hex(&s, got);
  if (strcmp(got, want) != 0) {
    fprintf(stderr, "FAIL %s (pieces of %zu): %s, expected %s\n", name, piece, got, want);
    return 1;
  }
  return 0;
}

int main(void) {
  int bad = 0;
  static const char* two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  unsigned char* million = malloc(1000000);
  if (million == NULL) return 1;
  memset(million, 'a', 1000000);
  for (size_t piece = 1; piece <= 130; piece++) {
    bad |= check("empty", (const unsigned char*)"", 0, piece,
                 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    bad |= check("abc", (const unsigned char*)"abc", 3, piece,
                 "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    bad |= check("448 bits", (const unsigned char*)two_blocks, strlen(two_blocks), piece,
                 "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  }
  bad |= check("a million a", million, 1000000, 4093,
               "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  free(million);
  if (!bad) printf("sha256: all vectors match\n");
  return bad;
}
