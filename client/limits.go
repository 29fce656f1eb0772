package client

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// The contract's limits on arguments (openapi.yaml); a test keeps them equal.
const (
	MaxCaseIDLen      = 64 // case_id path parameter
	MaxRelatedIDs     = 3  // related_id_list items
	MaxRelatedIDLen   = 32 // each related_id_list item
	MaxDeleteIDLen    = 64 // related_id of DeleteRelation
	MaxGroupIDLen     = 64 // group_id
	MaxTokenLen       = 5000
	MaxHeaderValueLen = 32 // X-Language, X-Time-Zone
)

func checkLen(arg, v string, maxLen int) error {
	n := utf8.RuneCountInString(v)
	switch {
	case n == 0:
		return &ArgumentError{arg, "must not be empty"}
	case n > maxLen:
		return &ArgumentError{arg, fmt.Sprintf("is %d characters, at most %d allowed", n, maxLen)}
	}
	return nil
}

// checkHeader checks a value sent as a header: within its length and free
// of control characters, which net/http would refuse on every attempt.
func checkHeader(arg, v string, maxLen int) error {
	if err := checkLen(arg, v, maxLen); err != nil {
		return err
	}
	if strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 && r != '\t' || r == 0x7f }) {
		return &ArgumentError{arg, "contains a control character, which cannot be sent in a header"}
	}
	return nil
}

func checkCreate(caseID string, related []string, groupID string) error {
	if err := checkLen("caseID", caseID, MaxCaseIDLen); err != nil {
		return err
	}
	if n := len(related); n < 1 || n > MaxRelatedIDs {
		return &ArgumentError{"relatedIDs", fmt.Sprintf("has %d IDs, want 1 to %d", n, MaxRelatedIDs)}
	}
	for i, id := range related {
		if err := checkLen(fmt.Sprintf("relatedIDs[%d]", i), id, MaxRelatedIDLen); err != nil {
			return err
		}
	}
	return checkGroup(groupID)
}

// checkGroup checks an optional group_id: empty means none is sent.
func checkGroup(groupID string) error {
	if groupID == "" {
		return nil
	}
	return checkLen("groupID", groupID, MaxGroupIDLen)
}

func checkDelete(caseID, relatedID, groupID string) error {
	if err := checkLen("caseID", caseID, MaxCaseIDLen); err != nil {
		return err
	}
	if err := checkLen("relatedID", relatedID, MaxDeleteIDLen); err != nil {
		return err
	}
	return checkGroup(groupID)
}

// The ticket flow's limits (openapi.yaml); a test keeps them equal.
const (
	DefaultPageSize       = 10    // ListCases and ListMessages without a page size
	MaxPageSize           = 100   // their limit
	MaxOffset             = 65535 // their offset
	MaxSearchKeys         = 3     // ListCases search_key
	MaxSearchKeyLen       = 64    // each search_key
	MaxProblemTypeIDLen   = 512   // business_type_id
	MaxDescriptionLen     = 1200  // simple_description
	MaxCatalogueIDLen     = 64    // product_category_id, region_id, project_id, severity_id
	MaxCaseAttachments    = 100   // accessory_ids of CreateCases
	MaxMessageLen         = 10000 // a message's content
	MaxMessageAttachments = 10    // accessory_ids of a message
	MaxAttachmentIDLen    = 32    // each of them
	MaxJudgementLen       = 400   // judgement, operate_desc
	MaxActionLen          = 32    // action_id
	MaxSatisfactions      = 100   // incident_satisfaction_list
	MaxAttachmentNameLen  = 512   // accessory_name
)

// checkOptional checks a value sent only when it is not empty.
func checkOptional(arg, v string, maxLen int) error {
	if v == "" {
		return nil
	}
	return checkLen(arg, v, maxLen)
}

// checkIDs checks a list of IDs: at most maxItems, each 1 to maxLen.
func checkIDs(arg string, ids []string, maxItems, maxLen int) error {
	if len(ids) > maxItems {
		return &ArgumentError{arg, fmt.Sprintf("has %d IDs, at most %d allowed", len(ids), maxItems)}
	}
	for i, id := range ids {
		if err := checkLen(fmt.Sprintf("%s[%d]", arg, i), id, maxLen); err != nil {
			return err
		}
	}
	return nil
}

// checkPage checks a page's offset and size (0: DefaultPageSize) and
// returns the size to send.
func checkPage(offset, size int) (int, error) {
	switch {
	case offset < 0 || offset > MaxOffset:
		return 0, &ArgumentError{"Offset", fmt.Sprintf("is %d, want 0 to %d", offset, MaxOffset)}
	case size == 0:
		return DefaultPageSize, nil
	case size < 0 || size > MaxPageSize:
		return 0, &ArgumentError{"PageSize", fmt.Sprintf("is %d, want 1 to %d (0: %d)", size, MaxPageSize, DefaultPageSize)}
	}
	return size, nil
}
