package client

import (
	"context"
	"iter"
	"strings"
	"time"

	"github.com/osmstub/osmstub/gen/osmclient"
)

// Author is who wrote a message.
type Author int

// Authors of messages.
const (
	AuthorCustomer   Author = 0
	AuthorEngineer   Author = 1 // Huawei's support staff
	AuthorThirdParty Author = 2 // ListMessages only
)

// Message is one message of a ticket.
type Message struct {
	ID          string // ShowCase only: ListMessages carries no IDs
	Content     string
	Author      Author
	Replier     string // the writer's ID
	ReplierName string
	Created     time.Time
	First       bool // the ticket's first message
	Attachments []AttachmentRef
}

// AttachmentRef is an attachment of a message.
type AttachmentRef struct {
	ID   string
	Name string // the file's name, as uploaded
}

// NewMessage is a message to add to a ticket.
type NewMessage struct {
	Content       string   // required
	AttachmentIDs []string // from UploadAttachment(..., AttachmentForMessage, ...)
	Group         string   // write on another member's ticket through this group
}

// CreateMessage adds a message from the caller to a ticket, after its
// other messages.
//
// It is not retried once the request may have reached the service, even
// with RetryPolicy.RetryUnsafe: a repeat would add the message twice.
func (c *Client) CreateMessage(ctx context.Context, caseID string, m NewMessage) error {
	if err := checkLen("caseID", caseID, MaxCaseIDLen); err != nil {
		return err
	}
	if strings.TrimSpace(m.Content) == "" {
		return &ArgumentError{"Content", "must not be blank"}
	}
	if err := checkLen("Content", m.Content, MaxMessageLen); err != nil {
		return err
	}
	if err := checkIDs("AttachmentIDs", m.AttachmentIDs, MaxMessageAttachments, MaxAttachmentIDLen); err != nil {
		return err
	}
	if err := checkGroup(m.Group); err != nil {
		return err
	}
	params := &osmclient.CreateMessagesParams{XLanguage: c.lang(), XTimeZone: c.tz(), XSite: site[osmclient.CreateMessagesParamsXSite](c.cfg.site)}
	body := osmclient.CreateMessagesRequestBody{Message: osmclient.MessageContent{Content: m.Content}, GroupId: optional(m.Group)}
	if len(m.AttachmentIDs) > 0 {
		body.Message.AccessoryIds = &m.AttachmentIDs
	}
	resp, err := c.api.CreateMessages(actsTwice(ctx), caseID, params, body)
	return c.result("CreateMessages", resp, err, nil)
}

// ListMessagesOptions select a page of messages. The zero value is the
// first DefaultPageSize messages of one of the caller's own tickets.
type ListMessagesOptions struct {
	Group    string // another member's ticket, through this group
	PageSize int    // 1 to MaxPageSize, 0 for DefaultPageSize
	Offset   int    // how many messages to skip, at most MaxOffset
}

// ListMessages returns one page of a ticket's messages, in the order they
// were added, and how many it has.
func (c *Client) ListMessages(ctx context.Context, caseID string, opts ListMessagesOptions) ([]Message, int, error) {
	if err := checkLen("caseID", caseID, MaxCaseIDLen); err != nil {
		return nil, 0, err
	}
	size, err := checkPage(opts.Offset, opts.PageSize)
	if err != nil {
		return nil, 0, err
	}
	if err := checkGroup(opts.Group); err != nil {
		return nil, 0, err
	}
	offset, limit := int32(opts.Offset), int32(size)
	params := &osmclient.ListMessagesParams{GroupId: optional(opts.Group), Offset: &offset, Limit: &limit,
		XLanguage: c.lang(), XTimeZone: c.tz(), XSite: site[osmclient.ListMessagesParamsXSite](c.cfg.site)}
	resp, err := c.api.ListMessages(ctx, caseID, params)
	var body osmclient.MessageList
	if err := c.result("ListMessages", resp, err, &body); err != nil {
		return nil, 0, err
	}
	out := []Message{}
	for _, m := range deref(body.MessageList) {
		created, err := parseTime("ListMessages", "create_time", m.CreateTime)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, Message{
			Content: m.Content, Author: Author(m.ReplierType), Replier: m.Replier, ReplierName: m.ReplierName,
			Created: created, First: m.IsFirstMessage == 1, Attachments: attachmentRefs(m.AccessoryList),
		})
	}
	return out, int(deref(body.Count)), nil
}

// Messages iterates over a ticket's messages from opts.Offset on, asking
// for opts.PageSize at a time until a page comes back short. Breaking out
// of the loop sends no further request. An error is yielded once, and
// ends the iteration.
func (c *Client) Messages(ctx context.Context, caseID string, opts ListMessagesOptions) iter.Seq2[Message, error] {
	return pages(opts.Offset, opts.PageSize, func(offset int) ([]Message, error) {
		o := opts
		o.Offset = offset
		page, _, err := c.ListMessages(ctx, caseID, o)
		return page, err
	})
}

func attachmentRefs(list []osmclient.AccessoryRef) []AttachmentRef {
	out := make([]AttachmentRef, len(list))
	for i, a := range list {
		out[i] = AttachmentRef{ID: a.AccessoryId, Name: a.FileActualName}
	}
	return out
}
