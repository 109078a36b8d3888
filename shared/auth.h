/*
 * auth: ASCP mutual challenge-response handshake and per-frame MAC.
 *
 * Handshake (docs/control-protocol.md, "Authentication"):
 *   C -> S  AUTH_HELLO   NONCE=Nc
 *   S -> C  reply        NONCE=Ns, PROOF=Ps = HMAC(K, "ASCP1 server proof" | Nc | Ns)
 *   C -> S  AUTH_PROOF   PROOF=Pc = HMAC(K, "ASCP1 client proof" | Nc | Ns)
 *   S -> C  reply        STATUS=OK, first frame sealed with the session keys
 * Session keys, one per direction so a frame cannot be reflected back:
 *   Kc2s = HMAC(K, "ASCP1 key c2s" | Nc | Ns), Ks2c = HMAC(K, "ASCP1 key s2c" | Nc | Ns)
 * After that every frame carries PROTO_F_MAC, seq = previous + 1 (from
 * 1, per direction) and HMAC-SHA256(Kdir, header | payload), 32 bytes.
 */
#ifndef ARRAYSIM_AUTH_H
#define ARRAYSIM_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

#define AUTH_KEY_LEN   32
#define AUTH_NONCE_LEN 32
#define AUTH_PROOF_LEN 32

/* one direction pair of keys and counters of an established session */
struct auth_session {
	uint8_t tx_key[AUTH_KEY_LEN];
	uint8_t rx_key[AUTH_KEY_LEN];
	uint64_t tx_seq; /* last sequence number sent */
	uint64_t rx_seq; /* last sequence number accepted */
};

enum auth_state {
	AUTH_INIT,	     /* nothing exchanged */
	AUTH_WAIT_CHALLENGE, /* client: HELLO sent */
	AUTH_WAIT_PROOF,     /* server: challenge sent */
	AUTH_WAIT_CONFIRM,   /* client: PROOF sent, keys derived */
	AUTH_DONE,	     /* session established */
	AUTH_FAILED,	     /* terminal: the connection must be closed */
};

struct auth_ctx {
	int is_server;
	enum auth_state state;
	uint8_t key[AUTH_KEY_LEN]; /* long-term shared key */
	uint8_t nc[AUTH_NONCE_LEN];
	uint8_t ns[AUTH_NONCE_LEN];
	struct auth_session sess;
};

void auth_init(struct auth_ctx *a, int is_server, const uint8_t key[AUTH_KEY_LEN]);
void auth_wipe(struct auth_ctx *a);

/* client: append the AUTH_HELLO request fields */
int auth_client_hello(struct auth_ctx *a, const char *client_name, struct proto_buf *req);
/*
 * client: take the AUTH_HELLO reply payload, verify the server's proof,
 * derive the session keys and append the AUTH_PROOF request fields.
 * EAUTH when the server does not know the key (or is a replay).
 */
int auth_client_proof(struct auth_ctx *a, const uint8_t *rep, size_t len, struct proto_buf *req);
/* client: take the whole AUTH_PROOF reply frame; must be sealed and OK */
int auth_client_confirm(struct auth_ctx *a, const uint8_t *frame, size_t len);

/* server: take the AUTH_HELLO request payload, append the reply fields */
int auth_server_challenge(struct auth_ctx *a, const uint8_t *req, size_t len,
			  struct proto_buf *rep);
/*
 * server: take the AUTH_PROOF request payload; on success the session is
 * established and the caller replies STATUS=OK in a sealed frame.
 */
int auth_server_verify(struct auth_ctx *a, const uint8_t *req, size_t len);

/*
 * Server gate, called on every received header before anything else:
 * until AUTH_DONE only the next handshake message, unsealed, is allowed;
 * afterwards only sealed frames that are not handshake messages.
 * EAUTH otherwise; the daemon replies EAUTH and closes.
 */
int auth_check_frame(const struct auth_ctx *a, const struct proto_hdr *h);

/*
 * Seal a frame built by proto_frame_build() with PROTO_F_MAC: set the
 * next sequence number and write the MAC into the last 32 bytes.
 */
int auth_seal(struct auth_session *s, uint8_t *frame, size_t len);
/*
 * Verify a received frame: EAUTH if it is not sealed, EBADMAC if the MAC
 * does not match (any altered bit), EREPLAY if seq is not above the last
 * accepted one, ESEQ if it skips ahead.  Checks the MAC before the
 * sequence so unauthenticated input cannot probe the counter.
 */
int auth_open(struct auth_session *s, const uint8_t *frame, size_t len);

/* proof or key derivation: HMAC(key, label | nc | ns) */
int auth_derive(const uint8_t key[AUTH_KEY_LEN], const char *label,
		const uint8_t nc[AUTH_NONCE_LEN], const uint8_t ns[AUTH_NONCE_LEN],
		uint8_t out[32]);
#define AUTH_LABEL_SERVER_PROOF "ASCP1 server proof"
#define AUTH_LABEL_CLIENT_PROOF "ASCP1 client proof"
#define AUTH_LABEL_KEY_C2S	"ASCP1 key c2s"
#define AUTH_LABEL_KEY_S2C	"ASCP1 key s2c"

/* key file: 64 hex digits, surrounding whitespace allowed */
int auth_key_parse_hex(const char *s, uint8_t key[AUTH_KEY_LEN]);
int auth_key_format_hex(const uint8_t key[AUTH_KEY_LEN], char out[2 * AUTH_KEY_LEN + 1]);
/* EINVAL on bad content; on POSIX also when group/other may read it */
int auth_key_load(const char *path, uint8_t key[AUTH_KEY_LEN]);
int auth_key_generate(uint8_t key[AUTH_KEY_LEN]);

#endif
