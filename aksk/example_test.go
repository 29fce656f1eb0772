package aksk_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/osmstub/osmstub/aksk"
)

func ExampleSign() {
	body := `{"related_id_list":["C2"]}` + "\n"
	req, _ := http.NewRequest("POST",
		"https://osm.myhuaweicloud.com/v2/servicerequest/cases/C1/relations", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Language", "en-us")

	now := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := aksk.Sign(req, "AKEXAMPLE", "SKEXAMPLE", now); err != nil {
		panic(err)
	}
	fmt.Println(req.Header.Get("X-Sdk-Date"))
	fmt.Println(req.Header.Get("Authorization"))
	sent, _ := io.ReadAll(req.Body) // the body is still there to send
	fmt.Print(string(sent))
	// Output:
	// 20240102T030405Z
	// SDK-HMAC-SHA256 Access=AKEXAMPLE, SignedHeaders=x-language;x-sdk-date, Signature=0c3c4a251a6f336d9a5e5448d617db3189d0ddbacb518117379ac8c19810f8c1
	// {"related_id_list":["C2"]}
}

func ExampleVerify() {
	// What the server receives (signed by a client at 03:04:05; the
	// signature was computed with python3 hmac and openssl).
	req := httptest.NewRequest("GET", "/v2/servicerequest/cases/C1/relations", nil)
	req.Header.Set("X-Sdk-Date", "20240102T030405Z")
	req.Header.Set("Authorization", "SDK-HMAC-SHA256 Access=AKEXAMPLE, SignedHeaders=x-sdk-date, "+
		"Signature=b81f991b4fe84ddc9b7978acd4e8fc7133f8a2a9415902f576a3cdf73a6a32ba")

	secrets := map[string]string{"AKEXAMPLE": "SKEXAMPLE"}
	a, err := aksk.FromRequest(req)
	if err != nil {
		fmt.Println("401:", err)
		return
	}
	sk, ok := secrets[a.Access]
	if !ok {
		fmt.Println("401: unknown AK")
		return
	}
	fmt.Println("signature:", aksk.Verify(req, nil, sk))
	fmt.Println("wrong SK is ErrBadSignature:", errors.Is(aksk.Verify(req, nil, "other"), aksk.ErrBadSignature))

	serverNow := time.Date(2024, 1, 2, 3, 30, 0, 0, time.UTC)
	fmt.Println("date:", aksk.CheckDate(req, serverNow, aksk.DefaultMaxSkew))
	// Output:
	// signature: <nil>
	// wrong SK is ErrBadSignature: true
	// date: aksk: X-Sdk-Date outside the allowed window: signed 25m55s ago, more than 15m0s
}
