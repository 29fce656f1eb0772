package jsonvalue_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/osmstub/osmstub/internal/jsonvalue"
)

// reference is what kin-openapi's JSON body decoder returns for b.
func reference(b []byte) (any, error) {
	var v any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	err := dec.Decode(&v)
	return v, err
}

// check holds Parse to encoding/json on b: the same verdict as json.Valid
// (for UTF-8 input; Parse also refuses what is not UTF-8) and the same
// value as kin-openapi's decoder.
func check(t *testing.T, b []byte) {
	t.Helper()
	got, err := jsonvalue.Parse(b, map[string]string{"related_id": "related_id"})
	valid := json.Valid(b) && utf8.Valid(b)
	if (err == nil) != valid {
		t.Fatalf("Parse(%q): err = %v, but json.Valid && utf8.Valid = %v", b, err, valid)
	}
	if err != nil {
		if !errors.Is(err, jsonvalue.ErrInvalid) {
			t.Fatalf("Parse(%q): err = %v, want ErrInvalid", b, err)
		}
		return
	}
	want, rerr := reference(b)
	if rerr != nil {
		t.Fatalf("encoding/json refused %q (%v), which Parse took", b, rerr)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Parse(%q) = %#v, encoding/json = %#v", b, got, want)
	}
}

func TestParse(t *testing.T) {
	for _, in := range seeds() {
		t.Run(fmt.Sprintf("%.40q", in), func(t *testing.T) { check(t, []byte(in)) })
	}
}

func TestParseDepth(t *testing.T) {
	for _, n := range []int{9999, 10000, 10001} {
		check(t, []byte(strings.Repeat("[", n)+strings.Repeat("]", n)))
		check(t, []byte(strings.Repeat(`{"a":`, n)+"1"+strings.Repeat("}", n)))
	}
}

func TestParseSharesNames(t *testing.T) {
	names := map[string]string{"related_id": "related_id"}
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := jsonvalue.Parse([]byte(`{"related_id":true}`), names); err != nil {
			t.Fatal(err)
		}
	})
	without := testing.AllocsPerRun(100, func() {
		if _, err := jsonvalue.Parse([]byte(`{"related_id":true}`), nil); err != nil {
			t.Fatal(err)
		}
	})
	if allocs >= without {
		t.Errorf("a known name costs %v allocations, an unknown one %v: the name was not shared", allocs, without)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range seeds() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) { check(t, b) })
}

func seeds() []string {
	return []string{
		``, ` `, `{}`, `[]`, `null`, `true`, `false`, `0`, `-0`, `1.5e+10`, `-12.25E-3`,
		`{"related_id_list":["CS1","CS2"],"group_id":"g"}`,
		`{"related_id":"CS2","related_id":"CS3"}`,
		` {"a" : [ 1 , 2.0 , {"b":null} ] } `,
		`"\u00e9\ud83d\ude00\n\"\\\/"`, `"\ud800"`, `"\udc00x"`, `"é"`, "\"\xff\"", "\"a\x01\"",
		`01`, `1.`, `.5`, `1e`, `-`, `+1`, `tru`, `nul`, `[1,]`, `{"a":1,}`, `{"a"}`, `{1:2}`,
		`[1 2]`, `{} {}`, `{}x`, `"\x"`, `"\u12"`, `"abc`, "\"\t\"", "[\v]", `{"a":1}` + "\x00",
		`1e400`, `123456789012345678901234567890`, `[[[[]]]]`, `{"":""}`,
	}
}
