package control

import (
	"context"
	"errors"
	"net/http"

	"github.com/osmstub/osmstub/gen/controlapi"
	"github.com/osmstub/osmstub/internal/apierror"
	"github.com/osmstub/osmstub/server/store"
)

// Accounts, and the support staff's side of a ticket, over HTTP:
// /_stub/accounts and /_stub/tickets/{case_id}/status and /replies.

// CodeNoAccount is the control API's code for an account no user belongs to.
const CodeNoAccount = "STUB.0007" // 404

// CreateAccount implements controlapi.StrictServerInterface. The answer
// holds the only copy of the credentials: control calls are neither
// journaled nor logged with their bodies.
func (c *API) CreateAccount(ctx context.Context, req controlapi.CreateAccountRequestObject) (controlapi.CreateAccountResponseObject, error) {
	var users []store.NewAccountUser
	if req.Body != nil {
		users = req.Body.Users
	}
	acc, err := c.s.CreateAccount(ctx, users)
	if err != nil {
		return nil, invalidDataset(err, "")
	}
	out := controlapi.Account{Account: acc.ID, Users: make([]controlapi.AccountUser, len(acc.Users))}
	for i, u := range acc.Users {
		groups := u.Groups
		if groups == nil {
			groups = []string{}
		}
		out.Users[i] = controlapi.AccountUser{Name: u.Name, Groups: groups, Token: u.Tokens[0], AccessKey: u.Keys[0].AK, SecretKey: u.Keys[0].SK}
	}
	return controlapi.CreateAccount201JSONResponse{Body: out}, nil
}

// DeleteAccount implements controlapi.StrictServerInterface.
func (c *API) DeleteAccount(ctx context.Context, req controlapi.DeleteAccountRequestObject) (controlapi.DeleteAccountResponseObject, error) {
	if err := c.s.DeleteAccount(ctx, req.Account); err != nil {
		return nil, noAccount(err, req.Account)
	}
	return controlapi.DeleteAccount204Response{}, nil
}

// ResetAccount implements controlapi.StrictServerInterface.
func (c *API) ResetAccount(ctx context.Context, req controlapi.ResetAccountRequestObject) (controlapi.ResetAccountResponseObject, error) {
	if err := c.s.ResetAccount(ctx, req.Account); err != nil {
		return nil, noAccount(err, req.Account)
	}
	return controlapi.ResetAccount204Response{}, nil
}

func noAccount(err error, account string) error {
	if errors.Is(err, store.ErrNoAccount) {
		return apierror.New(http.StatusNotFound, CodeNoAccount, "account: no user belongs to account %s", account)
	}
	return err
}

// SetTicketStatus implements controlapi.StrictServerInterface.
func (c *API) SetTicketStatus(ctx context.Context, req controlapi.SetTicketStatusRequestObject) (controlapi.SetTicketStatusResponseObject, error) {
	if err := c.s.SetTicketStatus(ctx, req.CaseId, int(req.Body.Status)); err != nil {
		return nil, noTicket(err, req.CaseId)
	}
	return controlapi.SetTicketStatus204Response{}, nil
}

// AddReply implements controlapi.StrictServerInterface.
func (c *API) AddReply(ctx context.Context, req controlapi.AddReplyRequestObject) (controlapi.AddReplyResponseObject, error) {
	if err := c.s.AddReply(ctx, req.CaseId, req.Body.Replier, req.Body.Content); err != nil {
		return nil, noTicket(err, req.CaseId)
	}
	return controlapi.AddReply204Response{}, nil
}

func noTicket(err error, caseID string) error {
	var re *store.RuleError
	switch {
	case errors.Is(err, store.ErrUnknownTicket) || errors.Is(err, store.ErrNotFound):
		return apierror.New(http.StatusNotFound, CodeNotFound, "case_id: ticket %s not found", caseID)
	case errors.Is(err, store.ErrParam) && errors.As(err, &re):
		return apierror.New(http.StatusBadRequest, apierror.CodeInvalid, "%s", re.Detail) // a ticket's message limit
	}
	return err
}
