package client

import (
	"context"
	"fmt"

	"github.com/osmstub/osmstub/gen/osmclient"
)

// Satisfaction is the value given for one satisfaction dimension.
type Satisfaction struct {
	Dimension int    // satisfaction_id, such as 1 (timeliness) or 3 (result)
	Value     int    // such as 1 to 5 (5: satisfied)
	Name      string // the dimension's name, in answers only
}

// Score is an evaluation of a ticket's handling.
type Score struct {
	Judgement    string         // may be empty
	Satisfaction []Satisfaction // may be empty
	Group        string         // rate another member's ticket through this group
}

// CreateScore records an evaluation of a ticket whose processing is
// complete (the stub: StatusToConfirm or StatusCompleted; in another
// status the stub answers OSM.01010002, ErrForbidden). A dimension the
// service does not know is refused with ErrInvalidParam.
//
// It is not retried once the request may have reached the service, even
// with RetryPolicy.RetryUnsafe: a repeat would record a second evaluation.
func (c *Client) CreateScore(ctx context.Context, caseID string, s Score) error {
	if err := checkLen("caseID", caseID, MaxCaseIDLen); err != nil {
		return err
	}
	if err := checkGroup(s.Group); err != nil {
		return err
	}
	if err := checkJudgement("Judgement", s.Judgement); err != nil {
		return err
	}
	sat, err := satisfactionBody(s.Satisfaction)
	if err != nil {
		return err
	}
	params := &osmclient.CreateScoresParams{XLanguage: c.lang(), XTimeZone: c.tz(), XSite: site[osmclient.CreateScoresParamsXSite](c.cfg.site)}
	body := osmclient.CreateScoresRequestBody{Judgement: s.Judgement, IncidentSatisfactionList: &sat, GroupId: optional(s.Group)}
	resp, err := c.api.CreateScores(actsTwice(ctx), caseID, params, body)
	return c.result("CreateScores", resp, err, nil)
}

// satisfactionBody checks list against the contract and converts it; the
// result is never nil.
func satisfactionBody(list []Satisfaction) ([]osmclient.Satisfaction, error) {
	if len(list) > MaxSatisfactions {
		return nil, &ArgumentError{"Satisfaction", fmt.Sprintf("has %d values, at most %d allowed", len(list), MaxSatisfactions)}
	}
	out := make([]osmclient.Satisfaction, 0, len(list))
	for i, s := range list {
		switch {
		case s.Dimension < 0 || s.Dimension > 9999:
			return nil, &ArgumentError{fmt.Sprintf("Satisfaction[%d].Dimension", i), fmt.Sprintf("is %d, want 0 to 9999", s.Dimension)}
		case s.Value < 0 || s.Value > 65535:
			return nil, &ArgumentError{fmt.Sprintf("Satisfaction[%d].Value", i), fmt.Sprintf("is %d, want 0 to 65535", s.Value)}
		}
		out = append(out, osmclient.Satisfaction{SatisfactionId: int32(s.Dimension), SatisfactionValue: int32(s.Value)})
	}
	return out, nil
}

func satisfactionOf(list []osmclient.Satisfaction) []Satisfaction {
	out := make([]Satisfaction, len(list))
	for i, s := range list {
		out[i] = Satisfaction{Dimension: int(s.SatisfactionId), Value: int(s.SatisfactionValue), Name: deref(s.SatisfactionName)}
	}
	return out
}
