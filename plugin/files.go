package main

/*
#include <stdlib.h>
#include "fluentbit.h"
*/
import "C"

import (
	"strings"
	"sync"
	"unsafe"

	"github.com/out-datadog-go/out_datadog_go/internal/config"
	"github.com/out-datadog-go/out_datadog_go/internal/flbconf"
	"github.com/out-datadog-go/out_datadog_go/internal/logging"
)

// readFluentBitConfig reads the configuration Fluent Bit was started with,
// its variables expanded by Fluent Bit's own code (fluentbit.c) when the
// host is Fluent Bit.
func readFluentBitConfig() *flbconf.Config {
	env := C.ddgo_env_new()
	if env == nil {
		return flbconf.Self(nil)
	}
	defer C.ddgo_env_free(env)
	return flbconf.Self(fluentBitVars{env})
}

// fluentBitVars are flbconf.Vars in a struct flb_env of Fluent Bit's.
type fluentBitVars struct{ env unsafe.Pointer }

func (v fluentBitVars) Set(name, value string) {
	cn, cv := C.CString(name), C.CString(value)
	C.ddgo_env_set(v.env, cn, cv)
	C.free(unsafe.Pointer(cn))
	C.free(unsafe.Pointer(cv))
}

func (v fluentBitVars) Expand(value string) string {
	cv := C.CString(value)
	defer C.free(unsafe.Pointer(cv))
	out := C.ddgo_env_expand(v.env, cv)
	if out == nil {
		return value
	}
	defer C.free(unsafe.Pointer(out))
	return C.GoString(out)
}

// fromFiles applies to cfg what Fluent Bit's files say of this output
// beyond what Fluent Bit passes it: a misspelt key stops start-up; the
// section that is this output gives every header line and the built-in
// output's leftovers (cfg.Warnings takes what they have to say). It
// returns the service's Grace. What the plugin cannot read it says once,
// and takes the choice that loses nothing: Grace unknown (no cut at a
// stop), the section's leftovers and further header lines not read.
func fromFiles(cfg *config.Config, conf *flbconf.Config, get func(string) string, log *logging.Logger) (flbconf.Grace, error) {
	if err := conf.UnknownKey(PluginName, config.Keys, get); err != nil {
		return flbconf.Grace{}, err
	}
	if len(conf.Unread) > 0 {
		sayOnce(log.Warnf, "cannot read "+strings.Join(conf.Unread, "; ")+
			": what it sets is unknown to the plugin, so Grace is taken as unknown, and Host, Port, TLS and header lines there are not read")
	}
	switch in := conf.Instance(PluginName, config.Keys, get); {
	case in.Section != nil:
		warnings, err := cfg.ApplySection(in.Section, get)
		if err != nil {
			return flbconf.Grace{}, err
		}
		cfg.Warnings = append(cfg.Warnings, warnings...)
	case in.Ambiguous:
		cfg.Warnings = append(cfg.Warnings, in.Why+": their Host, Port and TLS are not checked, and only the first header line is sent; "+
			"datadog_go does not read Host and Port (set site or endpoint)")
	default:
		log.Debugf("Fluent Bit's configuration: %s: Host, Port, TLS and header lines after the first are not read", in.Why)
	}
	grace := conf.Grace()
	if !grace.Known {
		sayOnce(log.Infof, grace.String()+": flushes are not cut when Fluent Bit stops; retry_budget ("+cfg.RetryBudget.String()+
			") bounds each one, the intake's health the ones queued (one probe request at a time while it is down)")
	}
	return grace, nil
}

// said are the lines sayOnce printed: one for the process, whatever the
// number of outputs.
var said sync.Map

func sayOnce(say func(string, ...any), line string) {
	if _, done := said.LoadOrStore(line, true); !done {
		say("%s", line)
	}
}
