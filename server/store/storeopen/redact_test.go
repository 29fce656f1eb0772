package storeopen

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	cases := []struct{ spec, want string }{
		{"memory", "memory"},
		{"sqlite:./osm.db", "sqlite:./osm.db"},
		{"postgres://u@h/db", "postgres://u@h/db"},
		{"postgres://u:secret@h/db", "postgres://u:xxxxx@h/db"},
		{"postgres://u:s%40cret@h:5432/db?sslmode=disable", "postgres://u:xxxxx@h:5432/db?sslmode=disable"},
		{"postgres://u@h/db?password=secret", "postgres://u@h/db?password=xxxxx"},
		{"postgresql://u@h/db?sslmode=require&password=secret&application_name=x", "postgresql://u@h/db?sslmode=require&password=xxxxx&application_name=x"},
		{"postgres://u@h/db?sslpassword=secret", "postgres://u@h/db?sslpassword=xxxxx"},
		{"postgres://u@h/db?PASSWORD=secret", "postgres://u@h/db?PASSWORD=xxxxx"},
		{"postgres://u@h/db?pass%77ord=secret", "postgres://u@h/db?pass%77ord=xxxxx"},
		{"postgres://u@h/db?password=a&password=secret", "postgres://u@h/db?password=xxxxx&password=xxxxx"},
		{"postgres://u:secret@%zz/db", "postgres://xxxxx"},
		{"mysql://u:secret@h/db", "mysql://u:xxxxx@h/db"},
		{"host=h user=u password=secret dbname=db", "host=h user=u password=xxxxx dbname=db"},
		{"host=h password = secret dbname=db", "host=h password = xxxxx dbname=db"},
		{"host=h password='se cret' dbname=db", "host=h password=xxxxx dbname=db"},
		{`host=h password='it\'s secret' dbname=db`, "host=h password=xxxxx dbname=db"},
		{`password=se\ cret host=h`, "password=xxxxx host=h"},
		{"password='unterminated secret", "password=xxxxx"},
		{"sslpassword=secret password=secret", "sslpassword=xxxxx password=xxxxx"},
		{"host=h\tpassword=secret", "host=h\tpassword=xxxxx"},
		{"host='a b' password=secret", "host='a b' password=xxxxx"},
		// Passwords with the URL's delimiters, written raw.
		{"postgres://u:p@ss@h/db", "postgres://u:xxxxx@h/db"},
		{"postgres://u:p:ss@h/db", "postgres://u:xxxxx@h/db"},
		{"postgres://u:it's@h/db", "postgres://u:xxxxx@h/db"},
		{"postgres://u:pa/ss@h/db", "postgres://xxxxx"},
		{"postgres://u:12/secret@h/db", "postgres://xxxxx"},
		{"postgres://u:12?secret@h/db", "postgres://xxxxx"},
		{"postgres://u:12#secret@h/db", "postgres://xxxxx"},
		{"postgres://u:se cret@h/db", "postgres://xxxxx"},
		{`postgres://u:"secret"@h/db`, "postgres://xxxxx"},
		{"postgres://u:s%2Fec%40ret@h/db", "postgres://u:xxxxx@h/db"},
		// Malformed specs.
		{" postgres://u:secret@h/db", " postgres://xxxxx"},
		{"postgres:/u:secret@h/db", "postgres:xxxxx@h/db"},
		{"postgres//u:secret@h/db", "xxxxx@h/db"},
		{"u:secret@h", "u:xxxxx@h"},
		{"sqlite:./my@file.db", "sqlite:./my@file.db"},
		// Keyword/value strings: delimiters, and unquoted spaces and
		// quotes (malformed: the words after the value are masked too).
		{"host=h password=p@ss:w/rd dbname=db", "host=h password=xxxxx dbname=db"},
		{"host=h password=se cret dbname=db", "host=h password=xxxxx xxxxx dbname=db"},
		{"host=h password=se cret", "host=h password=xxxxx xxxxx"},
		{`host=h password="se cret" dbname=db`, "host=h password=xxxxx xxxxx dbname=db"},
		{`host=h password=it's`, "host=h password=xxxxx"},
		{"host=h password=a=b dbname=db", "host=h password=xxxxx dbname=db"},
		{"host=h dbname=db ", "host=h dbname=db "},
	}
	for _, c := range cases {
		if got := Redact(c.spec); got != c.want {
			t.Errorf("Redact(%q) = %q; want %q", c.spec, got, c.want)
		}
	}
}

func TestRedactError(t *testing.T) {
	base := errors.New("base")
	for _, spec := range []string{
		"postgres://u:secret@h/db",
		"postgres://u@h/db?password=secret",
		"postgres://u@h/db?sslpassword=secret",
		"host=h password='secret' user=u",
		"host=h password=secret user=u",
	} {
		err := fmt.Errorf("cannot parse %s: secret rejected: %w", spec, base)
		got := redactError(err, spec)
		if strings.Contains(got.Error(), "secret") {
			t.Errorf("redactError(%q) = %q: shows the password", spec, got)
		}
		if !errors.Is(got, base) {
			t.Errorf("redactError(%q) lost the wrapped error", spec)
		}
	}
	if err := errors.New("no secret here"); redactError(err, "memory") != err {
		t.Error("redactError changed an error without secrets")
	}
}

// specForms writes password into each place a spec can carry one, as a
// user would write it there.
func specForms(password string) []string {
	q := url.QueryEscape(password)
	kv := "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(password) + "'"
	return []string{
		(&url.URL{Scheme: "postgres", User: url.UserPassword("u", password), Host: "h:5432", Path: "/db"}).String(),
		"postgres://u@h:5432/db?sslmode=disable&password=" + q,
		"postgresql://u@h/db?sslpassword=" + q + "&x=1",
		"host=h user=u password=" + kv + " dbname=db",
		"sslpassword=" + kv + " host=h",
	}
}

// FuzzRedact: whatever the password, Redact's output does not depend on
// it, so it cannot show any of it.
func FuzzRedact(f *testing.F) {
	for _, s := range []string{"secret", "s p a c e", `it's`, `back\slash`, "p@ss:w/rd?&=#", "", "xxxxx", "é€"} {
		f.Add(s)
	}
	ref := specForms("reference")
	f.Fuzz(func(t *testing.T, password string) {
		for i, spec := range specForms(password) {
			if got, want := Redact(spec), Redact(ref[i]); got != want {
				t.Errorf("Redact(%q) = %q; want %q (as for any other password)", spec, got, want)
			}
		}
	})
}
