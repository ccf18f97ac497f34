#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# The TLS transport (src/tls.c) against Debian's redis-server with TLS only
# (--tls-port, --port 0) and certificates made here with openssl: verified
# connections, each failure in its words, mutual TLS, and the context
# reloaded after the files were rotated on disk.
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/lib/tlscerts.sh"

bin=$(dirname "$SL_BIN")/tests/it_tls
[ -x "$bin" ] || { echo "1..0 # SKIP $bin is not built (make integration builds it)"; exit 0; }
D=$STATE
sl_tls_certs "$D" || exit 1
GOOD=$(sl_free_port); sl_start_tls_redis "$D" "$GOOD" server || exit 1
EXPIRED=$(sl_free_port); sl_start_tls_redis "$D" "$EXPIRED" expired || exit 1
WRONG=$(sl_free_port); sl_start_tls_redis "$D" "$WRONG" wrong || exit 1
MUTUAL=$(sl_free_port); sl_start_tls_redis "$D" "$MUTUAL" server yes || exit 1
PLAIN=$(sl_free_port); sl_start_redis "$D" "$PLAIN" || exit 1

# Its stderr (the agreed cipher, or a sanitizer's report with
# STREAMLAG_BIN=build/asan/streamlag) goes to a log the last test reads.
t() { "$bin" "$@" 2>>"$STATE/it_tls.log"; }

# Verified: by IP (IP SAN), by name (DNS SAN), from a CA directory, as the
# ACL user, TLS 1.2 only; a reply larger than many TLS records, read 1000
# bytes at a time, polling only when OpenSSL holds nothing decrypted.
is "$(t -p "$GOOD" -c "$D/ca.crt")" "PONG serial=1001 TLSv1.3" "good CA, node by IP: PONG"
is "$(t -p "$GOOD" -H localhost -c "$D/ca.crt")" "PONG serial=1001 TLSv1.3" "good CA, node by name: PONG"
mkdir "$D/cadir" && cp "$D/ca.crt" "$D/cadir/" && openssl rehash "$D/cadir" 2>/dev/null
is "$(t -p "$GOOD" -C "$D/cadir")" "PONG serial=1001 TLSv1.3" "CA directory: PONG"
is "$(t -p "$GOOD" -c "$D/ca.crt" -a "$SL_REDIS_USER $SL_REDIS_PASS" -m "SELECT 0")" \
	"OK OK serial=1001 TLSv1.3" "AUTH as the ACL user, then a command"
is "$(t -p "$GOOD" -c "$D/ca.crt" -P TLSv1.2)" "PONG serial=1001 TLSv1.2" "TLS 1.2 only"
is "$(t -p "$GOOD" -c "$D/ca.crt" -b 200000)" "PONG ECHO 200000 serial=1001 TLSv1.3" \
	"a 200000-byte reply through a 1000-byte buffer"
is "$(t -p "$GOOD" -c "$D/ca.crt" -P "TLSv1.1 TLSv1.2")" \
	"ERR: STREAMLAG_REDIS_TLS_PROTOCOLS: TLSv1.1 is refused: TLS 1.2 is the minimum" \
	"TLS 1.1 is refused"

# The override name: checked for a node by IP and for one by name.
is "$(t -p "$WRONG" -c "$D/ca.crt" -n wrong.example)" "PONG serial=1002 TLSv1.3" \
	"node by IP, checked against the server name"
is "$(t -p "$WRONG" -H localhost -c "$D/ca.crt" -n wrong.example)" "PONG serial=1002 TLSv1.3" \
	"node by name, checked against the server name"
like "$(t -p "$GOOD" -c "$D/ca.crt" -n wrong.example)" \
	"^ERR: TLS handshake with 127.0.0.1 as wrong.example: host-name mismatch: certificate verify failed \(hostname mismatch\)$" \
	"server name not in the certificate: host-name mismatch"

# Each failure in its words, OpenSSL's after them.
like "$(t -p "$GOOD" -c "$D/other-ca.crt")" \
	"^ERR: TLS handshake with 127.0.0.1: unknown CA: certificate verify failed \(" "wrong CA: unknown CA"
is "$(t -p "$EXPIRED" -c "$D/ca.crt")" \
	"ERR: TLS handshake with 127.0.0.1: expired certificate: certificate verify failed (certificate has expired)" \
	"expired certificate"
is "$(t -p "$WRONG" -c "$D/ca.crt")" \
	"ERR: TLS handshake with 127.0.0.1: host-name mismatch: certificate verify failed (IP address mismatch)" \
	"IP not in the certificate: host-name mismatch"
