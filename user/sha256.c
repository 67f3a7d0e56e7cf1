// sha256: print the SHA-256 digest of files or of stdin (FIPS 180-4).
// Usage: sha256 [file ...]
// Output, one line per input: the digest and the name as sha256sum
// prints them ("-" for stdin), then the byte count, for scripts that
// check transfers:
//   <64 hex digits>  <file>  <bytes>
// Exit status 1 if a file cannot be read.
//
// The tests use it to check TCP transfers end to end: what Linux sent
// and what reached the guest's file (or pipe) must hash the same.
#include "user/user.h"

struct sha256 {
	uint32 h[8];
	uint8 block[64];
	uint32 fill;    // bytes in block
	uint64 total;   // bytes hashed
};

static const uint32 K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
	0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
	0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
	0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
	0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
	0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
	0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32
ror(uint32 x, int n)
{
	return (x >> n) | (x << (32 - n));
}

// One 64-byte block into the state (FIPS 180-4 6.2.2).
static void
compress(struct sha256 *c, const uint8 *p)
{
	uint32 w[64], v[8], t1, t2;

	for (int i = 0; i < 16; i++)
		w[i] = (uint32)p[4 * i] << 24 | (uint32)p[4 * i + 1] << 16 |
		       (uint32)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 64; i++) {
		uint32 s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32 s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	memcpy(v, c->h, sizeof(v));
	for (int i = 0; i < 64; i++) {
		t1 = v[7] + (ror(v[4], 6) ^ ror(v[4], 11) ^ ror(v[4], 25)) +
		     ((v[4] & v[5]) ^ (~v[4] & v[6])) + K[i] + w[i];
		t2 = (ror(v[0], 2) ^ ror(v[0], 13) ^ ror(v[0], 22)) +
		     ((v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]));
		memmove(v + 1, v, 7 * sizeof(uint32));
		v[4] += t1;
		v[0] = t1 + t2;
	}
	for (int i = 0; i < 8; i++)
		c->h[i] += v[i];
}

static void
sha_init(struct sha256 *c)
{
	static const uint32 h0[8] = {
		0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
		0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
	};

	memcpy(c->h, h0, sizeof(h0));
	c->fill = 0;
	c->total = 0;
}

static void
sha_update(struct sha256 *c, const uint8 *p, size_t n)
{
	c->total += n;
	while (n > 0) {
		size_t k = 64 - c->fill < n ? 64 - c->fill : n;
		memcpy(c->block + c->fill, p, k);
		c->fill += k;
		p += k;
		n -= k;
		if (c->fill == 64) {
			compress(c, c->block);
			c->fill = 0;
		}
	}
}

// Pad (a 1 bit, zeros, the length in bits) and write the digest as hex.
static void
sha_final(struct sha256 *c, char hex[65])
{
	uint64 bits = c->total * 8;
	uint8 pad = 0x80, len[8];

	sha_update(c, &pad, 1);
	pad = 0;
	while (c->fill != 56)
		sha_update(c, &pad, 1);
	for (int i = 0; i < 8; i++)
		len[i] = (uint8)(bits >> (56 - 8 * i));
	sha_update(c, len, 8);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", (c->h[i / 4] >> (24 - 8 * (i % 4))) & 0xff);
}

static uint8 buf[32768];

static bool
sum(int fd, const char *name)
{
	struct sha256 c;
	char hex[65];
	uint64 bytes;
	ssize_t n;

	sha_init(&c);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		sha_update(&c, buf, n);
	if (n < 0) {
		fprintf(2, "sha256: %s: %s\n", name, strerror(errno));
		return false;
	}
	bytes = c.total;
	sha_final(&c, hex);
	printf("%s  %s  %lu\n", hex, name, bytes);
	return true;
}

int
main(int argc, char *argv[])
{
	bool ok = true;

	if (argc < 2)
		return sum(0, "-") ? 0 : 1;
	for (int i = 1; i < argc; i++) {
		int fd = open(argv[i], O_RDONLY);
		if (fd < 0) {
			fprintf(2, "sha256: %s: %s\n", argv[i], strerror(errno));
			ok = false;
			continue;
		}
		ok &= sum(fd, argv[i]);
		close(fd);
	}
	return ok ? 0 : 1;
}
