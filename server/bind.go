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
	switch dst := i.(type) {
	case *gen.CreateRelationsJSONRequestBody:
		if bindCreate(v, dst) {
			return nil
		}
	case *gen.DeleteRelationJSONRequestBody:
		if bindDelete(v, dst) {
			return nil
		}
	}
	if runtime.BindJSONValue(vb.ValidatedValue(), i) == nil {
		return nil
	}
	return b.BindBody(c, i)
}

// bindCreate fills dst from a validated body; false when v is not what
// the contract's schema allows, for runtime.BindJSONValue to deal with.
func bindCreate(v map[string]any, dst *gen.CreateRelationsRequestBody) bool {
	if v == nil {
		return false
	}
	group, ok := optionalString(v, "group_id")
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
	*dst = gen.CreateRelationsRequestBody{GroupId: group, RelatedIdList: ids}
	return true
}

func bindDelete(v map[string]any, dst *gen.DeleteRelationRequestBody) bool {
	if v == nil {
		return false
	}
	group, ok := optionalString(v, "group_id")
	if !ok {
		return false
	}
	id, ok := v["related_id"].(string)
	if !ok {
		return false
	}
	*dst = gen.DeleteRelationRequestBody{GroupId: group, RelatedId: id}
	return true
}

// optionalString is an optional string member: absent or null is nil.
func optionalString(v map[string]any, name string) (*string, bool) {
	switch s := v[name].(type) {
	case nil:
		return nil, true
	case string:
		return &s, true
	}
	return nil, false
}
