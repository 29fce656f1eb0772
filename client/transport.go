package client

import (
	"fmt"
	"net/http"

	"github.com/osmstub/osmstub/aksk"
)

type doerFunc func(*http.Request) (*http.Response, error)

func (f doerFunc) Do(req *http.Request) (*http.Response, error) { return f(req) }

// send performs one call: attempts, each freshly authenticated (an AK/SK
// signature covers the date, so every attempt is signed anew), with waits
// between them as the retry policy says.
func (c *Client) send(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	p := c.cfg.retry
	start := c.cfg.now()
	for attempt := 1; ; attempt++ {
		resp, err := c.attempt(req)
		if attempt >= p.MaxAttempts || ctx.Err() != nil || !p.retryable(repeatOf(req), resp, err) {
			return resp, err
		}
		wait := max(p.backoff(attempt), retryAfter(resp, c.cfg.now()))
		if p.MaxElapsed > 0 && c.cfg.now().Add(wait).Sub(start) > p.MaxElapsed {
			return resp, err
		}
		if resp != nil {
			resp.Body.Close()
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("after %d attempts: %w", attempt, ctx.Err())
		case <-c.cfg.sleep(wait):
		}
	}
}

func (c *Client) attempt(orig *http.Request) (*http.Response, error) {
	req := orig.Clone(orig.Context())
	if orig.GetBody != nil {
		body, err := orig.GetBody()
		if err != nil {
			return nil, err
		}
		req.Body = body
	}
	req.Header.Set("User-Agent", c.cfg.userAgent)
	if err := c.authenticate(req); err != nil {
		return nil, err
	}
	return c.cfg.httpClient.Do(req)
}

func (c *Client) authenticate(req *http.Request) error {
	if c.cfg.token != "" {
		req.Header.Set("X-Auth-Token", c.cfg.token)
		return nil
	}
	if c.cfg.domainID != "" {
		req.Header.Set("X-Domain-Id", c.cfg.domainID)
	}
	if c.cfg.securityToken != "" {
		req.Header.Set("X-Security-Token", c.cfg.securityToken)
	}
	if err := aksk.Sign(req, c.cfg.ak, c.cfg.sk, c.cfg.now()); err != nil {
		return fmt.Errorf("sign request: %w", err)
	}
	return nil
}
