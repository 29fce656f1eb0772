package server

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"hash/fnv"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/osmstub/osmstub/aksk"
	"github.com/osmstub/osmstub/server/store"
)

// Security scheme names in openapi.yaml.
const (
	schemeToken = "token"
	schemeAKSK  = "aksk"
)

const (
	headerToken         = "X-Auth-Token"
	headerDomainID      = "X-Domain-Id"
	headerSecurityToken = "X-Security-Token"
	maxTokenLength      = 5000
)

// errAbsent marks a scheme whose credential the request did not carry.
var errAbsent = errors.New("credential absent")

// authenticator resolves the caller of a request from either credential:
// an X-Auth-Token, or an SDK-HMAC-SHA256 signature by a known access key.
// It works in two steps so that nobody without a credential makes the
// stub read a body: resolve looks at the headers alone, before the body
// is read; authenticate, kin-openapi's AuthenticationFunc, finishes the
// job (a signature needs the body) during validation.
type authenticator struct {
	store store.Store
	now   func() time.Time
	// passTokens accepts any token of a valid length without looking it
	// up: the upstream verifies tokens, which the stub's store does not
	// know (replay mode, and proxy mode with Options.ProxyPassTokens).
	passTokens bool
	// caller is the operator's credential for callers of the proxy; nil
	// outside proxy mode or when none is configured.
	caller *ProxyCaller
	// refuseFixtures refuses the store's credentials (the fixtures', public
	// demo data) in proxy mode: the proxy signs with real credentials.
	refuseFixtures bool
}

// proxyMode sets how the authenticator treats callers in proxy mode.
func (a *authenticator) proxyMode(opts Options, p *proxy) error {
	switch {
	case p == nil:
		return nil
	case p.replay: // a cassette: nothing real is reached
		a.passTokens = true
		return nil
	}
	a.passTokens = opts.ProxyPassTokens
	a.refuseFixtures = !opts.ProxyUnsafeFixtureCredentials
	if c := opts.ProxyCaller; c != nil && *c != (ProxyCaller{}) {
		if err := c.Check(); err != nil {
			return fmt.Errorf("server: Options.ProxyCaller: %w", err)
		}
		a.caller = c
	}
	return nil
}

// authAttempt records how each scheme fared, so that a refusal can say
// what was wrong with the credential the caller did send.
type authAttempt struct {
	token, signature error

	tokenUser string             // the token's user, when token is nil
	header    aksk.Authorization // the parsed signature header
	keyUser   store.User         // the access key's user, when keyFound
	key       store.AccessKey
	keyFound  bool

	// Proxy mode: the token, or the access key, is the operator's
	// ProxyCaller; or the token is passed to the upstream unverified.
	tokenOperator, keyOperator, tokenPassed bool
}

// operator reports whether the request carries the operator's proxy
// credential that may still succeed.
func (a *authAttempt) operator() bool {
	return a.tokenOperator && a.token == nil || a.keyOperator && a.keyFound
}

// hopeful reports whether a credential may still succeed once the body
// is read: a valid token, or a signature by a known access key.
func (a *authAttempt) hopeful() bool { return a.token == nil || a.keyFound }

