package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/osmstub/osmstub/client"
	"github.com/osmstub/osmstub/internal/cassette"
	"github.com/osmstub/osmstub/server"
)

// proxyConfig is the flags of proxy mode, recording and replay, and
// response checks (docs/proxy.md).
type proxyConfig struct {
	upstream          string
	upstreamTimeout   time.Duration
	strict            bool
	record            string
	replay            string
	replayMatch       string
	validateResponses bool
	// Who the proxy serves (server.Options.ProxyCaller and the rest).
	callerAK, callerSK, callerToken string
	passTokens, unsafeDemo          bool
}

// The proxy's caller credential: the SK only from the environment, so
// that it is never on a command line others can list.
const (
	envProxySK    = "OSM_STUB_PROXY_SK"
	envProxyToken = "OSM_STUB_PROXY_TOKEN"
)

func addProxyFlags(fs *flag.FlagSet, c *proxyConfig) {
	fs.StringVar(&c.upstream, "upstream", "", "proxy mode: forward every valid contract request to this base URL, e.g. https://osm.cn-south-1.myhuaweicloud.com, and check its answers against the contract; signed requests are signed again with HUAWEICLOUD_SDK_AK/SK (env OSM_STUB_UPSTREAM)")
	fs.DurationVar(&c.upstreamTimeout, "upstream-timeout", server.DefaultUpstreamTimeout, "proxy mode: how long one exchange with the upstream may take before a 504 (env OSM_STUB_UPSTREAM_TIMEOUT)")
	fs.BoolVar(&c.strict, "strict", false, "proxy mode: answer an upstream answer that breaks the contract with 502 and the violation (env OSM_STUB_STRICT)")
	fs.StringVar(&c.record, "record", "", "proxy mode: append every exchange to this cassette file (JSON lines, secrets redacted) (env OSM_STUB_RECORD)")
	fs.StringVar(&c.replay, "replay", "", "serve the answers of this cassette file instead of an upstream (env OSM_STUB_REPLAY)")
	fs.StringVar(&c.replayMatch, "replay-match", cassette.DefaultMatch.String(), "replay: the parts of a request that must equal a recorded one: method, path, query, body (env OSM_STUB_REPLAY_MATCH)")
	fs.StringVar(&c.callerAK, "proxy-ak", "", "proxy mode: the access key the proxy's callers sign with (its secret key only from "+envProxySK+"); their requests are signed again with HUAWEICLOUD_SDK_AK/SK (env OSM_STUB_PROXY_AK)")
	c.callerSK = os.Getenv(envProxySK)
	fs.StringVar(&c.callerToken, "proxy-token", "", "proxy mode: a token (16 characters or more) the proxy's callers send as X-Auth-Token; their requests are signed again with HUAWEICLOUD_SDK_AK/SK (env "+envProxyToken+")")
	fs.BoolVar(&c.passTokens, "proxy-pass-tokens", false, "proxy mode: pass X-Auth-Token values the stub cannot verify to the upstream as they are (never signed again), from loopback callers only (env OSM_STUB_PROXY_PASS_TOKENS)")
	fs.BoolVar(&c.unsafeDemo, "proxy-unsafe-demo-credentials", false, "proxy mode: UNSAFE: sign again with your real key the requests of anyone who has the fixtures' credentials, which are public demo data; loopback only, for an upstream that is itself a test stub (env OSM_STUB_PROXY_UNSAFE_DEMO_CREDENTIALS)")
	fs.BoolVar(&c.validateResponses, "validate-responses", false, "check every answer the stub itself gives against the contract; violations at GET /_stub/violations (env OSM_STUB_VALIDATE_RESPONSES)")
}

func (c proxyConfig) check() error {
	switch {
	case c.upstream != "" && c.replay != "":
		return errors.New("-upstream and -replay: choose one")
	case c.record != "" && c.upstream == "":
		return errors.New("-record needs -upstream")
	case c.upstreamTimeout <= 0:
		return fmt.Errorf("-upstream-timeout: want a positive duration, got %s", c.upstreamTimeout)
	}
	if _, err := cassette.ParseMatch(c.replayMatch); err != nil {
		return fmt.Errorf("-replay-match: %w", err)
	}
	if c.upstream == "" {
		for _, f := range []struct {
			name string
			set  bool
		}{{"-proxy-ak", c.callerAK != ""}, {"-proxy-token", c.callerToken != ""}, {"-proxy-pass-tokens", c.passTokens}, {"-proxy-unsafe-demo-credentials", c.unsafeDemo}} {
			if f.set {
				return fmt.Errorf("%s needs -upstream", f.name)
			}
		}
		return nil
	}
	if err := (server.ProxyCaller{AK: c.callerAK, SK: c.callerSK, Token: c.callerToken}).Check(); err != nil {
		return fmt.Errorf("-proxy-ak with %s, or -proxy-token: %w", envProxySK, err)
	}
	return nil
}

// hasCaller reports whether the operator gave the proxy's callers a
// credential of their own.
func (c proxyConfig) hasCaller() bool { return c.callerAK != "" || c.callerToken != "" }

