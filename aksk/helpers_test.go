package aksk_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
)

// hmacHex is computed here, independently of the package, for tests that
// build an Authorization by hand.
func hmacHex(key, msg string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
