package conform

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	"github.com/osmstub/osmstub/aksk"
)

// relationsPath is the contract's one path; the scenario only ever acts on
// it.
const relationsPath = "/v2/servicerequest/cases/"

// maxBody is how much of a response the run reads and keeps.
const maxBody = 64 << 10

// Credential is how the run authenticates: an IAM token, or an AK/SK pair
// (with the account's domain ID and a temporary credential's security
// token when there are).
type Credential struct {
	Token         string
	AK, SK        string
	DomainID      string
	SecurityToken string
}

// call is one request of the scenario, described independently of where it
// is sent, so that the same request goes to the endpoint and to the
// reference stub.
type call struct {
	method      string
	caseID      string
	body        string // sent as is; empty means no body
	contentType string // "" means application/json when there is a body
	bogus       bool   // authenticate with a credential that cannot exist
}

// describe is the request as the report shows it: never a credential.
func (c call) describe() string {
	s := c.method + " " + c.path()
	if c.contentType != "" {
		s += " (Content-Type: " + c.contentType + ")"
	}
	if c.bogus {
		s += " (a bogus X-Auth-Token)"
	}
	if c.body != "" {
		s += " " + c.body
	}
	return s
}

func (c call) path() string { return relationsPath + url.PathEscape(c.caseID) + "/relations" }

// Response is what an implementation answered, as the report shows it.
type Response struct {
	Status    int    `json:"status"`
	Code      string `json:"error_code,omitempty"`
	Message   string `json:"error_msg,omitempty"`
	RequestID string `json:"request_id,omitempty"`
	Body      string `json:"body"`

	header http.Header
	raw    []byte
}

// succeeded reports a 200 without a business error code.
func (r Response) succeeded() bool { return r.Status == http.StatusOK && r.Code == "" }

// list returns the entries of a ListRelation answer.
func (r Response) list() []listed {
	var body struct {
		List []listed `json:"case_relation_list"`
	}
	_ = json.Unmarshal(r.raw, &body)
	return body.List
}

// relatedIDs returns the case IDs of a ListRelation answer.
func (r Response) relatedIDs() []string {
	var ids []string
	for _, l := range r.list() {
		ids = append(ids, l.CaseID)
	}
	return ids
}

func newResponse(status int, header http.Header, raw []byte) Response {
	r := Response{Status: status, header: header, raw: raw, RequestID: header.Get("X-Request-Id")}
	var body struct {
		Code string `json:"error_code"`
		Msg  string `json:"error_msg"`
	}
	if json.Unmarshal(raw, &body) == nil {
		r.Code, r.Message = body.Code, body.Msg
	}
	r.Body = string(raw)
	if len(r.Body) > 2000 {
		r.Body = r.Body[:2000] + "…"
	}
	return r
}

// endpoint is the implementation under test, reached over HTTP.
type endpoint struct {
	base string // scheme://host[:port], no trailing slash
	cred Credential
	http *http.Client
}

func (e *endpoint) send(ctx context.Context, c call) (Response, error) {
	req, err := newRequest(ctx, e.base, c, e.cred)
	if err != nil {
		return Response{}, err
	}
	resp, err := e.http.Do(req)
	if err != nil {
		return Response{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return Response{}, fmt.Errorf("read the answer: %w", err)
	}
	return newResponse(resp.StatusCode, resp.Header, raw), nil
}

// reference is the in-process stub every answer is compared with.
type reference struct {
	handler http.Handler
	cred    Credential
}

func (r *reference) send(ctx context.Context, c call) (Response, error) {
	req, err := newRequest(ctx, "http://127.0.0.1", c, r.cred)
	if err != nil {
		return Response{}, err
	}
	w := httptest.NewRecorder()
	r.handler.ServeHTTP(w, req)
	return newResponse(w.Code, w.Header(), w.Body.Bytes()), nil
}

// newRequest builds c for base and authenticates it: an AK/SK signature
// covers the date, so each request is signed when it is built.
func newRequest(ctx context.Context, base string, c call, cred Credential) (*http.Request, error) {
	var body io.Reader
	if c.body != "" {
		body = strings.NewReader(c.body)
	}
	req, err := http.NewRequestWithContext(ctx, c.method, base+c.path(), body)
	if err != nil {
		return nil, err
	}
	if c.body != "" {
		req.Header.Set("Content-Type", cmp.Or(c.contentType, "application/json"))
	}
	// English messages, so that a report reads the same for everyone.
	req.Header.Set("X-Language", "en-us")
	req.Header.Set("User-Agent", "osm-stub-conform")
	if c.bogus {
		req.Header.Set("X-Auth-Token", bogusToken)
		return req, nil
	}
	if cred.Token != "" {
		req.Header.Set("X-Auth-Token", cred.Token)
		return req, nil
	}
	if cred.DomainID != "" {
		req.Header.Set("X-Domain-Id", cred.DomainID)
	}
	if cred.SecurityToken != "" {
		req.Header.Set("X-Security-Token", cred.SecurityToken)
	}
	if err := aksk.Sign(req, cred.AK, cred.SK, time.Now()); err != nil {
		return nil, fmt.Errorf("sign the request: %w", err)
	}
	return req, nil
}

// bogusToken is the credential of the wrong-credential check: no IAM token
// looks like it.
const bogusToken = "osm-stub-conform-bogus-token"
