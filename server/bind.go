package server

import (
	"github.com/labstack/echo/v4"
	"github.com/oapi-codegen/runtime"

	"github.com/osmstub/osmstub/gen"
)

// bodyBinder is the Echo binder: what the generated strict handlers do
// with Echo's own binder (bind the value validation left on the body, else
// decode the body), with the two request bodies of the contract filled
// straight from that value. runtime.BindJSONValue walks them by
// reflection, which cost more than the rest of the handler.
type bodyBinder struct{ echo.DefaultBinder }

func (b *bodyBinder) Bind(i any, c echo.Context) error {
	vb, ok := c.Request().Body.(interface{ ValidatedValue() any })
	if !ok {
		return b.BindBody(c, i)
	}
	v, _ := vb.ValidatedValue().(map[string]any)
	// The bodies' optional group_id is a *string: it points into the
	// exchange, which saves allocating a string for it.
	group := &exchangeOf(c.Request().Context()).groupID
	switch dst := i.(type) {
	case *gen.CreateRelationsJSONRequestBody:
		if bindCreate(v, dst, group) {
			return nil
		}
	case *gen.DeleteRelationJSONRequestBody:
		if bindDelete(v, dst, group) {
			return nil
		}
	}
	if runtime.BindJSONValue(vb.ValidatedValue(), i) == nil {
		return nil
	}
	return b.BindBody(c, i)
}

// bindCreate fills dst from a validated body, its group_id (if any) in
// *group; false when v is not what the contract's schema allows, for
// runtime.BindJSONValue to deal with.
func bindCreate(v map[string]any, dst *gen.CreateRelationsRequestBody, group *string) bool {
	if v == nil {
		return false
	}
	groupID, ok := optionalString(v, "group_id", group)
	if !ok {
		return false
	}
	raw, ok := v["related_id_list"].([]any)
	if !ok {
		return false
	}
	ids := make([]string, len(raw))
	for i, r := range raw {
		if ids[i], ok = r.(string); !ok {
			return false
		}
	}
	*dst = gen.CreateRelationsRequestBody{GroupId: groupID, RelatedIdList: ids}
	return true
}

func bindDelete(v map[string]any, dst *gen.DeleteRelationRequestBody, group *string) bool {
	if v == nil {
		return false
	}
	groupID, ok := optionalString(v, "group_id", group)
	if !ok {
		return false
	}
	id, ok := v["related_id"].(string)
	if !ok {
		return false
	}
	*dst = gen.DeleteRelationRequestBody{GroupId: groupID, RelatedId: id}
	return true
}

// optionalString is an optional string member, stored in *into: absent
// or null is nil.
func optionalString(v map[string]any, name string, into *string) (*string, bool) {
	switch s := v[name].(type) {
	case nil:
		return nil, true
	case string:
		*into = s
		return into, true
	}
	return nil, false
}
