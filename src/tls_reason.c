/* SPDX-License-Identifier: ISC */
/* Why a TLS handshake failed, in the words of tls.h: from the certificate
 * check's result first (it is the precise one), then from the reason of
 * OpenSSL's first error, then from the peer closing. */
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include "streamlag/tls.h"

const char *
sl_tls_failure_words(enum sl_tls_failure f)
{
	switch (f) {
	case SL_TLS_F_OTHER:		return "TLS failure";
	case SL_TLS_F_EXPIRED:		return "expired certificate";
	case SL_TLS_F_NOT_YET_VALID:	return "certificate not yet valid";
	case SL_TLS_F_UNKNOWN_CA:	return "unknown CA";
	case SL_TLS_F_HOSTNAME:		return "host-name mismatch";
	case SL_TLS_F_VERIFY:		return "certificate rejected";
	case SL_TLS_F_TIMEOUT:		return "handshake timeout";
	case SL_TLS_F_PLAINTEXT:	return "plaintext server";
	case SL_TLS_F_CLOSED:
		return "connection closed during the handshake";
	case SL_TLS_F_CLIENT_CERT:	return "client certificate required";
	case SL_TLS_F_CLIENT_REJECTED:	return "client certificate rejected";
	case SL_TLS_F_PROTOCOL:		return "no common protocol or cipher";
	}
	return "TLS failure";
}

static enum sl_tls_failure
from_verify(long verify)
{
	switch (verify) {
	case X509_V_ERR_CERT_HAS_EXPIRED:
		return SL_TLS_F_EXPIRED;
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return SL_TLS_F_NOT_YET_VALID;
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_CERT_UNTRUSTED:
		return SL_TLS_F_UNKNOWN_CA;
	case X509_V_ERR_HOSTNAME_MISMATCH:
	case X509_V_ERR_IP_ADDRESS_MISMATCH:
		return SL_TLS_F_HOSTNAME;
	}
	return SL_TLS_F_VERIFY;
}

/* A server that is not speaking TLS answers bytes that are not a record:
 * Redis's "-ERR ..." reads as a wrong version or a huge length. */
static enum sl_tls_failure
from_reason(int reason)
{
	switch (reason) {
	case SSL_R_WRONG_VERSION_NUMBER:
	case SSL_R_PACKET_LENGTH_TOO_LONG:
	case SSL_R_UNKNOWN_PROTOCOL:
	case SSL_R_RECORD_LENGTH_MISMATCH:
	case SSL_R_HTTP_REQUEST:
		return SL_TLS_F_PLAINTEXT;
	case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
		return SL_TLS_F_CLIENT_CERT;
	case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
	case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
	case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
	case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
	case SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED:
	case SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE:
	case SSL_R_TLSV1_ALERT_ACCESS_DENIED:
		return SL_TLS_F_CLIENT_REJECTED;
	case SSL_R_UNSUPPORTED_PROTOCOL:
	case SSL_R_TLSV1_ALERT_PROTOCOL_VERSION:
	case SSL_R_NO_CIPHERS_AVAILABLE:
	case SSL_R_NO_SHARED_CIPHER:
	case SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE:
	case SSL_R_TLSV1_ALERT_INSUFFICIENT_SECURITY:
		return SL_TLS_F_PROTOCOL;
	case SSL_R_UNEXPECTED_EOF_WHILE_READING:
		return SL_TLS_F_CLOSED;
	}
	return SL_TLS_F_OTHER;
}

enum sl_tls_failure
sl_tls_classify(long verify, int reason, int eof)
{
	enum sl_tls_failure f;

	if (verify != X509_V_OK)
		return from_verify(verify);
	if (reason != 0 && (f = from_reason(reason)) != SL_TLS_F_OTHER)
		return f;
	return eof ? SL_TLS_F_CLOSED : SL_TLS_F_OTHER;
}
