// Package client is a typed Go client for Huawei Cloud's service-ticket API
// (OSM v2): the catalogue (ListProductCategories, ListProblemTypes),
// tickets (CreateCase, ShowCase, CaseStatus, ListCases and the Cases
// iterator, UpdateCase to cancel, close, urge or delete, CreateScore),
// messages (CreateMessage, ListMessages and the Messages iterator),
// attachments (UploadAttachment, AttachmentLimits) and associations
// between tickets (CreateRelations, ListRelations, DeleteRelation).
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
// Opening a ticket, attaching a log to a message and canceling it:
//
//	id, err := c.CreateCase(ctx, client.NewCase{ProblemTypeID: "ECS-FAULT", RegionID: "cn-south-1",
//		Description: "Instance i-0abc does not answer on port 22"})
//	if err != nil {
//		return err
//	}
//	acc, err := c.UploadAttachment(ctx, "reboot.log", client.AttachmentForMessage, logData)
//	if err != nil {
//		return err
//	}
//	err = c.CreateMessage(ctx, id, client.NewMessage{Content: "The log.", AttachmentIDs: []string{acc}})
//	if err != nil {
//		return err
//	}
//	for cs, err := range c.Cases(ctx, client.ListCasesOptions{Statuses: []client.Status{client.StatusPending}}) {
//		if err != nil {
//			return err
//		}
//		fmt.Println(cs.ID, cs.Created, cs.Description)
//	}
//	return c.UpdateCase(ctx, id, client.ActionCancel, client.UpdateOptions{Reason: "solved"})
//
// The service reports business failures (a broken rule, a missing
// permission) with HTTP 200 and an error_code; the official SDK returns
// those as successes. This client returns them as *APIError, like any 4xx
// or 5xx; errors.As gives the status, code, message and request ID, and
// the codes a caller acts on have sentinels of their own (ErrInvalidParam,
// ErrPressTooSoon, ErrUploadBudget, ErrUnknownAction, ErrUnknownTicket).
//
// Creates and actions (CreateCase, CreateMessage, UploadAttachment,
// CreateScore, UpdateCase) are retried only when the request cannot have
// reached the service; see RetryPolicy.
package client
