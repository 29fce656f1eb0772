package server

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
)

// Control API error codes for a refused caller.
const (
	CodeStubUnauthorized = "STUB.0003" // 401: the control token is missing or wrong
	CodeStubForbidden    = "STUB.0004" // 403: a call from another site or host
	CodeStubThrottled    = "STUB.0005" // 429: too many wrong control tokens from one address
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

type tokenTries struct {
	mu      sync.Mutex
	now     func() time.Time // the wall clock: the stub's own clock can be stopped
	buckets map[string]*bucket
}

func newTokenTries() *tokenTries {
	return &tokenTries{now: time.Now, buckets: map[string]*bucket{}}
}

// wait returns 0 when addr has a try left, else how long until it has.
func (t *tokenTries) wait(addr string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.buckets[addr] == nil && len(t.buckets) < controlTriesAddrs {
		return 0 // no wrong token yet: nothing to keep
	}
	if b := t.bucket(addr, t.now()); b.tokens < 1 {
		return time.Duration((1 - b.tokens) * float64(controlTriesEvery))
	}
	return 0
}

// fail spends one of addr's tries on a wrong token.
func (t *tokenTries) fail(addr string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.bucket(addr, t.now()).tokens--
}

// bucket returns addr's bucket, refilled up to now. Call with mu held.
func (t *tokenTries) bucket(addr string, now time.Time) *bucket {
	b := t.buckets[addr]
	if b == nil {
		if len(t.buckets) >= controlTriesAddrs {
			t.prune(now)
		}
		if len(t.buckets) >= controlTriesAddrs {
			addr = "" // every address is trying: they share a bucket
			b = t.buckets[addr]
		}
	}
	if b == nil {
		b = &bucket{tokens: controlTriesBurst, last: now}
		t.buckets[addr] = b
	}
	if elapsed := now.Sub(b.last); elapsed > 0 {
		b.tokens = math.Min(controlTriesBurst, b.tokens+float64(elapsed)/float64(controlTriesEvery))
		b.last = now
	}
	return b
}

// prune forgets the addresses whose tries have all come back.
func (t *tokenTries) prune(now time.Time) {
	for addr, b := range t.buckets {
		if b.tokens+float64(now.Sub(b.last))/float64(controlTriesEvery) >= controlTriesBurst {
			delete(t.buckets, addr)
		}
	}
}

// remoteIP is the address a try is counted against: the peer's IP,
// whatever its port.
func remoteIP(req *http.Request) string {
	if host, _, err := net.SplitHostPort(req.RemoteAddr); err == nil {
		return host
	}
	return req.RemoteAddr
}

// controlGuard keeps the control API, which reads every secret and resets
// all state, to those it is meant for: with a token, whoever sends it;
// without one, programs on this machine, and never a web page (CSRF) or a
// DNS-rebound name.
type controlGuard struct {
	token string
	hosts []string    // Host values accepted besides loopback names
	tries *tokenTries // wrong tokens, per remote address
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
		if isLiveViewPage(req) {
			return nil
		}
		// A throttled address is refused before its token is compared,
		// the right one too: the answer tells a guesser nothing.
		addr := remoteIP(req)
		if wait := g.tries.wait(addr); wait > 0 {
			e := newAPIError(http.StatusTooManyRequests, CodeStubThrottled, "control API: too many wrong control tokens from this address; retry later")
			e.RetryAfter = int(math.Ceil(wait.Seconds()))
			return e
		}
		got, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(g.token)) != 1 {
			g.tries.fail(addr)
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
