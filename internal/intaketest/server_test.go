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
