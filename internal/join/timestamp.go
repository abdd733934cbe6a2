package join

import "bytes"

// startsWithTimestamp: a date with a time, or a time of day, at the line's
// start, or right after a prefix loggers put before it: one of [ ( <,
// logfmt's time=/ts= (quoted or not), Ruby Logger's "I, [", klog's
// "I0102 ", the Common Log Format's "host ident user [". The forms are the
// Datadog Agent's knownTimestampFormats (auto_multiline_detection/
// timestamp_detector.go), which it matches anywhere in a line's first
// bytes with a token graph; the plugin matches them where a log's header
// puts them, so a trace line quoting a time never starts a log.
func startsWithTimestamp(s []byte) bool {
	if isTimestamp(s) {
		return true
	}
	switch s[0] {
	case '[', '(', '<':
		return isTimestamp(s[1:])
	}
	for _, p := range [...]string{"time=", "ts=", "t=", "timestamp=", "@timestamp=", "date="} {
		if hasPrefix(s, p) {
			r := s[len(p):]
			if len(r) > 0 && r[0] == '"' {
				r = r[1:]
			}
			return isTimestamp(r)
		}
	}
	// Ruby's Logger: "I, [2026-01-15T10:00:00.123456 #1]  INFO -- : msg"
	if len(s) > 4 && s[0] >= 'A' && s[0] <= 'Z' && s[1] == ',' && s[2] == ' ' && s[3] == '[' {
		return isTimestamp(s[4:])
	}
	// klog and glog: "I0115 10:00:00.123456    1 main.go:10] msg"
	if len(s) > 6 && bytes.IndexByte([]byte("IWEF"), s[0]) >= 0 && digits(s, 1) == 4 && s[5] == ' ' {
		if _, ok := clock(s, 6, true); ok {
			return true
		}
	}
	// Common Log Format: `10.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET …`
	fields, i := 0, 0
	for i < len(s) && i < 256 && fields < 3 {
		j := bytes.IndexByte(s[i:min(len(s), 256)], ' ')
		if j <= 0 {
			break
		}
		i += j + 1
		fields++
	}
	return fields == 3 && i < len(s) && s[i] == '[' && isTimestamp(s[i+1:])
}

// isTimestamp: s starts with one of the date-and-time forms, or a time of
// day with seconds.
func isTimestamp(s []byte) bool {
	i := 0
	if n := letters(s, 0); n > 0 { // a weekday, then a date
		if !isName(s[:n], weekdays) {
			return monthFirst(s, 0)
		}
		i = n
		if i < len(s) && s[i] == ',' {
			i++
		}
		if i >= len(s) || s[i] != ' ' {
			return false
		}
		i++
		if letters(s, i) > 0 {
			return monthFirst(s, i)
		}
		return dayFirst(s, i)
	}
	switch d := digits(s, 0); {
	case d == 4:
		return yearFirst(s)
	case d == 1 || d == 2:
		if _, ok := clock(s, 0, true); ok {
			return true
		}
		return dayFirst(s, 0)
	}
	return false
}

var (
	months   = []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}
	weekdays = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
)

// isName: w is one of names (3 letters), or a word starting with one,
// in any case ("Mar", "March", "MAR").
func isName(w []byte, names []string) bool {
	if len(w) < 3 {
		return false
	}
	var l [3]byte
	for i := range l {
		l[i] = w[i] | 0x20
	}
	for _, n := range names {
		if string(l[:]) == n {
			return true
		}
	}
	return false
}

// yearFirst: 2026-01-15, 2026/01/15, 2026.01.15 then an optional time
// ("2026-01-15T10:00:00Z", "2026/01/15 10:00:00", "2017-05-16_13:53:08");
// an ISO date alone counts too, as the Agent's older detector took it
// (auto_multiline_handler.go, its last format). Or 2026 Jan 15 10:00:00.
func yearFirst(s []byte) bool {
	i := 4
	if i < len(s) && s[i] == ' ' {
		if n := letters(s, i+1); n > 0 && isName(s[i+1:i+1+n], months) {
			i += 1 + n
			if i >= len(s) || s[i] != ' ' {
				return false
			}
			d := digits(s, i+1)
			if d < 1 || d > 2 {
				return false
			}
			_, ok := clockAfter(s, i+1+d)
			return ok
		}
		return false
	}
	i, ok := datePart(s, i, 1, 12)
	if !ok {
		return false
	}
	if i, ok = datePart(s, i, 1, 31); !ok {
		return false
	}
	if _, ok := clockAfter(s, i); ok {
		return true
	}
	return s[4] == '-' && (i == len(s) || !isDigit(s[i]) && !isLetter(s[i]))
}

