package server

import (
	"net/url"
	"strings"
)

// urlMask replaces what RedactURL hides.
const urlMask = "xxxxx"

// RedactURL is raw fit for a log, an error message or -h: its user info,
// query and fragment, any of which may hold a credential, are hidden. So
// is everything after the scheme of a URL that does not parse or names no
// host, and a path with an '@' in it (user info whose password holds a
// '/'), since where their secrets end cannot be told.
func RedactURL(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" || strings.Contains(u.Path, "@") {
		scheme, _, ok := strings.Cut(raw, "://")
		if !ok || scheme == "" || strings.ContainsAny(scheme, "@:/?#% \t\r\n") {
			return urlMask
		}
		return scheme + "://" + urlMask
	}
	if u.User != nil {
		u.User = url.User(urlMask)
	}
	if u.RawQuery != "" || u.ForceQuery {
		u.RawQuery, u.ForceQuery = urlMask, false
	}
	if u.Fragment != "" {
		u.Fragment, u.RawFragment = urlMask, ""
	}
	return u.String()
}
