package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/routers"
	"github.com/labstack/echo/v4"

	"github.com/osmstub/osmstub/aksk"
	"github.com/osmstub/osmstub/internal/cassette"
	"github.com/osmstub/osmstub/internal/violation"
	"github.com/osmstub/osmstub/server/control"
)

// Proxy mode: with Options.Upstream (or Options.Replay), a contract
// request that passes the gate and validation is forwarded instead of
// served, and the answer is checked against the contract before it is
// passed on unchanged. Tokens go through as they are (the upstream
// verifies them; the stub cannot); a signed request is verified against
// the stub's own keys and signed again with the proxy's key, since a
// signature covers the host it was made for.

// UpstreamKey is the AK/SK the proxy signs forwarded requests with, and
// what it sends with them: the HUAWEICLOUD_SDK_* variables of the SDKs.
type UpstreamKey struct {
	AK, SK        string
	DomainID      string // sent as X-Domain-Id when set
	SecurityToken string // sent as X-Security-Token when set (a temporary key)
}

// Who the proxy serves. The proxy signs with the operator's real key, so
// it must not act for just anyone (a confused deputy): it re-signs only
// requests that carry the operator's ProxyCaller credential, or, when the
// operator opts in with Options.ProxyUnsafeFixtureCredentials, the
// fixtures' (public) credentials. Tokens the stub cannot verify are passed
// on unverified only with Options.ProxyPassTokens, and never re-signed.
// A request without the operator's credential must also come from this
// machine's own programs: a loopback Host (or one of ControlHosts), not a
// web page (no cross-site Origin or Sec-Fetch-Site), as for the control
// API; this stops DNS rebinding.

// ProxyCaller is the credential the operator gives the proxy's callers:
// an access key pair they sign with (as the SDKs do), a token they send
// as X-Auth-Token, or both. It is not the upstream's: the proxy verifies
// it and signs the forwarded request with UpstreamKey.
type ProxyCaller struct {
	AK, SK string
	Token  string
}

// ProxyCallerName is the caller's name in the journal and the log when it
// authenticated with the ProxyCaller credential.
const ProxyCallerName = "proxy-caller"

// MinProxySecret is the shortest ProxyCaller SK or token accepted.
const MinProxySecret = 16

// ErrWeakProxyCaller is Check's refusal.
var ErrWeakProxyCaller = errors.New("proxy caller credential refused")

// Check refuses a credential a guesser could find or that cannot be used:
// an SK or a token shorter than MinProxySecret, a token with white space
// around it (no header carries it), an SK without its AK. The error never
// shows a secret.
func (c ProxyCaller) Check() error {
	switch {
	case c.AK != "" && len(strings.TrimSpace(c.SK)) < MinProxySecret:
		return fmt.Errorf("%w: the secret key of access key %s: want %d characters or more", ErrWeakProxyCaller, c.AK, MinProxySecret)
	case c.AK == "" && c.SK != "":
		return fmt.Errorf("%w: a secret key without its access key", ErrWeakProxyCaller)
	case c.Token != "" && len(strings.TrimSpace(c.Token)) < MinProxySecret:
		return fmt.Errorf("%w: the token: want %d characters or more", ErrWeakProxyCaller, MinProxySecret)
	case strings.TrimSpace(c.Token) != c.Token:
		return fmt.Errorf("%w: the token begins or ends with white space, which no X-Auth-Token header can carry", ErrWeakProxyCaller)
	}
	return nil
}

const msgFixtureProxy = "proxy mode: the stub's own (fixture) credentials are public demo data and are not signed again with the proxy's key; use the proxy's caller credential (OSM_STUB_PROXY_TOKEN, or sign with OSM_STUB_PROXY_AK/SK)"

// guardProxy applies, in proxy mode, the control API's exposure rules to
// a contract request that does not carry the operator's credential.
func (s *Server) guardProxy(req *http.Request, at *authAttempt) error {
	if s.proxy == nil || s.proxy.replay {
		return nil
	}
	if control.CrossSite(req) {
		return gatewayError(http.StatusForbidden, CodeForbidden, msgForbidden+"proxy mode: refused a cross-site request (Origin or Sec-Fetch-Site)")
	}
	if !at.operator() && !s.guard.HostAllowed(req.Host) {
		return gatewayError(http.StatusForbidden, CodeForbidden, msgForbidden+fmt.Sprintf("proxy mode: Host %q is not a loopback name; from elsewhere, only the proxy's caller credential is served", control.ClipHost(req.Host)))
	}
	return nil
}

// DefaultUpstreamTimeout bounds one forwarded exchange.
const DefaultUpstreamTimeout = 30 * time.Second

// maxUpstreamBody caps the answer the proxy reads.
const maxUpstreamBody = 8 << 20

// Messages of the gateway's backend failures (its list gives both the
// code of a body too large, APIGW.0201).
const (
	msgBackendTimeout = "Backend timeout."
	msgBadResponse    = "Backend unavailable. The upstream's answer breaks the contract: "
)

