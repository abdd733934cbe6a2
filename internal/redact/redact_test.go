package redact

import (
	"strings"
	"testing"
)

func TestURL(t *testing.T) {
	cases := []struct{ in, want string }{
		{"https://relay.example/api/v2/logs", "https://relay.example/api/v2/logs"},
		{"https://user:password@relay.example/x", "https://****@relay.example/x"},
		{"http://token@proxy:3128", "http://****@proxy:3128"},
		// Does not parse (bad port), still masked.
		{"http://user:pa@ss@proxy:31x8/p", "http://****@proxy:31x8/p"},
		{"not a url", "not a url"},
		{"user:pass@proxy", "****@proxy"},
	}
	for _, c := range cases {
		if got := URL(c.in); got != c.want {
			t.Errorf("URL(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestSecrets(t *testing.T) {
	s := New("apikey-0123456789", "", "abc", "prod-eu") // "" and values under MinLen ignored
	s.AddURL("https://bob:p%40ss-word@relay/x")
	s.Add("tok-1234")
	s.Add("tok-1234-longer") // holds tok-1234: masked whole
	in := "k=apikey-0123456789 u=bob:p%40ss-word p=p@ss-word q=p%40ss-word t=tok-1234-longer abc prod-eu"
	got := s.Scrub(in)
	for _, leak := range []string{"apikey", "bob", "ss-word", "tok-1234", "longer"} {
		if strings.Contains(got, leak) {
			t.Errorf("%q left in %q", leak, got)
		}
	}
	if !strings.HasSuffix(got, " abc prod-eu") {
		t.Errorf("short value masked: %q", got)
	}
	var nilS *Secrets
	if nilS.Scrub("x") != "x" || (&Secrets{}).Scrub("x") != "x" {
		t.Error("empty secrets changed text")
	}
}