// checkProxyExposure refuses a proxy that others could use to act as the
// operator's account: off loopback, only with a caller credential, and
// never with the public demo credentials.
func checkProxyExposure(c config) error {
	if c.proxy.upstream == "" || isLoopback(c.addr) {
		return nil
	}
	if c.proxy.unsafeDemo {
		return fmt.Errorf("-proxy-unsafe-demo-credentials: refused on -addr %s, which is reachable from other hosts: the demo credentials are public", c.addr)
	}
	if !c.proxy.hasCaller() {
		return fmt.Errorf("-addr %s is reachable from other hosts and the proxy signs with your key: give its callers a credential with -proxy-token (or %s), or -proxy-ak and %s", c.addr, envProxyToken, envProxySK)
	}
	return nil
}

// apply sets the proxy's server options; the returned function closes the
// cassette being recorded.
func (c proxyConfig) apply(opts *server.Options, log *slog.Logger) (func(), error) {
	opts.ValidateResponses = c.validateResponses
	opts.Strict, opts.UpstreamTimeout = c.strict, c.upstreamTimeout
	switch {
	case c.replay != "":
		return func() {}, c.applyReplay(opts, log)
	case c.upstream == "":
		return func() {}, nil
	}
	u, err := url.Parse(c.upstream)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("-upstream %s: want an http(s) URL such as https://osm.cn-south-1.myhuaweicloud.com", server.RedactURL(c.upstream))
	}
	opts.Upstream = u
	if ak, sk := os.Getenv(client.EnvAK), os.Getenv(client.EnvSK); ak != "" && sk != "" {
		opts.UpstreamKey = &server.UpstreamKey{AK: ak, SK: sk, DomainID: os.Getenv(client.EnvDomainID), SecurityToken: os.Getenv(client.EnvSecurityToken)}
	}
	if c.hasCaller() {
		opts.ProxyCaller = &server.ProxyCaller{AK: c.callerAK, SK: c.callerSK, Token: c.callerToken}
	}
	opts.ProxyPassTokens, opts.ProxyUnsafeFixtureCredentials = c.passTokens, c.unsafeDemo
	log.Info("proxy mode", slog.String("upstream", server.RedactURL(c.upstream)), slog.Bool("signs", opts.UpstreamKey != nil),
		slog.Bool("caller_key", c.callerAK != ""), slog.Bool("caller_token", c.callerToken != ""), slog.Bool("pass_tokens", c.passTokens),
		slog.Duration("timeout", c.upstreamTimeout), slog.Bool("strict", c.strict))
	if c.unsafeDemo {
		log.Warn("proxy mode: -proxy-unsafe-demo-credentials: anyone with the public demo credentials acts as the account of HUAWEICLOUD_SDK_AK")
	}
	if !c.hasCaller() && !c.passTokens && !c.unsafeDemo {
		log.Warn("proxy mode: no caller credential, so every request is refused: set -proxy-token (or " + envProxyToken + "), or -proxy-ak and " + envProxySK)
	}
	if c.record == "" {
		return func() {}, nil
	}
	f, err := os.OpenFile(c.record, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("-record: %w", err)
	}
	opts.Record = f
	log.Info("recording", slog.String("cassette", c.record))
	return func() { _ = f.Close() }, nil
}

func (c proxyConfig) applyReplay(opts *server.Options, log *slog.Logger) error {
	f, err := os.Open(c.replay)
	if err != nil {
		return fmt.Errorf("-replay: %w", err)
	}
	defer f.Close()
	xs, err := cassette.Read(f)
	if err != nil {
		return fmt.Errorf("-replay %s: %w", c.replay, err)
	}
	m, _ := cassette.ParseMatch(c.replayMatch) // checked by check
	opts.Replay = cassette.NewPlayer(xs, m)
	log.Info("replaying", slog.String("cassette", c.replay), slog.Int("exchanges", len(xs)), slog.String("match", m.String()))
	return nil
}

// cassetteFixtures is `osm-stub cassette-fixtures -in FILE -out FILE`: a
// recorded session as a fixtures file.
func cassetteFixtures(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("osm-stub cassette-fixtures", flag.ContinueOnError)
	fs.SetOutput(out)
	in := fs.String("in", "", "the cassette (-record's file)")
	to := fs.String("out", "", "the fixtures file to write")
	fs.Usage = func() {
		fmt.Fprintf(out, "Usage: osm-stub cassette-fixtures -in CASSETTE -out FIXTURES\n\nTurns a recorded session into fixtures: the tickets it saw, their owners and descriptions\nwhere an answer named them, and the associations as they stood at the end.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *in == "" || *to == "" || fs.NArg() > 0 {
		fs.Usage()
		return errors.New("cassette-fixtures: want -in CASSETTE -out FIXTURES and no other argument")
	}
	f, err := os.Open(*in)
	if err != nil {
		return err
	}
	defer f.Close()
	xs, err := cassette.Read(f)
	if err != nil {
		return err
	}
	d, err := cassette.Fixtures(xs)
	if err != nil {
		return fmt.Errorf("cassette-fixtures: the session does not make valid fixtures: %w", err)
	}
	data, err := yaml.Marshal(d)
	if err != nil {
		return err
	}
	data = append([]byte("# Fixtures from the cassette "+*in+" (osm-stub cassette-fixtures).\n# Every user's token is <name>-token; tickets no answer gave an owner belong to "+cassette.CallerName+".\n"), data...)
	return os.WriteFile(*to, data, 0o644)
}