type proxy struct {
	base    *url.URL // scheme, host and path prefix of the upstream
	client  *http.Client
	timeout time.Duration
	key     *UpstreamKey
	strict  bool
	replay  bool // a cassette answers, not a server
	record  *cassette.Recorder
	now     func() time.Time
}

// newProxy builds the proxy of opts, or nil without Upstream or Replay.
func newProxy(opts Options, now func() time.Time) (*proxy, error) {
	p := &proxy{timeout: opts.UpstreamTimeout, key: opts.UpstreamKey, strict: opts.Strict, now: now}
	if p.timeout <= 0 {
		p.timeout = DefaultUpstreamTimeout
	}
	if opts.Record != nil {
		p.record = cassette.NewRecorder(opts.Record)
	}
	var rt http.RoundTripper
	switch {
	case opts.Replay != nil:
		p.base, rt, p.replay = &url.URL{Scheme: "http", Host: "replay.invalid"}, opts.Replay, true
	case opts.Upstream != nil:
		u := *opts.Upstream
		if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
			return nil, fmt.Errorf("server: upstream %s: want an http or https URL with a host", RedactURL(u.String()))
		}
		u.User, u.RawQuery, u.Fragment = nil, "", ""
		u.Path, u.RawPath = strings.TrimSuffix(u.Path, "/"), ""
		p.base, rt = &u, upstreamTransport(p.timeout)
	default:
		return nil, nil
	}
	// No redirect is followed: every request goes to the upstream, and a
	// 3xx is an answer to check like any other.
	p.client = &http.Client{Transport: rt, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return p, nil
}

// upstreamTransport talks to the upstream only: no proxy from the
// environment, and every phase of the exchange bounded.
func upstreamTransport(timeout time.Duration) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil
	t.DialContext = (&net.Dialer{Timeout: min(timeout, 10*time.Second), KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = min(timeout, 10*time.Second)
	t.ResponseHeaderTimeout = timeout
	t.MaxIdleConnsPerHost = 64 // one upstream takes all the traffic
	return t
}

// forward serves a contract request in proxy mode. It comes last in the
// chain: the request has been authenticated and validated.
func (s *Server) forward(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s.proxy == nil {
			return next(c)
		}
		return s.proxy.serve(c, s.contractRoute(c), s)
	}
}

func (p *proxy) serve(c echo.Context, route *routers.Route, s *Server) error {
	req := c.Request()
	x := exchangeOf(req.Context())
	x.forwarded = true
	ctx, cancel := context.WithTimeout(req.Context(), p.timeout)
	defer cancel()
	out, err := p.outbound(ctx, req, x)
	if err != nil {
		return err
	}
	sent := cassette.Request{Method: out.Method, Path: out.URL.EscapedPath(), Query: out.URL.RawQuery, Header: out.Header.Clone(), Body: x.body}
	resp, err := p.client.Do(out)
	var body []byte
	if err == nil {
		body, err = io.ReadAll(io.LimitReader(resp.Body, maxUpstreamBody+1))
		resp.Body.Close()
		if err == nil && len(body) > maxUpstreamBody {
			err = fmt.Errorf("the answer is larger than %d bytes", maxUpstreamBody)
		}
	}
	if err != nil {
		return p.failure(req.Context(), err)
	}
	header := inboundHeader(resp.Header)
	vs := violation.CheckRouteResponse(route, resp.StatusCode, header, body)
	upstreamID := header.Get(headerRequestID)
	for i := range vs {
		vs[i].RequestID, vs[i].UpstreamRequestID = x.id, upstreamID
	}
	s.violations.Add(vs...)
	if p.record != nil {
		xc := cassette.Exchange{Time: p.now().UTC(), Operation: route.Operation.OperationID, Request: sent,
			Response: cassette.Response{Status: resp.StatusCode, Header: header, Body: body}}
		if err := p.record.Record(xc); err != nil {
			s.log.Error("record the exchange", slog.String("request_id", x.id), slog.Any("error", err))
		}
	}
	if p.strict && len(vs) > 0 {
		return gatewayError(http.StatusBadGateway, CodeBackend, msgBadResponse+joinViolations(vs))
	}
	h := c.Response().Header()
	clear(h) // the stub's own X-Request-Id: the caller gets the upstream's answer as it is
	for k, v := range header {
		h[k] = v
	}
	c.Response().WriteHeader(resp.StatusCode)
	_, err = c.Response().Write(body)
	return err
}

// outbound is the request to send upstream: the caller's, with its
// validated body, less the hop-by-hop headers, and signed again when the
// caller signed it.
func (p *proxy) outbound(ctx context.Context, req *http.Request, x *exchange) (*http.Request, error) {
	u := *p.base
	u.Path = p.base.Path + req.URL.Path
	u.RawPath = p.base.Path + req.URL.EscapedPath()
	u.RawQuery = req.URL.RawQuery
	out, err := http.NewRequestWithContext(ctx, req.Method, u.String(), bytes.NewReader(x.body))
	if err != nil {
		return nil, fmt.Errorf("proxy: build the upstream request: %w", err)
	}
	if len(x.body) == 0 {
		out.Body, out.GetBody, out.ContentLength = http.NoBody, nil, 0
	}
	out.Header = outboundHeader(req.Header)
	if x.authKind == schemeToken && x.auth.tokenPassed {
		out.Header.Del(aksk.HeaderAuthorization) // a signature is for the stub's host only
		return out, nil
	}
	return out, p.sign(out)
}

