package control

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"math"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/osmstub/osmstub/internal/ratelimit"

	"github.com/osmstub/osmstub/internal/apierror"
)

// Control API error codes for a refused caller.
const (
	CodeUnauthorized = "STUB.0003" // 401: the control token is missing or wrong
	CodeForbidden    = "STUB.0004" // 403: a call from another site or host
	CodeThrottled    = "STUB.0005" // 429: too many wrong control tokens from one address
)

// MinControlTokenLen is the fewest characters a control token may have:
// the token guards every secret, and wrong guesses are only slowed down.
const MinControlTokenLen = 16

// ErrWeakControlToken is CheckControlToken's refusal.
var ErrWeakControlToken = errors.New("control token too weak")

// CheckControlToken refuses a control token that is blank, has spaces
// around it (an HTTP header cannot carry them, so it could never be sent)
// or is shorter than MinControlTokenLen. The error never shows the token.
func CheckControlToken(token string) error {
	switch n := utf8.RuneCountInString(token); {
	case strings.TrimSpace(token) == "":
		return fmt.Errorf("%w: it is blank", ErrWeakControlToken)
	case strings.TrimSpace(token) != token:
		return fmt.Errorf("%w: it begins or ends with white space, which no Authorization header can carry", ErrWeakControlToken)
	case n < MinControlTokenLen:
		return fmt.Errorf("%w: want at least %d characters, got %d (e.g. openssl rand -hex 16)", ErrWeakControlToken, MinControlTokenLen, n)
	}
	return nil
}

// Wrong control tokens are throttled per remote address: a burst of
// controlTriesBurst tries, then one every controlTriesEvery. Only a wrong
// token spends a try, so a caller with the right one is never slowed;
// wrong tries sent in parallel may take the balance below zero, and the
// address then waits that much longer.
const (
	controlTriesBurst = 10
	controlTriesEvery = time.Second
	// controlTriesAddrs bounds the addresses tracked; past it, new
	// addresses share one bucket.
	controlTriesAddrs = 1024
)

// remoteIP is the address a try is counted against: the peer's IP,
// whatever its port.
func remoteIP(req *http.Request) string {
	if host, _, err := net.SplitHostPort(req.RemoteAddr); err == nil {
		return host
	}
	return req.RemoteAddr
}

// Guard keeps the control API, which reads every secret and resets
// all state, to those it is meant for: with a token, whoever sends it;
// without one, programs on this machine, and never a web page (CSRF) or a
// DNS-rebound name.
type Guard struct {
	token string
	hosts []string                   // Host values accepted besides loopback names
	tries *ratelimit.Limiter[string] // wrong tokens, per remote address
	now   func() time.Time           // the wall clock: the stub's own clock can be stopped
}

// Prefix is where the control API lives.
const Prefix = "/_stub/"

// NewGuard is the guard of a control API with token (none: loopback
// callers only) that also serves the Host values hosts.
func NewGuard(token string, hosts []string) *Guard {
	return &Guard{token: token, hosts: hosts, now: time.Now,
		tries: ratelimit.New(1/controlTriesEvery.Seconds(), controlTriesBurst, controlTriesAddrs, "")}
}

// SetClock sets the wall clock that gives back wrong tokens' tries, for
// tests.
func (g *Guard) SetClock(now func() time.Time) { g.now = now }

// Middleware applies the guard to every path under /_stub/, whether or
// not a route serves it, so that nothing there answers an outsider.
func (g *Guard) Middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !strings.HasPrefix(c.Request().URL.Path, Prefix) {
			return next(c)
		}
		if err := g.check(c.Request()); err != nil {
			return err
		}
		return next(c)
	}
}

func (g *Guard) check(req *http.Request) error {
	if CrossSite(req) {
		return apierror.New(http.StatusForbidden, CodeForbidden, "control API: refused a cross-site request (Origin or Sec-Fetch-Site)")
	}
	if g.token != "" {
		if isLiveViewPage(req) {
			return nil
		}
		// A throttled address is refused before its token is compared,
		// the right one too: the answer tells a guesser nothing.
		addr := remoteIP(req)
		if wait := g.tries.Wait(addr, g.now()); wait > 0 {
			e := apierror.New(http.StatusTooManyRequests, CodeThrottled, "control API: too many wrong control tokens from this address; retry later")
			e.RetryAfter = int(math.Ceil(wait.Seconds()))
			return e
		}
		got, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(g.token)) != 1 {
			g.tries.Spend(addr, g.now())
			return apierror.New(http.StatusUnauthorized, CodeUnauthorized, "control API: send Authorization: Bearer <control token>")
		}
		return nil
	}
	if !g.HostAllowed(req.Host) {
		return apierror.New(http.StatusForbidden, CodeForbidden, "control API: Host %q is not a loopback name; without a control token only loopback callers are served", ClipHost(req.Host))
	}
	if mt, _, _ := mime.ParseMediaType(req.Header.Get("Content-Type")); HasBody(req) && mt != "application/json" {
		return apierror.New(http.StatusUnsupportedMediaType, apierror.CodeInvalid, "Content-Type must be application/json")
	}
	return nil
}

// CrossSite reports a request a browser sent on behalf of another site:
// Sec-Fetch-Site says so, or Origin names a host other than the one the
// request was sent to.
func CrossSite(req *http.Request) bool {
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

// HostAllowed reports whether host is a loopback name or one the guard
// was given: a name a DNS-rebinding page cannot use.
func (g *Guard) HostAllowed(host string) bool {
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

// HasBody reports whether req carries a body, announced or chunked.
func HasBody(req *http.Request) bool {
	return req.ContentLength > 0 || (req.ContentLength < 0 && req.Body != nil && req.Body != http.NoBody)
}

// ClipHost is a Host value short enough to quote in a message.
func ClipHost(h string) string {
	if len(h) > 64 {
		return h[:64] + "..."
	}
	return h
}

// isLiveViewPage is the live view's HTML page, which a browser opens
// without a way to send a bearer token. It holds no data: its script
// fetches the state with the token the user gives it.
func isLiveViewPage(req *http.Request) bool {
	return req.Method == http.MethodGet && req.URL.Path == Prefix+"ui"
}
