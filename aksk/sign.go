package aksk

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Sign signs req with the AK/SK pair as the SDK does at time now: it sets
// X-Sdk-Date (now in UTC) and Authorization, replacing any earlier ones.
//
// Like the SDK, when a Content-Type header is present and mentions neither
// application/json nor application/bson, Sign sets X-Sdk-Content-Sha256 to
// UNSIGNED-PAYLOAD, which leaves the body out of the signature. When
// X-Sdk-Content-Sha256 is present the body is not read at all; otherwise it
// is read and put back (Body, GetBody and ContentLength) so that req can
// still be sent. req.Body may be nil.
//
// Host, Content-Length, Accept-Encoding, Transfer-Encoding and Trailer are
// never signed even when present in req.Header: the SDK never signs them and
// net/http may send them differently from what req.Header says.
//
// Sign fails with ErrMalformed when the query string or a header name cannot
// be canonicalized the same way by a server. On error req may be partly
// modified.
func Sign(req *http.Request, ak, sk string, now time.Time) error {
	if err := checkAccess(ak); err != nil {
		return fmt.Errorf("aksk: cannot sign with AK %q: it must be non-empty printable ASCII without spaces or commas", clip(ak))
	}
	if sk == "" {
		return errors.New("aksk: cannot sign with an empty SK")
	}
	if req.Header == nil {
		req.Header = make(http.Header)
	}
	date := now.UTC().Format(DateLayout)
	deleteAll(req.Header, "authorization")
	deleteAll(req.Header, "x-sdk-date")
	req.Header.Set(HeaderDate, date)
	markUnsignedPayload(req.Header)

	signed, err := signableHeaders(req.Header)
	if err != nil {
		return err
	}
	bodyHash, err := signingBodyHash(req)
	if err != nil {
		return err
	}
	cr, err := canonicalRequest(req, signed, bodyHash)
	if err != nil {
		return err
	}
	a := Authorization{
		Access:        ak,
		SignedHeaders: signed,
		Signature:     hex.EncodeToString(signature(sk, StringToSign(cr, date))),
	}
	req.Header.Set(HeaderAuthorization, a.String())
	return nil
}

// deleteAll removes every key that lowercases to lname, not only the
// canonical one, so that a re-signed request carries a single value.
func deleteAll(h http.Header, lname string) {
	for k := range h {
		if strings.EqualFold(k, lname) {
			delete(h, k)
		}
	}
}

// markUnsignedPayload is the SDK's processContentHeader.
func markUnsignedPayload(h http.Header) {
	ct, ok := h["Content-Type"]
	if !ok || len(ct) == 0 {
		return
	}
	if !strings.Contains(ct[0], "application/json") && !strings.Contains(ct[0], "application/bson") {
		h.Set(HeaderContentSha256, UnsignedPayload)
	}
}

// neverSigned are headers that net/http adds, rewrites or drops on its own.
var neverSigned = map[string]bool{
	"host":              true,
	"content-length":    true,
	"accept-encoding":   true,
	"transfer-encoding": true,
	"trailer":           true,
	"authorization":     true,
}

// signableHeaders is the SDK's extractSignedHeaders minus neverSigned.
func signableHeaders(h http.Header) ([]string, error) {
	names := make([]string, 0, len(h))
	for k, vs := range h {
		if len(vs) == 0 {
			continue // net/http sends nothing for it
		}
		lk := strings.ToLower(k)
		if strings.HasPrefix(lk, "content-type") || strings.Contains(k, "_") || neverSigned[lk] {
			continue
		}
		if !isLowerToken(lk) {
			return nil, fmt.Errorf("%w header name %q: not an HTTP token", ErrMalformed, clip(k))
		}
		names = append(names, lk)
	}
	slices.Sort(names)
	return slices.Compact(names), nil // "X-A" and "x-a" are one header
}

// signingBodyHash returns the X-Sdk-Content-Sha256 value if present, else
// hashes the body and puts it back.
func signingBodyHash(req *http.Request) (string, error) {
	if v, ok := contentSha256(req.Header); ok {
		return v, nil
	}
	if req.Body == nil || req.Body == http.NoBody {
		return hashHex(nil), nil
	}
	body, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return "", fmt.Errorf("aksk: reading the body to sign: %w", err)
	}
	restoreBody(req, body)
	return hashHex(body), nil
}

// restoreBody puts body back as http.NewRequest would have set it: an empty
// one is http.NoBody, so that net/http sends Content-Length: 0.
func restoreBody(req *http.Request, body []byte) {
	req.ContentLength = int64(len(body))
	req.GetBody = func() (io.ReadCloser, error) {
		if len(body) == 0 {
			return http.NoBody, nil
		}
		return io.NopCloser(bytes.NewReader(body)), nil
	}
	req.Body, _ = req.GetBody()
}

// contentSha256 returns the trimmed X-Sdk-Content-Sha256 value. The SDK uses
// the raw value, but a server only ever sees it trimmed, so trimming keeps
// Sign and Verify in step over the wire; the SDK itself only sends
// UNSIGNED-PAYLOAD, where both agree.
func contentSha256(h http.Header) (string, bool) {
	if vs := h[HeaderContentSha256]; len(vs) > 0 {
		return strings.TrimSpace(vs[0]), true
	}
	for k, vs := range h {
		if len(vs) > 0 && strings.EqualFold(k, "x-sdk-content-sha256") {
			return strings.TrimSpace(vs[0]), true
		}
	}
	return "", false
}