// outboundHeader is what of the caller's headers goes upstream: not the
// hop-by-hop ones, nor what the caller's side of the connection knows
// (cookies, forwarding headers the proxy did not set).
func outboundHeader(h http.Header) http.Header {
	out := withoutHopHeaders(h)
	out.Del("Accept-Encoding") // the transport asks for gzip and decodes it
	out.Del("Cookie")
	out.Del("Forwarded")
	for name := range out {
		if strings.HasPrefix(name, "X-Forwarded-") || name == "X-Real-Ip" {
			delete(out, name)
		}
	}
	return out
}

// inboundHeader is what of the upstream's headers reaches the caller:
// not the hop-by-hop ones, nor cookies or CORS grants, which are the
// upstream's to give for its own origin, not the stub's.
func inboundHeader(h http.Header) http.Header {
	out := withoutHopHeaders(h)
	out.Del("Set-Cookie")
	for name := range out {
		if strings.HasPrefix(name, "Access-Control-") || name == "Timing-Allow-Origin" {
			delete(out, name)
		}
	}
	return out
}

// sign replaces the caller's signature, verified by the stub, with the
// proxy's own.
func (p *proxy) sign(out *http.Request) error {
	for _, h := range []string{aksk.HeaderAuthorization, aksk.HeaderDate, aksk.HeaderContentSha256, headerSecurityToken, headerDomainID, headerToken} {
		out.Header.Del(h)
	}
	if p.replay {
		return nil // a cassette checks no signature
	}
	if p.key == nil || p.key.AK == "" || p.key.SK == "" {
		return unauthorized("the proxy has no access key of its own to sign the forwarded request with: start it with HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK set")
	}
	if p.key.DomainID != "" {
		out.Header.Set(headerDomainID, p.key.DomainID)
	}
	if p.key.SecurityToken != "" {
		out.Header.Set(headerSecurityToken, p.key.SecurityToken)
	}
	if err := aksk.Sign(out, p.key.AK, p.key.SK, p.now()); err != nil {
		return fmt.Errorf("proxy: sign the upstream request: %w", err)
	}
	return nil
}

// failure maps a failed exchange to the gateway's answer: 504 when the
// upstream did not answer in time, else 502.
func (p *proxy) failure(callerCtx context.Context, err error) error {
	if callerCtx.Err() != nil {
		return callerCtx.Err() // the caller left: nobody to answer
	}
	var noMatch *cassette.NoMatchError
	if errors.As(err, &noMatch) {
		return gatewayError(http.StatusBadGateway, CodeBackend, msgUnavailable+" "+noMatch.Error())
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
		return gatewayError(http.StatusGatewayTimeout, CodeBackend, fmt.Sprintf("%s proxy: no answer from %s within %s", msgBackendTimeout, p.base.Host, p.timeout))
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // its URL is the request's; the host is named below
	}
	return gatewayError(http.StatusBadGateway, CodeBackend, fmt.Sprintf("%s proxy: %s: %v", msgUnavailable, p.base.Host, err))
}

// hopHeaders belong to one connection and are not passed on.
var hopHeaders = []string{"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade", "Host", "Content-Length"}

func withoutHopHeaders(h http.Header) http.Header {
	out := h.Clone()
	if out == nil {
		out = http.Header{}
	}
	for _, c := range h.Values("Connection") {
		for _, name := range strings.Split(c, ",") {
			out.Del(strings.TrimSpace(name))
		}
	}
	for _, name := range hopHeaders {
		out.Del(name)
	}
	return out
}

func joinViolations(vs []violation.Violation) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = v.String()
	}
	return strings.Join(parts, "; ")
}

// requestViolations records, in proxy mode, the rules a refused request
// broke: what a caller sends that the contract does not allow.
func (s *Server) requestViolations(x *exchange, err error) {
	if s.proxy == nil || x.route == nil {
		return
	}
	vs := violation.CheckRequestError(x.route, err)
	for i := range vs {
		vs[i].RequestID = x.id
	}
	s.violations.Add(vs...)
}

// Violation is one rule of the contract one exchange broke.
type Violation = violation.Violation

// Violations returns the contract violations seen (the newest
// violation.MaxKept, oldest first) and how many there were in all: in
// proxy mode those of requests and of the upstream's answers, with
// Options.ValidateResponses those of the stub's own answers.
func (s *Server) Violations() ([]Violation, int) { return s.violations.List() }

// ClearViolations forgets the violations seen.
func (s *Server) ClearViolations() { s.violations.Clear() }

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
