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
