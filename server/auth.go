package server

import (
	"context"
	"errors"
	"net/http"
	"slices"
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
type authenticator struct {
	store store.Store
	now   func() time.Time
}

// authAttempt records how each scheme fared, so that a refusal can say
// what was wrong with the credential the caller did send.
type authAttempt struct {
	token, signature error
}

// authenticate is kin-openapi's AuthenticationFunc: it is called once per
// security scheme, in the contract's order, until one succeeds.
func (a *authenticator) authenticate(ctx context.Context, in *openapi3filter.AuthenticationInput) error {
	x := exchangeOf(ctx)
	req := in.RequestValidationInput.Request
	var user string
	var err error
	switch in.SecuritySchemeName {
	case schemeToken:
		user, err = a.byToken(ctx, req)
		x.auth.token = err
	case schemeAKSK:
		user, err = a.bySignature(ctx, req, x.body)
		x.auth.signature = err
	default:
		err = errors.New("unknown security scheme " + in.SecuritySchemeName)
	}
	if err == nil {
		x.caller, x.authKind = user, in.SecuritySchemeName
	}
	return err
}

func (a *authenticator) byToken(ctx context.Context, req *http.Request) (string, error) {
	token := req.Header.Get(headerToken)
	switch {
	case token == "":
		return "", errAbsent
	case len(token) > maxTokenLength:
		return "", unauthorized("X-Auth-Token is longer than %d characters", maxTokenLength)
	}
	var name string
	err := a.store.View(ctx, func(tx store.Tx) error {
		u, err := tx.UserByToken(token)
		name = u.Name
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return "", unauthorized("X-Auth-Token is unknown or expired")
	}
	return name, err
}

func (a *authenticator) bySignature(ctx context.Context, req *http.Request, body []byte) (string, error) {
	auth, err := aksk.FromRequest(req)
	switch {
	case errors.Is(err, aksk.ErrMissing):
		return "", errAbsent
	case err != nil:
		return "", unauthorized("%s", signingMessage(err))
	}
	var u store.User
	var key store.AccessKey
	err = a.store.View(ctx, func(tx store.Tx) (err error) {
		u, key, err = tx.UserByAccessKey(auth.Access)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return "", unauthorized("unknown access key %s", auth.Access)
	} else if err != nil {
		return "", err
	}
	if err := aksk.CheckDate(req, a.now(), aksk.DefaultMaxSkew); err != nil {
		return "", unauthorized("%s", signingMessage(err))
	}
	if err := auth.Verify(req, body, key.SK); err != nil {
		return "", unauthorized("%s", signingMessage(err))
	}
	return u.Name, checkSignedClaims(req, auth.SignedHeaders, u, key)
}

// checkSignedClaims checks what a verified request says about its account:
// the temporary credential's security token, and the domain it acts in.
// Both must be covered by the signature when sent, as the SDK signs them,
// or anyone on the way could add or swap them.
func checkSignedClaims(req *http.Request, signed []string, u store.User, key store.AccessKey) error {
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
	if d := req.Header.Get(headerDomainID); d != "" && d != u.DomainID {
		return newAPIError(http.StatusForbidden, CodeForbidden, "X-Domain-Id does not match the account of the access key")
	}
	return nil
}

// signingMessage words an aksk error for the caller; the package's errors
// say what is wrong without echoing secrets.
func signingMessage(err error) string {
	return "AK/SK signature: " + strings.TrimPrefix(err.Error(), "aksk: ")
}

func unauthorized(format string, args ...any) *apiError {
	return newAPIError(http.StatusUnauthorized, CodeUnauthorized, format, args...)
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
	return unauthorized("authentication required: send X-Auth-Token or an SDK-HMAC-SHA256 signature")
}
