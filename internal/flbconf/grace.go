package flbconf

import (
	"fmt"
	"strconv"
	"strings"
)

// DefaultGrace is Fluent Bit's Grace when the service does not set it
// (flb_config_init, every line).
const DefaultGrace = 5

// Grace is the service's Grace as Fluent Bit resolved it, or unknown.
type Grace struct {
	Seconds int // as Fluent Bit holds it; -1 on 4.x and 5.x: until every flush is done
	Known   bool
	// Where it was set (file:line), "" for Fluent Bit's default; when
	// not Known, why it is unknown.
	Where string
}

func (g Grace) String() string {
	switch {
	case !g.Known:
		return "Grace unknown (" + g.Where + ")"
	case g.Where == "":
		return fmt.Sprintf("Grace %d (Fluent Bit's default)", g.Seconds)
	}
	return fmt.Sprintf("Grace %d (%s)", g.Seconds, g.Where)
}

// Grace is the service's Grace: the last grace key of the [SERVICE]
// sections (Fluent Bit merges them, flb_cf_section_create, and sets each
// property in order), its value expanded and read as atoi reads it
// (flb_config_set_property, FLB_CONF_TYPE_INT): "30s" and "30.5" are 30,
// "" is 0. Unknown when the configuration was not read, when a file of it
// could not be (it may set Grace, or a variable Grace uses), or when its
// value holds a variable the plugin could not expand.
func (c *Config) Grace() Grace {
	switch {
	case c == nil:
		return Grace{Where: "Fluent Bit's configuration was not read"}
	case c.err != nil:
		return Grace{Where: "Fluent Bit's configuration was not read: " + c.err.Error()}
	case len(c.Unread) > 0:
		return Grace{Where: "a file of Fluent Bit's configuration could not be read"}
	}
	g := Grace{Seconds: DefaultGrace, Known: true}
	for _, s := range c.Sections {
		if s.Kind != "service" {
			continue
		}
		for _, p := range s.Props {
			if !strings.EqualFold(p.Key, "grace") {
				continue
			}
			if p.Unresolved {
				g = Grace{Where: fmt.Sprintf("%s: %q holds a variable only Fluent Bit can expand", s.Where, p.Raw)}
			} else {
				g = Grace{Seconds: atoi(p.Value), Known: true, Where: s.Where}
			}
		}
	}
	return g
}

// atoi is glibc's atoi, (int) strtol(s, NULL, 10): leading white space, a
// sign and the digits up to the first other character, 0 for none; strtol
// clamps to the long's range, and the int keeps the low 32 bits.
func atoi(s string) int {
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	end := 0
	if end < len(s) && (s[end] == '+' || s[end] == '-') {
		end++
	}
	digits := end
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	if end == digits {
		return 0
	}
	l, _ := strconv.ParseInt(s[:end], 10, 64) // out of range: clamped, as strtol's
	return int(int32(l))
}
