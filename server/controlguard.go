package server

import (
	"crypto/subtle"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"
)

// Control API error codes for a refused caller.
const (
	CodeStubUnauthorized = "STUB.0003" // 401: the control token is missing or wrong
	CodeStubForbidden    = "STUB.0004" // 403: a call from another site or host
)

// controlGuard keeps the control API, which reads every secret and resets
// all state, to those it is meant for: with a token, whoever sends it;
// without one, programs on this machine, and never a web page (CSRF) or a
// DNS-rebound name.
type controlGuard struct {
	token string
	hosts []string // Host values accepted besides loopback names
}

// guardControl applies the guard to every path under /_stub/, whether or
// not a route serves it, so that nothing there answers an outsider.
func (s *Server) guardControl(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s.control == nil || !strings.HasPrefix(c.Request().URL.Path, controlPrefix) {
			return next(c)
		}
		if err := s.guard.check(c.Request()); err != nil {
			return err
		}
		return next(c)
	}
}

func (g controlGuard) check(req *http.Request) error {
	if crossSite(req) {
		return newAPIError(http.StatusForbidden, CodeStubForbidden, "control API: refused a cross-site request (Origin or Sec-Fetch-Site)")
	}
	if g.token != "" {
		got, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer ")
		if !isLiveViewPage(req) && (!ok || subtle.ConstantTimeCompare([]byte(got), []byte(g.token)) != 1) {
			return newAPIError(http.StatusUnauthorized, CodeStubUnauthorized, "control API: send Authorization: Bearer <control token>")
		}
		return nil
	}
	if !g.hostAllowed(req.Host) {
		return newAPIError(http.StatusForbidden, CodeStubForbidden, "control API: Host %q is not a loopback name; without a control token only loopback callers are served", clipHost(req.Host))
	}
	if hasBody(req) && !isJSON(req.Header.Get("Content-Type")) {
		return newAPIError(http.StatusUnsupportedMediaType, CodeInvalid, "Content-Type must be %s", contentTypeJSON)
	}
	return nil
}

// crossSite reports a request a browser sent on behalf of another site:
// Sec-Fetch-Site says so, or Origin names a host other than the one the
// request was sent to.
func crossSite(req *http.Request) bool {
	switch req.Header.Get("Sec-Fetch-Site") {
	case "cross-site", "same-site":
		return true
	}
	origin := req.Header.Get("Origin")
	if origin == "" {
		return false
	}
	u, err := url.Parse(origin)
	return err != nil || !strings.EqualFold(u.Host, req.Host)
}

func (g controlGuard) hostAllowed(host string) bool {
	if slices.Contains(g.hosts, host) {
		return true
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func hasBody(req *http.Request) bool {
	return req.ContentLength > 0 || (req.ContentLength < 0 && req.Body != nil && req.Body != http.NoBody)
}

func clipHost(h string) string {
	if len(h) > 64 {
		return h[:64] + "..."
	}
	return h
}

// isLiveViewPage is the live view's HTML page, which a browser opens
// without a way to send a bearer token. It holds no data: its script
// fetches the state with the token the user gives it.
func isLiveViewPage(req *http.Request) bool {
	return req.Method == http.MethodGet && req.URL.Path == controlPrefix+"ui"
}
