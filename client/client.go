package client

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/osmstub/osmstub/gen/osmclient"
)

// DefaultUserAgent is sent unless WithUserAgent says otherwise.
const DefaultUserAgent = "osmstub-client/1"

// Client calls the OSM v2 service-ticket API. It is safe for concurrent use.
type Client struct {
	api *osmclient.Client
	cfg config
}

// Relation is a ticket associated with another.
type Relation struct {
	CaseID      string // the associated ticket
	Description string // its simple_description
	Owner       string // user_name: the user who owns it
}

// New returns a Client for endpoint, the service's base URL such as
// Endpoint("ap-southeast-3") (https://osm.ap-southeast-3.myhuaweicloud.com)
// or the URL of a stub. It needs exactly one
// credential: WithToken, WithAKSK or WithCredentialsFromEnv.
func New(endpoint string, opts ...Option) (*Client, error) {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, &ArgumentError{"endpoint", fmt.Sprintf("%q is not an http(s) URL with a host", endpoint)}
	}
	c := &Client{cfg: config{
		httpClient: http.DefaultClient,
		userAgent:  DefaultUserAgent,
		retry:      DefaultRetry,
		now:        time.Now,
		sleep:      time.After,
	}}
	for _, opt := range opts {
		if err := opt(&c.cfg); err != nil {
			return nil, err
		}
	}
	if err := c.cfg.check(); err != nil {
		return nil, err
	}
	c.api, err = osmclient.NewClient(endpoint, osmclient.WithHTTPClient(doerFunc(c.send)))
	if err != nil {
		return nil, fmt.Errorf("osm: %w", err)
	}
	return c, nil
}

// CreateRelations associates each of relatedIDs (1 to 3) with caseID.
// groupID is the IAM user group through which the caller may act on
// tickets of other members; "" sends none, which is enough when the caller
// owns every ticket involved. Pairs already associated are accepted.
func (c *Client) CreateRelations(ctx context.Context, caseID string, relatedIDs []string, groupID string) error {
	if err := checkCreate(caseID, relatedIDs, groupID); err != nil {
		return err
	}
	params := &osmclient.CreateRelationsParams{XLanguage: c.lang(), XTimeZone: c.tz(), XSite: site[osmclient.CreateRelationsParamsXSite](c.cfg.site)}
	body := osmclient.CreateRelationsRequestBody{RelatedIdList: relatedIDs, GroupId: optional(groupID)}
	resp, err := c.api.CreateRelations(ctx, caseID, params, body)
	return c.result("CreateRelations", resp, err, nil)
}

// ListRelations returns the tickets associated with caseID, in the order
// they were associated.
func (c *Client) ListRelations(ctx context.Context, caseID string) ([]Relation, error) {
	if err := checkLen("caseID", caseID, MaxCaseIDLen); err != nil {
		return nil, err
	}
	params := &osmclient.ListRelationParams{XLanguage: c.lang(), XTimeZone: c.tz(), XSite: site[osmclient.ListRelationParamsXSite](c.cfg.site)}
	resp, err := c.api.ListRelation(ctx, caseID, params)
	var body osmclient.RelationList
	if err := c.result("ListRelation", resp, err, &body); err != nil {
		return nil, err
	}
	out := []Relation{}
	for _, r := range deref(body.CaseRelationList) {
		out = append(out, Relation{CaseID: deref(r.CaseId), Description: deref(r.SimpleDescription), Owner: deref(r.UserName)})
	}
	return out, nil
}

// DeleteRelation removes the association between caseID and relatedID.
// groupID is optional as in CreateRelations ("" sends none). Removing a
// pair that is not associated succeeds.
func (c *Client) DeleteRelation(ctx context.Context, caseID, relatedID, groupID string) error {
	if err := checkDelete(caseID, relatedID, groupID); err != nil {
		return err
	}
	params := &osmclient.DeleteRelationParams{XLanguage: c.lang(), XTimeZone: c.tz(), XSite: site[osmclient.DeleteRelationParamsXSite](c.cfg.site)}
	body := osmclient.DeleteRelationRequestBody{RelatedId: relatedID, GroupId: optional(groupID)}
	resp, err := c.api.DeleteRelation(ctx, caseID, params, body)
	return c.result("DeleteRelation", resp, err, nil)
}

func (c *Client) lang() *string { return optional(c.cfg.language) }
func (c *Client) tz() *string   { return optional(c.cfg.timeZone) }

// site converts the X-Site option to an operation's own parameter type.
func site[T ~int](s *Site) *T {
	if s == nil {
		return nil
	}
	v := T(*s)
	return &v
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}

// result turns the final attempt's outcome into nil, an *APIError or a
// wrapped transport error, decoding a 200 body into out when it is given.
func (c *Client) result(op string, resp *http.Response, err error, out any) error {
	if err != nil {
		return fmt.Errorf("osm %s: %w", op, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("osm %s: read response: %w", op, err)
	}
	var e osmclient.ErrorBody
	decodeErr := json.Unmarshal(data, &e)
	apiErr := &APIError{Operation: op, StatusCode: resp.StatusCode, Code: deref(e.ErrorCode), Message: deref(e.ErrorMsg),
		RequestID: cmp.Or(deref(e.RequestId), resp.Header.Get("X-Request-Id"))}
	switch {
	case resp.StatusCode >= 300:
		if decodeErr != nil {
			apiErr.Message = summary(data)
		}
		return apiErr
	case decodeErr != nil:
		return fmt.Errorf("osm %s: response is not the contract's JSON: %w", op, decodeErr)
	case apiErr.Code != "":
		return apiErr
	case out != nil:
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("osm %s: decode response: %w", op, err)
		}
	}
	return nil
}

// summary is a short, printable excerpt of a body that is not the error
// format, such as a proxy's HTML page.
func summary(data []byte) string {
	data = bytes.TrimSpace(data)
	if len(data) > 200 {
		data = append(data[:200:200], "..."...)
	}
	return string(bytes.ToValidUTF8(data, []byte("?")))
}
