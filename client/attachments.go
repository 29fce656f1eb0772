package client

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/osmstub/osmstub/gen/osmclient"
)

// AttachmentFor is what an upload is for.
type AttachmentFor string

// Uses of an upload.
const (
	AttachmentForCase    AttachmentFor = "incident" // NewCase.AttachmentIDs
	AttachmentForMessage AttachmentFor = "message"  // NewMessage.AttachmentIDs
)

// AttachmentLimits are the limits an upload must meet.
type AttachmentLimits struct {
	Count  int      // files a ticket or message may carry
	SizeMB int      // the largest file, in MB
	Types  []string // the allowed extensions, such as "log", lower case
}

// UploadAttachment uploads data as a file called name (whose extension
// decides its type) and returns its ID, for a NewCase or a NewMessage as
// from says. A type or size outside the limits is refused with
// ErrInvalidParam; past the day's upload budget, with ErrUploadBudget.
//
// It is not retried once the request may have reached the service, even
// with RetryPolicy.RetryUnsafe: a repeat would store the file twice and
// spend the daily budget twice.
func (c *Client) UploadAttachment(ctx context.Context, name string, from AttachmentFor, data []byte) (string, error) {
	if err := checkLen("name", name, MaxAttachmentNameLen); err != nil {
		return "", err
	}
	if from != AttachmentForCase && from != AttachmentForMessage {
		return "", &ArgumentError{"from", fmt.Sprintf("is %q, want AttachmentForCase or AttachmentForMessage", from)}
	}
	if len(data) == 0 {
		return "", &ArgumentError{"data", "must not be empty"}
	}
	params := &osmclient.UploadJsonAccessoriesParams{XLanguage: c.lang(), XTimeZone: c.tz(), XSite: site[osmclient.UploadJsonAccessoriesParamsXSite](c.cfg.site)}
	body := osmclient.UploadAccessoryRequestBody{AccessoryName: name, AccessoryFrom: osmclient.UploadAccessoryRequestBodyAccessoryFrom(from),
		AccessoryData: base64.StdEncoding.EncodeToString(data)}
	resp, err := c.api.UploadJsonAccessories(actsTwice(ctx), params, body)
	var out osmclient.AccessoryUpload
	if err := c.result("UploadJsonAccessories", resp, err, &out); err != nil {
		return "", err
	}
	if deref(out.AccessoryId) == "" {
		return "", fmt.Errorf("osm UploadJsonAccessories: the response has no accessory_id")
	}
	return *out.AccessoryId, nil
}

// AttachmentLimits returns the limits an upload must meet. The service
// sends the numbers as strings; one that is not a number is an error.
func (c *Client) AttachmentLimits(ctx context.Context) (AttachmentLimits, error) {
	params := &osmclient.ShowAccessoryLimitsParams{XLanguage: c.lang(), XTimeZone: c.tz(), XSite: site[osmclient.ShowAccessoryLimitsParamsXSite](c.cfg.site)}
	resp, err := c.api.ShowAccessoryLimits(ctx, params)
	var body osmclient.AccessoryLimits
	if err := c.result("ShowAccessoryLimits", resp, err, &body); err != nil {
		return AttachmentLimits{}, err
	}
	l := body.AccessoryLimit
	if l == nil {
		return AttachmentLimits{}, fmt.Errorf("osm ShowAccessoryLimits: the response has no accessory_limit")
	}
	count, err := strconv.Atoi(strings.TrimSpace(l.LimitCount))
	if err != nil {
		return AttachmentLimits{}, fmt.Errorf("osm ShowAccessoryLimits: limit_count: %w", err)
	}
	size, err := strconv.Atoi(strings.TrimSpace(l.LimitSize))
	if err != nil {
		return AttachmentLimits{}, fmt.Errorf("osm ShowAccessoryLimits: limit_size: %w", err)
	}
	out := AttachmentLimits{Count: count, SizeMB: size, Types: []string{}}
	for t := range strings.SplitSeq(l.LimitFileType, ",") {
		if t = strings.ToLower(strings.TrimSpace(t)); t != "" {
			out.Types = append(out.Types, t)
		}
	}
	return out, nil
}
