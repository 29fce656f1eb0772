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
	"strconv"
	"strings"
	"time"

	"github.com/osmstub/osmstub/aksk"
	"github.com/osmstub/osmstub/server/store"
)

// casesPath is where every ticket path of the contract starts.
const casesPath = "/v2/servicerequest/cases"

// maxBody is the largest answer the run reads: the client's own limit
// (client/client.go), so that the run takes what an application takes. A
// larger answer is a failure of its own (tooLargeError), not a body cut
// short and then judged as breaking the contract.
const maxBody = 4 << 20

// tooLargeError is an answer longer than maxBody.
type tooLargeError struct {
	status    int
	requestID string
}

func (e *tooLargeError) Error() string {
	id := "no X-Request-Id"
	if e.requestID != "" {
		id = "X-Request-Id " + e.requestID
	}
	return fmt.Sprintf("answer too large: %d (%s) with a body over %d bytes (%d MiB), the most the run and the client read", e.status, id, maxBody, maxBody>>20)
}

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
	target      string // the path and query; see relationsCall
	body        string // sent as is; empty means no body
	contentType string // "" means application/json when there is a body
	bogus       bool   // authenticate with a credential that cannot exist
	// rule says how much of a success is compared with the stub's.
	rule compareRule
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

func (c call) path() string { return c.target }

// relationsCall is a request on the relations of ticket id.
func relationsCall(method, id, body string) call {
	return call{method: method, target: caseTarget(id, "/relations", nil), body: body}
}

// caseTarget is the path of ticket id with suffix ("" for the ticket
// itself) and the query q.
func caseTarget(id, suffix string, q url.Values) string {
	return withQuery(casesPath+"/"+url.PathEscape(id)+suffix, q)
}

func withQuery(path string, q url.Values) string {
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

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

// listedTickets returns the incident IDs of a ListCases answer.
func (r Response) listedTickets() []string {
	var body struct {
		List []struct {
			ID string `json:"incident_id"`
		} `json:"incident_info_list"`
	}
	_ = json.Unmarshal(r.raw, &body)
	var ids []string
	for _, l := range body.List {
		ids = append(ids, l.ID)
	}
	return ids
}

// field returns the string or number at key of a JSON object answer, and
// whether it is there.
func (r Response) field(key string) (string, bool) {
	var body map[string]any
	if json.Unmarshal(r.raw, &body) != nil {
		return "", false
	}
	switch v := body[key].(type) {
	case string:
		return v, true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	}
	return "", false
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
	// One byte over the cap tells a larger answer from one of exactly
	// maxBody bytes.
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return Response{}, fmt.Errorf("read the answer: %w", err)
	}
	if len(raw) > maxBody {
		return Response{}, &tooLargeError{status: resp.StatusCode, requestID: resp.Header.Get("X-Request-Id")}
	}
	return newResponse(resp.StatusCode, resp.Header, raw), nil
}

// reference is the in-process stub every answer is compared with.
type reference struct {
	handler http.Handler
	cred    Credential
	store   store.Store
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
