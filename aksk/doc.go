// Package aksk implements Huawei Cloud's AK/SK request signature with the
// algorithm SDK-HMAC-SHA256, exactly as the official Go SDK
// (github.com/huaweicloud/huaweicloud-sdk-go-v3 v0.1.207, core/auth/signer)
// produces it. A client signs with [Sign]; a server checks with [Verify] and
// [CheckDate].
//
// # The scheme
//
// The signer adds two headers:
//
//	X-Sdk-Date: 20240102T030405Z
//	Authorization: SDK-HMAC-SHA256 Access=<AK>, SignedHeaders=<a;b;c>, Signature=<hex>
//
// SignedHeaders lists, lowercased, sorted and joined by ";", every header of
// the request at signing time except names starting with "content-type" and
// names containing "_". X-Sdk-Date is therefore always signed. (Sign also
// never signs Host, Content-Length, Accept-Encoding, Transfer-Encoding and
// Trailer, which the SDK never has at signing time and net/http manages.)
//
// The canonical request is six parts joined by "\n":
//
//  1. the method;
//  2. the canonical URI: the decoded path with every byte except
//     A-Z a-z 0-9 - _ . ~ and "/" written as %XX (uppercase), plus a final
//     "/" unless it already ends with one ("" and "/" both give "/");
//  3. the canonical query: keys sorted, the values of a key sorted (both
//     before escaping, as the SDK does), esc(k)=esc(v) joined by "&";
//  4. the canonical headers: for each signed header, in the listed order,
//     and for each of its values (trimmed with strings.TrimSpace, then
//     sorted), "name:" + value + "\n"; the block thus ends with "\n";
//  5. the signed-header list;
//  6. the lowercase hex SHA-256 of the body bytes, or the value of
//     X-Sdk-Content-Sha256 when that header is present (UNSIGNED-PAYLOAD).
//
// The string to sign is "SDK-HMAC-SHA256\n" + X-Sdk-Date + "\n" +
// hex(SHA-256(canonical request)), and the signature is the lowercase hex
// HMAC-SHA256 of it keyed with the SK bytes.
//
// Note that the AK itself is not covered by the signature: it only selects
// the SK. A server binds it by looking the SK up from the Access field.
//
// # Server use
//
//	a, err := aksk.FromRequest(r)        // ErrMissing, ErrMalformed
//	sk, ok := secrets[a.Access]          // unknown AK: the server's own error
//	err = aksk.Verify(r, body, sk)       // ErrMalformed, ErrDate, ErrBadSignature
//	err = aksk.CheckDate(r, time.Now(), aksk.DefaultMaxSkew) // ErrDate, ErrSkew
//
// All errors wrap one of the sentinels below and are meant to be told apart
// with errors.Is; their text says what exactly is wrong.
package aksk

import (
	"errors"
	"time"
)

const (
	// Algorithm is the first word of the Authorization header.
	Algorithm = "SDK-HMAC-SHA256"
	// HeaderDate carries the signing time in DateLayout, UTC.
	HeaderDate = "X-Sdk-Date"
	// HeaderAuthorization carries the credential and the signature.
	HeaderAuthorization = "Authorization"
	// HeaderContentSha256, when present, replaces the body hash in the
	// canonical request.
	HeaderContentSha256 = "X-Sdk-Content-Sha256"
	// UnsignedPayload is the HeaderContentSha256 value that leaves the body
	// out of the signature.
	UnsignedPayload = "UNSIGNED-PAYLOAD"
	// DateLayout is the time layout of HeaderDate.
	DateLayout = "20060102T150405Z"
	// DefaultMaxSkew is the clock difference Huawei's API gateway tolerates.
	DefaultMaxSkew = 15 * time.Minute
)

// Sentinel errors. Every error returned by this package for a bad request
// wraps exactly one of them.
var (
	// ErrMissing: the request has no Authorization header.
	ErrMissing = errors.New("aksk: no Authorization header")
	// ErrMalformed: the Authorization header, or a part of the request the
	// signature covers (query string, header name), cannot be parsed.
	ErrMalformed = errors.New("aksk: malformed")
	// ErrBadSignature: the signature does not match the request, including
	// when a header listed in SignedHeaders is absent from the request.
	ErrBadSignature = errors.New("aksk: signature mismatch")
	// ErrDate: X-Sdk-Date is missing or not in DateLayout.
	ErrDate = errors.New("aksk: bad X-Sdk-Date")
	// ErrSkew: X-Sdk-Date is too far from the server clock.
	ErrSkew = errors.New("aksk: X-Sdk-Date outside the allowed window")
)
