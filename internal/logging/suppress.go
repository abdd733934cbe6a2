package logging

import (
	"fmt"
	"strings"
	"sync"
	"time"
)

// DefaultSuppressInterval is how often a warning or error of one kind is
// printed when Fluent Bit's log_suppress_interval is not set: a wrong API
// key, or every flush of a stop, then costs a line and a count a minute,
// not a line per request.
const DefaultSuppressInterval = time.Minute

// maxKinds bounds what a suppressor remembers: the plugin's warnings and
// errors are of a few dozen formats; a line of a kind past the bound is
// printed.
const maxKinds = 256

// Suppress makes the logger print a warning or error of one kind at most
// once per interval, as Fluent Bit's log_suppress_interval does for its own
// outputs' lines; 0 or less prints every line (the default). A line's kind
// is its format ("intake %s answered HTTP %d ..."), so lines that differ
// only in their figures are one kind; a format without text of its own
// ("%s") is a kind per message. The lines of a kind suppressed in an
// interval are counted, and at its end one line says how many there were,
// with the last of them; the next interval starts then, so a storm of one
// kind costs one line per interval. Debug and info lines are never
// suppressed. Call Flush before the logger's last line.
func (l *Logger) Suppress(interval time.Duration) {
	if interval <= 0 {
		l.sup.Store(nil)
		return
	}
	l.sup.Store(&suppressor{l: l, interval: interval, now: time.Now, after: afterFunc, kinds: map[string]*kind{}})
}

// Flush prints the count lines of the kinds suppressed in the current
// intervals at once (an instance's exit: its last lines).
func (l *Logger) Flush() {
	if s := l.sup.Load(); s != nil {
		s.flushAll()
	}
}

// suppressor is a logger's memory of the kinds of line it printed lately.
type suppressor struct {
	l        *Logger
	interval time.Duration
	now      func() time.Time
	after    func(time.Duration, func()) func() bool // time.AfterFunc; tests replace it

	mu    sync.Mutex
	kinds map[string]*kind
}

type kind struct {
	start time.Time   // of the current interval; zero when the kind is idle
	count int         // lines suppressed in it
	last  string      // the last of them
	lv    Level       // its level
	stop  func() bool // the timer that ends the interval, nil when none runs
}

func afterFunc(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }

// kindOf is the kind of a line written with format: the format, or the
// message itself when the format is verbs only.
func kindOf(format, msg string) string {
	text := format
	for _, v := range []string{"%s", "%v", "%q", "%d", "%w"} {
		text = strings.ReplaceAll(text, v, "")
	}
	if strings.TrimSpace(text) == "" {
		return msg
	}
	return format
}

// admit reports whether a line of key is printed now; when not, it is
// counted for its interval's count line.
func (s *suppressor) admit(lv Level, key, msg string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.kinds[key]
	if k == nil {
		if len(s.kinds) >= maxKinds {
			return true
		}
		k = &kind{}
		s.kinds[key] = k
	}
	now := s.now()
	if k.start.IsZero() || k.count == 0 && now.Sub(k.start) >= s.interval {
		k.start = now
		return true
	}
	k.count++
	k.last, k.lv = msg, lv
	if k.stop == nil {
		k.stop = s.after(k.start.Add(s.interval).Sub(now), func() { s.end(key) })
	}
	return false
}

// end closes the interval of key: its count line, and a new interval
// from now, whose lines are counted too.
func (s *suppressor) end(key string) {
	defer func() { _ = recover() }() // a timer's goroutine: a panic must not end the process
	s.mu.Lock()
	k := s.kinds[key]
	line, lv := s.countLine(k)
	k.stop = nil
	k.start = s.now()
	s.mu.Unlock()
	s.print(lv, line)
}

// countLine takes k's count; "" when it has none. s.mu is held.
func (s *suppressor) countLine(k *kind) (string, Level) {
	if k == nil || k.count == 0 {
		return "", Debug
	}
	line := fmt.Sprintf("%d more line(s) like this in the last %s (log_suppress_interval): %s", k.count, s.interval, k.last)
	k.count, k.last = 0, ""
	return line, k.lv
}

func (s *suppressor) flushAll() {
	s.mu.Lock()
	type pending struct {
		lv   Level
		line string
	}
	var out []pending
	for _, k := range s.kinds {
		if k.stop != nil {
			k.stop()
			k.stop = nil
		}
		if line, lv := s.countLine(k); line != "" {
			out = append(out, pending{lv, line})
		}
		k.start = time.Time{}
	}
	s.mu.Unlock()
	for _, p := range out {
		s.print(p.lv, p.line)
	}
}

// print writes a count line past the suppression, already masked (it
// holds a line that was).
func (s *suppressor) print(lv Level, line string) {
	if line == "" {
		return
	}
	if o := s.l.out.Load(); lv >= o.level {
		o.sink.Print(lv, s.l.name, line)
	}
}
