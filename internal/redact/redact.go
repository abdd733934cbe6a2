// Package redact keeps credentials out of what the plugin prints: the API
// key, the values of `header` (often a relay's token) and the userinfo of
// URLs (`https://user:password@relay/...`). Log lines, errors and echoed
// intake answers all pass through a Secrets before they are written.
package redact

import (
	"net/url"
	"sort"
	"strings"
	"sync"
)

// Mask replaces a secret in printed text.
const Mask = "****"

// URL returns s with any userinfo replaced by Mask. A value that does not
// parse as a URL with a host may still hold credentials
// (`http://u:p@h:31x8`, `user:pass@proxy`), so then everything before the
// last "@" of the authority part is masked by hand.
func URL(s string) string {
	if u, err := url.Parse(s); err == nil && u.User != nil && u.Host != "" {
		u.User = nil
		scheme, rest, _ := strings.Cut(u.String(), "://")
		return scheme + "://" + Mask + "@" + rest
	}
	prefix, rest := "", s
	if i := strings.Index(s, "://"); i >= 0 {
		prefix, rest = s[:i+3], s[i+3:]
	}
	end := len(rest)
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		end = i
	}
	if at := strings.LastIndex(rest[:end], "@"); at >= 0 {
		return prefix + Mask + rest[at:]
	}
	return s
}

// Secrets is a set of strings never to print. Safe for concurrent use; the
// zero value and nil hold nothing.
type Secrets struct {
	mu   sync.RWMutex
	list []string
	r    *strings.Replacer
}

// New returns a Secrets holding the non-empty values given.
func New(values ...string) *Secrets {
	s := &Secrets{}
	for _, v := range values {
		s.Add(v)
	}
	return s
}

// Of holds what a client sending key and values (as request headers) to
// urls must never print: key, values, and the credentials of each URL. The
// configuration (for log lines) and the intake client (for answers and
// errors) build their sets with it, so a new secret-bearing option is added
// in one place.
func Of(key string, urls, values []string) *Secrets {
	s := New(key)
	for _, u := range urls {
		s.AddURL(u)
	}
	for _, v := range values {
		s.Add(v)
	}
	return s
}

// MinLen is the shortest value held. Masking every "prod" or "web" of a
// line (a header value such as `X-Team web` is no secret) would garble the
// plugin's own log, and a credential that short protects nothing: Datadog
// API keys have 32 characters.
const MinLen = 8

// Add holds v (ignored when shorter than MinLen).
func (s *Secrets) Add(v string) {
	if len(v) < MinLen {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, x := range s.list {
		if x == v {
			return
		}
	}
	s.list = append(s.list, v)
	// Longest first: a secret that holds another is masked whole.
	sort.Slice(s.list, func(i, j int) bool { return len(s.list[i]) > len(s.list[j]) })
	pairs := make([]string, 0, 2*len(s.list))
	for _, x := range s.list {
		pairs = append(pairs, x, Mask)
	}
	s.r = strings.NewReplacer(pairs...)
}

// AddURL holds the userinfo of a URL: the whole "user:password", the
// password, and both escaped as they may print.
func (s *Secrets) AddURL(raw string) {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return
	}
	s.Add(u.User.String())
	if p, ok := u.User.Password(); ok {
		s.Add(p)
		s.Add(url.QueryEscape(p))
	}
}

// Scrub returns text with every secret replaced by Mask.
func (s *Secrets) Scrub(text string) string {
	if s == nil {
		return text
	}
	s.mu.RLock()
	r := s.r
	s.mu.RUnlock()
	if r == nil {
		return text
	}
	return r.Replace(text)
}
