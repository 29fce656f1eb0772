package server

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/oapi-codegen/runtime"

	"github.com/osmstub/osmstub/gen"
	"github.com/osmstub/osmstub/internal/jsonvalue"
)

// TestBodyBinderMatchesBindJSONValue keeps the hand-written binding of the
// two request bodies equal to what the generated handlers do with Echo's
// own binder (runtime.BindJSONValue of the validated value), for values
// the schemas allow and for values they do not.
func TestBodyBinderMatchesBindJSONValue(t *testing.T) {
	bodies := []string{
		`{"related_id_list":["C2"],"group_id":"g"}`,
		`{"related_id_list":["C2","C3","C4"]}`,
		`{"related_id_list":[],"group_id":null}`,
		`{"related_id_list":["C2"],"group_id":"","extra":[1]}`,
		`{"related_id":"C2","group_id":"g"}`,
		`{"related_id":"C2"}`,
		`{"related_id":"C2","group_id":null}`,
		`{"related_id_list":"C2"}`,
		`{"related_id_list":[1]}`,
		`{"related_id":1}`,
		`{"group_id":5}`,
		`{}`,
		`[]`,
		`"x"`,
	}
	for _, body := range bodies {
		v, err := jsonvalue.Parse([]byte(body), nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, dst := range []func() any{
			func() any { return new(gen.CreateRelationsJSONRequestBody) },
			func() any { return new(gen.DeleteRelationJSONRequestBody) },
		} {
			got, want := dst(), dst()
			req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
			req.Header.Set("Content-Type", contentTypeJSON)
			req.Body = &validatedBody{ReadCloser: req.Body, value: v}
			c := echo.New().NewContext(req, httptest.NewRecorder())
			gotErr := (&bodyBinder{}).Bind(got, c)

			wantErr := runtime.BindJSONValue(v, want)
			if wantErr != nil {
				req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
				req.Header.Set("Content-Type", contentTypeJSON)
				wantErr = (&echo.DefaultBinder{}).BindBody(echo.New().NewContext(req, httptest.NewRecorder()), want)
			}
			if (gotErr == nil) != (wantErr == nil) || !reflect.DeepEqual(got, want) {
				t.Errorf("%s into %T: got %#v (%v), want %#v (%v)", body, got, got, gotErr, want, wantErr)
			}
		}
	}
}
