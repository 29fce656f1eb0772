// Package client is a typed Go client for the ticket-association operations
// of Huawei Cloud's service-ticket API (OSM v2): associate tickets, list a
// ticket's associations, remove one.
//
// It authenticates with an IAM token or by signing each request with an
// AK/SK pair (SDK-HMAC-SHA256, as the official SDKs do), checks arguments
// against the contract's limits before sending anything, retries what is
// safe to retry, and turns every failure into an error you can test:
//
//	endpoint, err := client.Endpoint("ap-southeast-3") // https://osm.ap-southeast-3.myhuaweicloud.com
//	if err != nil {
//		return err
//	}
//	c, err := client.New(endpoint, client.WithAKSK(ak, sk))
//	if err != nil {
//		return err
//	}
//	ctx := context.Background()
//	err = c.CreateRelations(ctx, "CS001", []string{"CS002", "CS003"}, groupID)
//	switch {
//	case errors.Is(err, client.ErrRuleViolation):
//		// e.g. a ticket already has three associations
//	case errors.Is(err, client.ErrUnauthenticated), errors.Is(err, client.ErrForbidden):
//		// fix the credential or the group
//	case err != nil:
//		return err
//	}
//	rels, err := c.ListRelations(ctx, "CS001")
//	if err != nil {
//		return err
//	}
//	for _, r := range rels {
//		fmt.Println(r.CaseID, r.Owner, r.Description)
//	}
//	return c.DeleteRelation(ctx, "CS001", "CS002", groupID)
//
// The service reports business failures (a broken rule, a missing
// permission) with HTTP 200 and an error_code; the official SDK returns
// those as successes. This client returns them as *APIError, like any 4xx
// or 5xx; errors.As gives the status, code, message and request ID.
package client