// dayFirst: 15/Jan/2026:10:00:00, 15-Jan-2026 10:00:00, 15 Jan 2026 10:00,
// 15/Jan 10:00:00, and numeric dates with a time: 01/15/26 10:00:00,
// 1/5/2026 3:31:18 AM, 26-01-15 10:00:00.
func dayFirst(s []byte, i int) bool {
	d := digits(s, i)
	if d < 1 || d > 2 {
		return false
	}
	i += d
	if i >= len(s) || !(isDateSep(s[i]) || s[i] == ' ') {
		return false
	}
	i++
	if n := letters(s, i); n > 0 {
		if !isName(s[i:i+n], months) {
			return false
		}
		i += n
		if _, ok := clockAfter(s, i); ok { // no year: "23/Apr 11:42:35"
			return true
		}
		if i < len(s) && (isDateSep(s[i]) || s[i] == ' ') {
			if y := digits(s, i+1); y == 2 || y == 4 {
				_, ok := clockAfter(s, i+1+y)
				return ok
			}
		}
		return false
	}
	m := digits(s, i)
	if m < 1 || m > 2 {
		return false
	}
	i += m
	if i >= len(s) || !isDateSep(s[i]) {
		return false
	}
	y := digits(s, i+1)
	if y != 2 && y != 4 {
		return false
	}
	_, ok := clockAfter(s, i+1+y)
	return ok
}

// monthFirst: Jan 15 10:00:00, Jan  5 10:00:00, Jan 15 2026 10:00:00,
// Jan 15, 2026 10:00:00 AM (syslog, Java's SimpleFormatter, C's asctime).
func monthFirst(s []byte, i int) bool {
	n := letters(s, i)
	if n == 0 || !isName(s[i:i+n], months) {
		return false
	}
	i += n
	if i >= len(s) || s[i] != ' ' {
		return false
	}
	for i < len(s) && s[i] == ' ' {
		i++
	}
	d := digits(s, i)
	if d < 1 || d > 2 {
		return false
	}
	i += d
	if i < len(s) && s[i] == ',' {
		i++
	}
	if i+5 < len(s) && s[i] == ' ' && digits(s, i+1) == 4 {
		i += 5
	}
	_, ok := clockAfter(s, i)
	return ok
}

// clockAfter: at s[i], the separator between a date and its time (one of
// "T _:*-@", or 'T' quoted), then the time.
func clockAfter(s []byte, i int) (int, bool) {
	if i >= len(s) {
		return i, false
	}
	switch {
	case hasPrefix(s[i:], "'T'"):
		i += 3
	case bytes.IndexByte([]byte("T _:*-@"), s[i]) >= 0:
		i++
	default:
		return i, false
	}
	return clock(s, i, false)
}

// clock: h:mm or hh:mm, then :ss (required when seconds is set), and not
// followed by a digit; it returns the index after it.
func clock(s []byte, i int, seconds bool) (int, bool) {
	h := digits(s, i)
	if h < 1 || h > 2 || !inRange(s[i:i+h], 0, 23) {
		return i, false
	}
	i += h
	for k, max := range [...]int{59, 60} {
		if i >= len(s) || s[i] != ':' && s[i] != '-' {
			if k == 1 && !seconds {
				return i, true
			}
			return i, false
		}
		if digits(s, i+1) != 2 || !inRange(s[i+1:i+3], 0, max) {
			return i, k == 1 && !seconds
		}
		i += 3
	}
	return i, i == len(s) || !isDigit(s[i])
}

// datePart: at s[i] a date separator, then a number of one or two digits
// from lo to hi; the index after it.
func datePart(s []byte, i, lo, hi int) (int, bool) {
	if i >= len(s) || !isDateSep(s[i]) {
		return i, false
	}
	d := digits(s, i+1)
	if d < 1 || d > 2 || !inRange(s[i+1:i+1+d], lo, hi) {
		return i, false
	}
	return i + 1 + d, true
}

func isDateSep(c byte) bool { return c == '-' || c == '/' || c == '.' }

// digits is the number of ASCII digits at s[i:] (at most 9).
func digits(s []byte, i int) int {
	n := 0
	for i+n < len(s) && n < 9 && isDigit(s[i+n]) {
		n++
	}
	return n
}

// letters is the number of ASCII letters at s[i:] (at most 16).
func letters(s []byte, i int) int {
	n := 0
	for i+n < len(s) && n < 16 && isLetter(s[i+n]) {
		n++
	}
	return n
}

// inRange: the decimal number d is within [lo, hi].
func inRange(d []byte, lo, hi int) bool {
	v := 0
	for _, c := range d {
		v = v*10 + int(c-'0')
	}
	return v >= lo && v <= hi
}
