package stats

import "net/http"

// Answer is what the intake (or the way to it) answered one request,
// in the classes requests_total counts: a bounded set of label values
// that tells a wrong API key (401/403) from an outage (5xx, network) and
// from throttling (429).
type Answer int

const (
	Answer2xx     Answer = iota // accepted
	Answer400                   // the payload's content (isolated, delivery.go)
	Answer401403                // the API key is missing or wrong, or of another site
	Answer408                   // request timeout
	Answer413                   // payload too large
	Answer429                   // throttled
	Answer5xx                   // the intake failing
	AnswerNetwork               // no answer: a connection error or timeout
	AnswerOther                 // 1xx, 3xx (never followed), another 4xx
	NumAnswers
)

var answerNames = [NumAnswers]string{"2xx", "400", "401/403", "408", "413", "429", "5xx", "network", "other"}

func (a Answer) String() string { return answerNames[a] }

// Outcome is requests_total's older label, which the answer refines:
// accepted, refused (the payload's content) or failed (retried).
func (a Answer) Outcome() string {
	switch a {
	case Answer2xx:
		return "accepted"
	case Answer400, Answer413:
		return "refused"
	}
	return "failed"
}

// AnswerOf classes an HTTP status; status 0 is no answer (network).
func AnswerOf(status int) Answer {
	switch {
	case status == 0:
		return AnswerNetwork
	case status >= 200 && status < 300:
		return Answer2xx
	case status == http.StatusBadRequest:
		return Answer400
	case status == http.StatusUnauthorized, status == http.StatusForbidden:
		return Answer401403
	case status == http.StatusRequestTimeout:
		return Answer408
	case status == http.StatusRequestEntityTooLarge:
		return Answer413
	case status == http.StatusTooManyRequests:
		return Answer429
	case status >= 500 && status < 600:
		return Answer5xx
	}
	return AnswerOther
}
