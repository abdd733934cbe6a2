package main

/*
#include "fluentbit.h"
*/
import "C"

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/out-datadog-go/out_datadog_go/internal/logging"
)

// suppressInterval is how often the instance prints a warning or error of
// one kind (logging.Logger.Suppress): the output's log_suppress_interval,
// which Fluent Bit 1.9 passes to the plugin and 2.0.9 and later keep in the
// instance (read there, see ddgo_log_suppress_interval), else
// logging.DefaultSuppressInterval. 0 turns suppression off. note is set
// when the instance could not be read: the default applies, said once.
func suppressInterval(plugin unsafe.Pointer, get func(string) string) (d time.Duration, note string, err error) {
	if v := strings.TrimSpace(get("log_suppress_interval")); v != "" {
		s, err := flbSeconds(v)
		if err != nil {
			return 0, "", fmt.Errorf("log_suppress_interval: %v", err)
		}
		return time.Duration(s) * time.Second, "", nil
	}
	switch s := int(C.ddgo_log_suppress_interval(plugin)); {
	case s >= 0:
		return time.Duration(s) * time.Second, "", nil
	case s == -2:
		note = fmt.Sprintf("log_suppress_interval not read: this Fluent Bit's output instance is not laid out as 4.2.8's or 5.1.1's; "+
			"a repeated warning or error is printed once per %s", logging.DefaultSuppressInterval)
	}
	return logging.DefaultSuppressInterval, note, nil
}

// flbSeconds reads a time as Fluent Bit does (flb_utils_time_to_seconds):
// a number of seconds, or with a unit d, h or m (s too).
func flbSeconds(v string) (int, error) {
	mult := 1
	switch v[len(v)-1] {
	case 'd', 'D':
		mult = 86400
	case 'h', 'H':
		mult = 3600
	case 'm', 'M':
		mult = 60
	case 's', 'S':
	default:
		mult = 0
	}
	num := v
	if mult != 0 {
		num = v[:len(v)-1]
	} else {
		mult = 1
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 0 || n > 7*86400/mult {
		return 0, fmt.Errorf("%q is not a time in seconds (10, 30s, 5m, 1h)", v)
	}
	return n * mult, nil
}
