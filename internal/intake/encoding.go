package intake

import (
	"net/http"
	"strings"
)

// The payload encoding, and the one fallback from it. zstd is the default,
// as the Datadog Agent and Vector send it, but a relay or proxy on the way
// may not speak it: when the answer to a payload says its encoding is
// refused (refusesEncoding), the client switches to the fallback codec for
// good, says so once, and sends the same payload again in it.

// codec is the encoder of the next payload: the configured one, or the
// fallback once the path to the intake refused the configured one.
func (c *Client) codec() Compressor {
	if c.fellBack.Load() {
		return c.o.Fallback
	}
	return c.o.Codec
}

// canFallBack says whether a payload encoded as enc has somewhere to fall
// back to.
func (c *Client) canFallBack(enc string) bool {
	return c.o.Fallback != nil && enc == c.o.Codec.ContentEncoding() && enc != c.o.Fallback.ContentEncoding()
}

// refusesEncoding says whether answer a refuses the encoding enc of the
// payload it answers: 415 Unsupported Media Type, or a 400 whose message
// names the encoding (an intake that answers every refusal 400). It reads
// only answers to payloads that can fall back.
func (c *Client) refusesEncoding(a answer, enc string) bool {
	if !c.canFallBack(enc) {
		return false
	}
	switch a.status {
	case http.StatusUnsupportedMediaType:
		return true
	case http.StatusBadRequest:
		msg := strings.ToLower(a.msg)
		return strings.Contains(msg, strings.ToLower(enc)) || strings.Contains(msg, "encoding")
	}
	return false
}

// fallBack switches the client to the fallback codec after answer a refused
// enc; the first payload to be refused says so.
func (c *Client) fallBack(enc string, a answer) {
	if c.fellBack.CompareAndSwap(false, true) {
		c.o.Logger.Warnf("intake %s refused %s payloads (HTTP %d: %s): this output sends %s from now on, until Fluent Bit restarts; "+
			"set `compress %s` to make it the configured choice, or let the relay or proxy on the way pass %s",
			c.host, enc, a.status, a.msg, c.o.Fallback.ContentEncoding(), c.o.Fallback.ContentEncoding(), enc)
	}
}
