# SPDX-License-Identifier: ISC
# shellcheck shell=bash
# Certificates for the TLS tests, made with openssl in a directory of the
# test's own, and Debian's redis-server on a TLS port.  Sourced after
# common.sh (which brings sl_free_port, sl_wait_ready, SL_PIDS).
#
# sl_tls_certs DIR makes, all EC P-256, each key mode 0600:
#   ca.crt ca.key            the CA the tests trust
#   other-ca.crt             a second, unrelated CA
#   server.crt server.key    CA-signed, SAN IP:127.0.0.1 and DNS:localhost,
#                            serial 1001
#   server2.crt server2.key  signed by the other CA, same SANs, serial 2001
#                            (the certificate rotated to)
#   wrong.crt wrong.key      CA-signed, SAN DNS:wrong.example only
#   expired.crt expired.key  CA-signed, same SANs, valid 2020-01-01 to
#                            2021-01-01 (openssl ca: x509 cannot backdate)
#   client.crt client.key    CA-signed, clientAuth, for mutual TLS

# _sl_tls_key FILE: a new EC key, unreadable by group and others.
_sl_tls_key() {
	(umask 077 && openssl genpkey -algorithm EC \
		-pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null)
}

# _sl_tls_ca DIR NAME CN: a self-signed CA NAME.crt/NAME.key.
_sl_tls_ca() {
	_sl_tls_key "$1/$2.key" &&
	openssl req -x509 -new -key "$1/$2.key" -subj "/CN=$3" -days 3650 \
		-addext basicConstraints=critical,CA:TRUE \
		-addext keyUsage=critical,keyCertSign,cRLSign \
		-out "$1/$2.crt" 2>/dev/null
}

# _sl_tls_leaf DIR NAME CA SERIAL SAN EKU: NAME.crt signed by CA.
_sl_tls_leaf() {
	local d=$1 name=$2 ca=$3 serial=$4 san=$5 eku=$6
	_sl_tls_key "$d/$name.key" &&
	openssl req -new -key "$d/$name.key" -subj "/CN=$name" \
		-out "$d/$name.csr" 2>/dev/null &&
	printf 'subjectAltName=%s\nextendedKeyUsage=%s\nbasicConstraints=CA:FALSE\n' \
		"$san" "$eku" >"$d/$name.ext" &&
	openssl x509 -req -in "$d/$name.csr" -CA "$d/$ca.crt" -CAkey "$d/$ca.key" \
		-set_serial "0x$serial" -days 365 -extfile "$d/$name.ext" \
		-out "$d/$name.crt" 2>/dev/null
}

# _sl_tls_expired DIR: expired.crt, through `openssl ca` and a minimal
# configuration, since only it takes a start date in the past.
_sl_tls_expired() {
	local d=$1 ca=$1/expired-ca
	mkdir -p "$ca" && : >"$ca/index.txt" && echo 3001 >"$ca/serial"
	cat >"$ca/ca.cnf" <<-CNF
	[ca]
	default_ca = sl
	[sl]
	database = $ca/index.txt
	serial = $ca/serial
	new_certs_dir = $ca
	default_md = sha256
	policy = any
	copy_extensions = none
	x509_extensions = leaf
	[any]
	commonName = supplied
	[leaf]
	subjectAltName = IP:127.0.0.1,DNS:localhost
	extendedKeyUsage = serverAuth
	basicConstraints = CA:FALSE
	CNF
	_sl_tls_key "$d/expired.key" &&
	openssl req -new -key "$d/expired.key" -subj "/CN=expired" \
		-out "$d/expired.csr" 2>/dev/null &&
	openssl ca -batch -notext -config "$ca/ca.cnf" -cert "$d/ca.crt" \
		-keyfile "$d/ca.key" -startdate 20200101000000Z \
		-enddate 20210101000000Z -in "$d/expired.csr" \
		-out "$d/expired.crt" 2>/dev/null
}

sl_tls_certs() {
	local d=$1 san=IP:127.0.0.1,DNS:localhost
	if ! { _sl_tls_ca "$d" ca "streamlag test CA" &&
		_sl_tls_ca "$d" other-ca "unrelated CA" &&
		_sl_tls_leaf "$d" server ca 1001 "$san" serverAuth &&
		_sl_tls_leaf "$d" server2 other-ca 2001 "$san" serverAuth &&
		_sl_tls_leaf "$d" wrong ca 1002 DNS:wrong.example serverAuth &&
		_sl_tls_leaf "$d" client ca 1003 DNS:client clientAuth &&
		_sl_tls_expired "$d"; }; then
		echo "sl_tls_certs: openssl failed" >&2
		return 1
	fi
}

# sl_start_tls_redis DIR PORT CERT [AUTH_CLIENTS]: Debian's redis-server
# with TLS only (--port 0) on PORT, serving DIR/CERT.crt, verifying clients
# against DIR/ca.crt when AUTH_CLIENTS is yes (default no); with the ACL
# user of sl_start_redis.  Ready once redis-cli answers PING over TLS
# (without checking the certificate: it may be the expired one).
sl_start_tls_redis() {
	local d=$1 port=$2 cert=$3 auth=${4:-no} log
	log=$(sl_log_dir "$d")/redis-tls-$port.log
	# shellcheck disable=SC2086
	redis-server --port 0 --tls-port "$port" --bind 127.0.0.1 --dir "$d" \
		--save '' --appendonly no --daemonize no --logfile "$log" \
		--tls-cert-file "$d/$cert.crt" --tls-key-file "$d/$cert.key" \
		--tls-ca-cert-file "$d/ca.crt" --tls-auth-clients "$auth" \
		--user "$SL_REDIS_USER" $SL_REDIS_ACL >/dev/null 2>&1 &
	SL_REDIS_PID=$!
	SL_PIDS+=("$SL_REDIS_PID")
	sl_wait_ready "$SL_REDIS_PID" 10 "redis-server on TLS port $port" \
		sl_tls_cli "$d" "$port" --insecure PING || { sl_show_log "$log"; return 1; }
}

# sl_tls_cli DIR PORT ARGS...: redis-cli over TLS, trusting DIR/ca.crt
# and presenting the client certificate.
sl_tls_cli() {
	local d=$1 port=$2; shift 2
	redis-cli --tls --cacert "$d/ca.crt" --cert "$d/client.crt" \
		--key "$d/client.key" -h 127.0.0.1 -p "$port" "$@"
}
