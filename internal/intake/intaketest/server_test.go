package intaketest

import (
	"net/http"
	"strings"
	"testing"
)

// Over 1,000 entries: refused (400) by default, accepted and still flagged
// with Lenient (the benchmark's built-in output sends whole chunks).
func TestTooManyEntries(t *testing.T) {
	body := "[" + strings.TrimSuffix(strings.Repeat(`{"message":"x"},`, MaxEntries+1), ",") + "]"
	for _, c := range []struct {
		lenient bool
		status  int
		entries int
	}{{false, http.StatusBadRequest, 0}, {true, http.StatusAccepted, MaxEntries + 1}} {
		srv, err := Start(Options{Lenient: c.lenient, Discard: true})
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/v2/logs", strings.NewReader(body))
		req.Header.Set("DD-API-KEY", "k")
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", "test")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		st := srv.Stats()
		srv.Close()
		if resp.StatusCode != c.status || st.Entries != c.entries || st.Violations != 1 {
			t.Errorf("lenient=%v: status %d, %d entries, %d violations; want %d, %d, 1",
				c.lenient, resp.StatusCode, st.Entries, st.Violations, c.status, c.entries)
		}
	}
}

// Entries are checked against the intake's schema (datadog-api-client-go
// HTTPLogItem): a missing message or a reserved attribute that is not a
// string is a violation; payloads are counted by their DD-EVP-ORIGIN.
func TestSchemaAndOrigin(t *testing.T) {
	srv := StartT(t, Options{})
	for _, body := range []string{`[{"message":"x","service":"s"}]`, `[{"service":1}]`, `[{"message":"x","ddtags":["a"]}]`} {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/v2/logs", strings.NewReader(body))
		req.Header.Set("DD-API-KEY", "k")
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", "test")
		req.Header.Set("DD-EVP-ORIGIN", "o")
		req.Header.Set("DD-EVP-ORIGIN-VERSION", "1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	v := srv.Violations()
	if len(v) != 2 || !strings.Contains(v[0], "no message") || !strings.Contains(v[1], "ddtags is []interface {}") {
		t.Errorf("violations %q", v)
	}
	if st := srv.Stats(); st.ByOrigin["o 1"] != 3 {
		t.Errorf("by origin %v", st.ByOrigin)
	}
}