// resolve checks what the headers alone can show: the token, and whether
// the signature's access key exists.
func (a *authenticator) resolve(ctx context.Context, req *http.Request, at *authAttempt) {
	at.tokenUser, at.token = a.byToken(ctx, req, at)
	at.header, at.signature = aksk.FromRequest(req)
	switch {
	case errors.Is(at.signature, aksk.ErrMissing):
		at.signature = errAbsent
		return
	case at.signature != nil:
		at.signature = unauthorized("%s", signingMessage(at.signature))
		return
	}
	if c := a.caller; c != nil && c.AK != "" && subtle.ConstantTimeCompare([]byte(at.header.Access), []byte(c.AK)) == 1 {
		at.keyUser = store.User{Name: ProxyCallerName}
		at.key = store.AccessKey{AK: c.AK, SK: c.SK}
		at.keyFound, at.keyOperator = true, true
		return
	}
	err := a.store.View(ctx, func(tx store.Tx) (err error) {
		at.keyUser, at.key, err = tx.UserByAccessKey(at.header.Access)
		return err
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		at.signature = unauthorized("Get secretKey failed, err: ak not exist: %s", at.header.Access)
	case err != nil:
		at.signature = err
	case a.refuseFixtures:
		at.signature = unauthorized("%s", msgFixtureProxy)
	default:
		at.keyFound = true
	}
}

// authenticate is kin-openapi's AuthenticationFunc: it is called once per
// security scheme, in the contract's order, until one succeeds. It uses
// what resolve found.
func (a *authenticator) authenticate(ctx context.Context, in *openapi3filter.AuthenticationInput) error {
	x := exchangeOf(ctx)
	at := &x.auth
	switch in.SecuritySchemeName {
	case schemeToken:
		if at.token == nil {
			x.caller, x.authKind = at.tokenUser, schemeToken
		}
		return at.token
	case schemeAKSK:
		if at.keyFound {
			at.signature = a.verify(in.RequestValidationInput.Request, x.body, at)
		}
		if at.signature == nil {
			x.caller, x.authKind = at.keyUser.Name, schemeAKSK
		}
		return at.signature
	}
	return errors.New("unknown security scheme " + in.SecuritySchemeName)
}

func (a *authenticator) byToken(ctx context.Context, req *http.Request, at *authAttempt) (string, error) {
	token := req.Header.Get(headerToken)
	switch {
	case token == "":
		return "", errAbsent
	case len(token) > maxTokenLength:
		return "", unauthorized("X-Auth-Token is longer than %d characters", maxTokenLength)
	case a.caller != nil && a.caller.Token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(a.caller.Token)) == 1:
		at.tokenOperator = true
		return ProxyCallerName, nil
	case a.passTokens:
		at.tokenPassed = true
		return passedToken(token), nil
	}
	var name string
	err := a.store.View(ctx, func(tx store.Tx) error {
		u, err := tx.UserByToken(token)
		name = u.Name
		return err
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return "", unauthorized("decrypt token fail: X-Auth-Token is unknown or expired")
	case err == nil && a.refuseFixtures:
		return "", unauthorized("%s", msgFixtureProxy)
	}
	return name, err
}

// verify checks a known access key's signature over the request and its
// body, its date, and what it claims about the account.
func (a *authenticator) verify(req *http.Request, body []byte, at *authAttempt) error {
	if err := aksk.CheckDate(req, a.now(), aksk.DefaultMaxSkew); err != nil {
		return unauthorized("%s", signingMessage(err))
	}
	if err := at.header.Verify(req, body, at.key.SK); err != nil {
		return unauthorized("%s", signingMessage(err))
	}
	return checkSignedClaims(req, at.header.SignedHeaders, at.keyUser, at.key, at.keyOperator)
}

// checkSignedClaims checks what a verified request says about its account:
// the temporary credential's security token, and the domain it acts in.
// Both must be covered by the signature when sent, as the SDK signs them,
// or anyone on the way could add or swap them.
// The proxy's caller (anyDomain) may name any domain: the proxy replaces
// it with its own key's.
func checkSignedClaims(req *http.Request, signed []string, u store.User, key store.AccessKey, anyDomain bool) error {
	for _, h := range []string{headerSecurityToken, headerDomainID} {
		if req.Header.Get(h) != "" && !slices.Contains(signed, strings.ToLower(h)) {
			return unauthorized("%s is sent but not listed in SignedHeaders", h)
		}
	}
	sent := req.Header.Get(headerSecurityToken)
	switch {
	case key.SecurityToken != "" && sent != key.SecurityToken:
		return unauthorized("X-Security-Token does not match the temporary access key")
	case key.SecurityToken == "" && sent != "":
		return unauthorized("X-Security-Token sent with a permanent access key")
	}
	if d := req.Header.Get(headerDomainID); d != "" && d != u.DomainID && !anyDomain {
		return gatewayError(http.StatusForbidden, CodeForbidden, msgForbidden+"X-Domain-Id does not match the account of the access key")
	}
	return nil
}

// signingMessage words an aksk error for the caller after the gateway's
// own phrase; the package's errors say what is wrong without echoing
// secrets.
func signingMessage(err error) string {
	return "verify aksk signature fail: " + strings.TrimPrefix(err.Error(), "aksk: ")
}

// unauthorized is the gateway's answer to a credential it cannot accept:
// its fixed prefix, then the reason.
func unauthorized(format string, args ...any) *apiError {
	return gatewayError(http.StatusUnauthorized, CodeUnauthorized, msgUnauthorized+fmt.Sprintf(format, args...))
}

// failure is the refusal for a request no scheme accepted: the error of
// the credential that was sent (a signature's first, since a request
// carrying both most likely meant it), or a request to authenticate.
func (a authAttempt) failure() error {
	for _, err := range []error{a.signature, a.token} {
		var e *apiError
		if errors.As(err, &e) {
			return e
		}
		if err != nil && !errors.Is(err, errAbsent) {
			return err // a store failure: a 500
		}
	}
	return unauthorized("no credential: send X-Auth-Token or an SDK-HMAC-SHA256 signature")
}

// passedToken names the caller of a token passed to the upstream, for the
// rate limit and the log: a hash, never the token.
func passedToken(token string) string {
	h := fnv.New64a()
	h.Write([]byte(token))
	return "upstream-token-" + strconv.FormatUint(h.Sum64(), 16)
}
