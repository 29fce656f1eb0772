package aksk

import (
	"crypto/hmac"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"
)

// Verify checks the SDK-HMAC-SHA256 signature of a received request. body
// is the request body the server already read (req.Body is not touched); sk
// is the secret the server looked up for the Access field (see FromRequest).
//
// Errors wrap ErrMissing, ErrMalformed (Authorization header or query string
// unparseable), ErrDate (X-Sdk-Date missing or not in DateLayout) or
// ErrBadSignature. A header listed in SignedHeaders but absent from the
// request is ErrBadSignature: the request is not the one that was signed.
//
// X-Sdk-Date need not be listed in SignedHeaders (the SDK always lists it):
// the date is part of the string to sign, so it is covered anyway.
// X-Sdk-Content-Sha256, when present, must be listed, or anyone could add
// it with the old body hash and swap the body; and unless it is
// UNSIGNED-PAYLOAD it must equal the hash of body.
//
// Verify does not look at the clock: call CheckDate for that.
func Verify(req *http.Request, body []byte, sk string) error {
	a, err := FromRequest(req)
	if err != nil {
		return err
	}
	return a.Verify(req, body, sk)
}

// Verify is the package's Verify for a server that has already parsed the
// request's Authorization header (with FromRequest, to look up the SK), so
// that the header is parsed once.
func (a Authorization) Verify(req *http.Request, body []byte, sk string) error {
	if sk == "" {
		return errors.New("aksk: Verify needs a non-empty SK")
	}
	date, _, err := requestDate(req)
	if err != nil {
		return err
	}
	bodyHash, err := verifyingBodyHash(req, a.SignedHeaders, body)
	if err != nil {
		return err
	}
	cr, err := canonicalRequest(req, a.SignedHeaders, bodyHash)
	if err != nil {
		return err
	}
	var got [32]byte
	if _, err := hex.Decode(got[:], []byte(a.Signature)); err != nil {
		return fmt.Errorf("%w Authorization header: Signature: %v", ErrMalformed, err) // ParseAuthorization already checked
	}
	if !hmac.Equal(got[:], signature(sk, StringToSign(cr, date))) {
		return fmt.Errorf("%w: the request differs from what was signed, or the SK is not the one it was signed with", ErrBadSignature)
	}
	return nil
}

func verifyingBodyHash(req *http.Request, signed []string, body []byte) (string, error) {
	v, ok := contentSha256(req.Header)
	if !ok {
		return hashHex(body), nil
	}
	if !slices.Contains(signed, "x-sdk-content-sha256") {
		return "", fmt.Errorf("%w: %s is present but not signed", ErrBadSignature, HeaderContentSha256)
	}
	if v != UnsignedPayload && v != hashHex(body) {
		return "", fmt.Errorf("%w: body does not match %s", ErrBadSignature, HeaderContentSha256)
	}
	return v, nil
}

// RequestTime returns the signing time from X-Sdk-Date. Errors wrap ErrDate.
func RequestTime(req *http.Request) (time.Time, error) {
	_, t, err := requestDate(req)
	return t, err
}

// requestDate returns X-Sdk-Date as sent (the string to sign uses it
// verbatim) and parsed. It must be exactly DateLayout: time.Parse alone also
// takes some odd forms, and those must not sign the same as the canonical one.
func requestDate(req *http.Request) (string, time.Time, error) {
	v := req.Header.Get(HeaderDate)
	if v == "" {
		return "", time.Time{}, fmt.Errorf("%w: the %s header is missing", ErrDate, HeaderDate)
	}
	t, err := time.Parse(DateLayout, v)
	if err != nil || t.Format(DateLayout) != v {
		return "", time.Time{}, fmt.Errorf("%w: %q is not a UTC time in layout %s", ErrDate, clip(v), DateLayout)
	}
	return v, t, nil
}

// CheckDate checks that X-Sdk-Date is within maxSkew of now in either
// direction. Errors wrap ErrDate (missing or unparseable) or ErrSkew; the
// ErrSkew text says whether the request is too old or in the future.
func CheckDate(req *http.Request, now time.Time, maxSkew time.Duration) error {
	t, err := RequestTime(req)
	if err != nil {
		return err
	}
	// Compare instants, not now.Sub(t): Sub saturates for dates centuries
	// away and the negated minimum Duration is still negative.
	switch {
	case t.Before(now.Add(-maxSkew)):
		return fmt.Errorf("%w: signed %s ago, more than %s", ErrSkew, now.Sub(t), maxSkew)
	case t.After(now.Add(maxSkew)):
		return fmt.Errorf("%w: signed %s in the future, more than %s", ErrSkew, t.Sub(now), maxSkew)
	}
	return nil
}