is "$(t -p "$WRONG" -H localhost -c "$D/ca.crt")" \
	"ERR: TLS handshake with localhost: host-name mismatch: certificate verify failed (hostname mismatch)" \
	"name not in the certificate: host-name mismatch"
like "$(t -p "$PLAIN" -c "$D/ca.crt" -t 1000)" \
	"^ERR: TLS handshake with 127.0.0.1: handshake timeout: no answer to the TLS hello in 1000 ms, as from a plaintext server" \
	"plaintext redis-server: handshake timeout, named as a plaintext server"
is "$(t -p "$WRONG" -V)" "PONG serial=1002 TLSv1.3" "verify off: any certificate"

# Mutual TLS (--tls-auth-clients yes).
is "$(t -p "$MUTUAL" -c "$D/ca.crt" -e "$D/client.crt" -k "$D/client.key")" \
	"PONG serial=1001 TLSv1.3" "mutual TLS with the client certificate: PONG"
# TLS 1.3 ends the client's handshake before the server has looked at the
# certificate: its alert comes to the first read, or, when the server has
# already closed, the PING written meets a reset.  Both are told the same.
like "$(t -p "$MUTUAL" -c "$D/ca.crt")" \
	"^ERR: TLS (read with 127.0.0.1: client certificate required: tlsv13 alert certificate required|write with 127.0.0.1: client certificate required: Connection reset by peer)$" \
	"mutual TLS without a client certificate (TLS 1.3): refused, told why"
like "$(t -p "$MUTUAL" -c "$D/ca.crt" -P TLSv1.2)" \
	"^ERR: TLS handshake with 127.0.0.1: client certificate required: " \
	"mutual TLS without a client certificate (TLS 1.2): refused, told why"
like "$(t -p "$MUTUAL" -c "$D/ca.crt" -e "$D/server2.crt" -k "$D/server2.key")" \
	"^ERR: TLS (read|write) with 127.0.0.1: client certificate rejected: " \
	"mutual TLS with a certificate of another CA: rejected, told why"
cp "$D/client.key" "$D/loose.key" && chmod 0644 "$D/loose.key"
is "$(t -p "$MUTUAL" -c "$D/ca.crt" -e "$D/client.crt" -k "$D/loose.key")" \
	"ERR: STREAMLAG_REDIS_TLS_KEY_FILE $D/loose.key: mode 0644 lets other users read it (chmod 600, owned by the user streamlag runs as)" \
	"a key file others can read is refused"

# Rotation: the server moves to a certificate of another CA (serial 2001)
# and the trusted CA file is replaced on disk; after the reload, a new
# connection verifies it.
ROT=$(sl_free_port); sl_start_tls_redis "$D" "$ROT" server || exit 1
cp "$D/ca.crt" "$D/trust.pem"
cat >"$D/rotate.sh" <<SH
redis-cli --tls --cacert "$D/ca.crt" -h 127.0.0.1 -p $ROT \
	CONFIG SET tls-cert-file "$D/server2.crt" tls-key-file "$D/server2.key" >/dev/null &&
cp "$D/other-ca.crt" "$D/trust.pem"
SH
is "$(t -p "$ROT" -c "$D/trust.pem" -r "sh $D/rotate.sh")" \
	"$(printf 'PONG serial=1001 TLSv1.3\nreload: ok\nPONG serial=2001 TLSv1.3')" \
	"rotated on disk, reloaded: the new connection verifies the new certificate"
# A rotation that leaves unusable files: the reload fails and says why, the
# old context serves on.
printf 'not a certificate\n' >"$D/garbage.pem"
is "$(t -p "$ROT" -c "$D/trust.pem" -r "cp $D/garbage.pem $D/trust.pem")" \
	"$(printf 'PONG serial=2001 TLSv1.3\nreload: STREAMLAG_REDIS_TLS_CA_FILE %s: no certificate or crl found\nPONG serial=2001 TLSv1.3' "$D/trust.pem")" \
	"a CA file that no longer parses: reload refused, old context kept"
cp "$D/client.key" "$D/rot.key"
is "$(t -p "$MUTUAL" -c "$D/ca.crt" -e "$D/client.crt" -k "$D/rot.key" -r "chmod 0640 $D/rot.key")" \
	"$(printf 'PONG serial=1001 TLSv1.3\nreload: STREAMLAG_REDIS_TLS_KEY_FILE %s: mode 0640 lets other users read it (chmod 600, owned by the user streamlag runs as)\nPONG serial=1001 TLSv1.3' "$D/rot.key")" \
	"a key file made readable by its group: reload refused, old context kept"

done_testing
