package client

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"
)

// Option configures a Client. Options are checked in New, so a bad one
// fails there and not on the first call.
type Option func(*config) error

// Site selects the X-Site header.
type Site int

// Sites of the service.
const (
	ChinaSite         Site = 0
	InternationalSite Site = 1
)

type config struct {
	token         string
	ak, sk        string
	domainID      string
	securityToken string
	fromEnv       bool
	language      string
	timeZone      string
	site          *Site
	httpClient    *http.Client
	userAgent     string
	retry         RetryPolicy
	now           func() time.Time
	sleep         func(time.Duration) <-chan time.Time
}

// WithToken authenticates with an IAM token, sent as X-Auth-Token.
func WithToken(token string) Option {
	return headerOption("token", token, MaxTokenLen, func(c *config) { c.token = token })
}

// WithAKSK signs every request with an access key and its secret, as the
// official SDKs do (SDK-HMAC-SHA256).
func WithAKSK(ak, sk string) Option {
	return func(c *config) error {
		if ak == "" || sk == "" {
			return &ArgumentError{"WithAKSK", "needs both an access key and a secret key"}
		}
		if err := checkHeader("WithAKSK", ak, MaxTokenLen); err != nil {
			return err
		}
		c.ak, c.sk = ak, sk
		return nil
	}
}

// WithDomainID sends X-Domain-Id (the account ID) with signed requests.
func WithDomainID(id string) Option {
	return headerOption("WithDomainID", id, MaxTokenLen, func(c *config) { c.domainID = id })
}

// WithSecurityToken sends X-Security-Token with signed requests, for
// temporary AK/SK credentials.
func WithSecurityToken(token string) Option {
	return headerOption("WithSecurityToken", token, MaxTokenLen, func(c *config) { c.securityToken = token })
}

// Environment variables read by WithCredentialsFromEnv: the ones Huawei
// Cloud's SDKs use.
const (
	EnvAK            = "HUAWEICLOUD_SDK_AK"
	EnvSK            = "HUAWEICLOUD_SDK_SK"
	EnvDomainID      = "HUAWEICLOUD_SDK_DOMAIN_ID"
	EnvSecurityToken = "HUAWEICLOUD_SDK_SECURITY_TOKEN"
)

// WithCredentialsFromEnv signs with the AK/SK in HUAWEICLOUD_SDK_AK and
// HUAWEICLOUD_SDK_SK, and sends HUAWEICLOUD_SDK_DOMAIN_ID and
// HUAWEICLOUD_SDK_SECURITY_TOKEN when they are set.
func WithCredentialsFromEnv() Option {
	return func(c *config) error {
		ak, sk := os.Getenv(EnvAK), os.Getenv(EnvSK)
		if ak == "" || sk == "" {
			return fmt.Errorf("osm: WithCredentialsFromEnv: %s and %s must both be set", EnvAK, EnvSK)
		}
		c.ak, c.sk, c.fromEnv = ak, sk, true
		if d := os.Getenv(EnvDomainID); d != "" {
			c.domainID = d
		}
		if t := os.Getenv(EnvSecurityToken); t != "" {
			c.securityToken = t
		}
		return nil
	}
}

// WithLanguage sets X-Language (e.g. "en-us"; the service defaults to zh-cn).
func WithLanguage(lang string) Option {
	return headerOption("language", lang, MaxHeaderValueLen, func(c *config) { c.language = lang })
}

// WithTimeZone sets X-Time-Zone (e.g. "GMT+8", the service's default).
func WithTimeZone(tz string) Option {
	return headerOption("timeZone", tz, MaxHeaderValueLen, func(c *config) { c.timeZone = tz })
}

// WithSite sets X-Site.
func WithSite(s Site) Option {
	return func(c *config) error {
		if s != ChinaSite && s != InternationalSite {
			return &ArgumentError{"site", fmt.Sprintf("is %d, want ChinaSite (0) or InternationalSite (1)", s)}
		}
		c.site = &s
		return nil
	}
}

// WithHTTPClient sends requests through hc (timeouts, proxies, TLS).
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error {
		if hc == nil {
			return &ArgumentError{"WithHTTPClient", "client is nil"}
		}
		c.httpClient = hc
		return nil
	}
}

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option {
	return headerOption("WithUserAgent", ua, 1024, func(c *config) { c.userAgent = ua })
}

// WithRetry replaces the retry policy (DefaultRetry).
func WithRetry(p RetryPolicy) Option {
	return func(c *config) error {
		if err := p.check(); err != nil {
			return err
		}
		c.retry = p
		return nil
	}
}

// headerOption is an option whose value is sent as a header: set runs once
// checkHeader has accepted it.
func headerOption(arg, v string, maxLen int, set func(*config)) Option {
	return func(c *config) error {
		if err := checkHeader(arg, v, maxLen); err != nil {
			return err
		}
		set(c)
		return nil
	}
}

func (c *config) check() error {
	hasAKSK := c.ak != ""
	switch {
	case c.token != "" && hasAKSK:
		return errors.New("osm: WithToken and AK/SK signing are alternatives; choose one")
	case c.token == "" && !hasAKSK:
		return errors.New("osm: no credential: use WithToken, WithAKSK or WithCredentialsFromEnv")
	case !hasAKSK && (c.domainID != "" || c.securityToken != ""):
		return errors.New("osm: WithDomainID and WithSecurityToken need AK/SK signing")
	}
	return nil
}
