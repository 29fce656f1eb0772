package storeopen

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// mask replaces every secret Redact hides.
const mask = "xxxxx"

// Redact hides the secrets of a store spec, for logs and errors: the
// password of a URL's user info, the value of every query parameter whose
// name ends in "password" (password, sslpassword), and, in a keyword/value
// string such as pgx also accepts (host=... password='...'), the value of
// every such keyword, quoted or not. A URL that does not parse, or has an
// '@' after its host, is hidden whole but for its scheme, since where its
// secrets end cannot be told.
//
// A spec of neither form with an '@' in it (postgres:/u:pw@h, a mistyped
// URL) is hidden up to its last '@', but for a leading "word:"; a
// sqlite: spec is a path and shown as it is.
func Redact(spec string) string {
	if scheme, _, ok := strings.Cut(spec, "://"); ok && !strings.ContainsAny(strings.TrimSpace(scheme), " \t\n\r\f\v=") {
		return redactURL(spec, scheme)
	}
	switch {
	case strings.HasPrefix(spec, "sqlite:"):
		return spec
	case keywordForm.MatchString(spec):
		return redactKeywords(spec)
	}
	return redactUserInfo(spec)
}

// keywordForm is a spec that begins as pgx's keyword/value strings do:
// a keyword, then '='. A mistyped URL with a query (postgres:/u:pw@h?a=b)
// is not one.
var keywordForm = regexp.MustCompile(`^\s*[A-Za-z_]+\s*=`)

// redactUserInfo hides what comes before the last '@' of s, but for a
// leading scheme such as "postgres:".
func redactUserInfo(s string) string {
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return s
	}
	prefix := ""
	if colon := strings.IndexByte(s[:at], ':'); colon > 0 && !strings.ContainsAny(s[:colon], "/ \t") {
		prefix = s[:colon+1]
	}
	return prefix + mask + s[at:]
}

func redactURL(spec, scheme string) string {
	u, err := url.Parse(spec)
	if err != nil || misplacedAt(u) {
		return scheme + "://" + mask
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), mask)
	}
	if u.RawQuery != "" {
		parts := strings.Split(u.RawQuery, "&")
		for i, p := range parts {
			k, _, _ := strings.Cut(p, "=")
			if name, err := url.QueryUnescape(k); err != nil || secretKey(name) {
				parts[i] = k + "=" + mask
			}
		}
		u.RawQuery = strings.Join(parts, "&")
	}
	return u.String()
}

// misplacedAt reports an '@' after a URL's host: user info whose password
// holds a '/', '?' or '#', which cannot be told from the rest.
func misplacedAt(u *url.URL) bool {
	return strings.Contains(u.Path, "@") || strings.Contains(u.RawQuery, "@") || strings.Contains(u.Fragment, "@")
}

// secretKey reports whether a parameter or keyword names a secret.
func secretKey(name string) bool {
	return strings.HasSuffix(strings.ToLower(strings.TrimSpace(name)), "password")
}

// redactKeywords masks the values of secret keywords in a keyword/value
// string, read as libpq and pgx read it: keyword, optional spaces, '=',
// optional spaces, then a value in single quotes or up to the next space,
// with backslash escapes in both.
//
// Words that are no keyword's (password=se cret, unquoted) are malformed
// and may be the rest of a secret: they are masked too.
func redactKeywords(s string) string {
	var b strings.Builder
	for {
		eq := strings.IndexByte(s, '=')
		if eq < 0 {
			b.WriteString(maskJunk(s))
			return b.String()
		}
		key := s[:eq]
		if sp := strings.LastIndexAny(strings.TrimRight(key, spaces), spaces); sp >= 0 {
			b.WriteString(maskJunk(key[:sp+1]))
			key = key[sp+1:]
		}
		b.WriteString(key + "=")
		rest := s[eq+1:]
		lead := len(rest) - len(strings.TrimLeft(rest, spaces))
		b.WriteString(rest[:lead])
		n := valueLen(rest[lead:])
		if secretKey(key) {
			b.WriteString(mask)
		} else {
			b.WriteString(rest[lead : lead+n])
		}
		s = rest[lead+n:]
	}
}

// spaces separate the keywords and values of a keyword/value string.
const spaces = " \t\n\r\f\v"

// maskJunk is s with its words, if any, replaced by one mask: text
// between a value and the next keyword, or after the last value.
func maskJunk(s string) string {
	if strings.TrimSpace(s) == "" {
		return s
	}
	lead := s[:len(s)-len(strings.TrimLeft(s, spaces))]
	trail := s[len(strings.TrimRight(s, spaces)):]
	return lead + mask + trail
}

// valueLen is the length of the value at the start of s: a quoted value
// with its quotes (to the end of s if unterminated), or a bare one up to
// the first space.
func valueLen(s string) int {
	quoted := strings.HasPrefix(s, "'")
	i := 0
	if quoted {
		i = 1
	}
	for i < len(s) {
		switch c := s[i]; {
		case c == '\\':
			i += 2
			continue
		case quoted && c == '\'':
			return i + 1
		case !quoted && strings.IndexByte(spaces, c) >= 0:
			return i
		}
		i++
	}
	return len(s)
}

// redactedError is an error whose text has had a spec's secrets hidden;
// errors.Is and errors.As still see the original.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redactError hides, in err's text, the spec and every secret in it:
// drivers quote connection strings in their errors (pgx redacts what it
// recognises; this does not rely on it).
func redactError(err error, spec string) error {
	if err == nil {
		return nil
	}
	msg := strings.ReplaceAll(err.Error(), spec, Redact(spec))
	for _, s := range secrets(spec) {
		msg = strings.ReplaceAll(msg, s, mask)
	}
	if msg == err.Error() {
		return err
	}
	return &redactedError{msg: msg, err: err}
}

// secrets lists the secret values in spec, raw and as they may be
// written (percent-encoded, quoted), longest first so that no part of a
// longer one is left behind.
func secrets(spec string) []string {
	var out []string
	add := func(v string) {
		if v != "" && v != mask {
			out = append(out, v, url.QueryEscape(v), url.PathEscape(v))
		}
	}
	if u, err := url.Parse(spec); err == nil && strings.Contains(spec, "://") {
		if p, ok := u.User.Password(); ok {
			add(p)
		}
		for k, vs := range u.Query() {
			if secretKey(k) {
				for _, v := range vs {
					add(v)
				}
			}
		}
	}
	for _, v := range keywordSecrets(spec) {
		add(v)
	}
	// Longest first: replacing "ab" before "abc" would leave "c".
	slices.SortStableFunc(out, func(a, b string) int { return len(b) - len(a) })
	return out
}

// keywordSecrets returns the raw values of secret keywords in a
// keyword/value string: what redactKeywords masks.
func keywordSecrets(s string) []string {
	red := redactKeywords(s)
	if red == s {
		return nil
	}
	// Walk both strings: each mask in red stands for one value in s.
	var out []string
	for {
		i := strings.Index(red, mask)
		if i < 0 || i > len(s) || s[:i] != red[:i] {
			return out
		}
		n := valueLen(s[i:])
		if v := strings.Trim(s[i:i+n], "'"); len(v) > 0 {
			out = append(out, s[i:i+n], v)
		}
		s, red = s[i+n:], red[i+len(mask):]
	}
}
