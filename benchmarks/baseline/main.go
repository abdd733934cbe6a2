// Command baseline is the in-run baseline of `make bench`: the
// straightforward Go output plugin a first version would be, built the
// documented way — fluent-bit-go's decoder, map[interface{}]interface{}
// records converted for encoding/json, compress/gzip at its default level,
// payloads of at most 1,000 entries, one net/http client. It is not
// sabotaged: it is what our figures are ratios against.
package main

import "C"

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"time"
	"unsafe"

	"github.com/fluent/fluent-bit-go/output"

	"github.com/out-datadog-go/out_datadog_go/internal/profiling"
)

// measure lets `make bench` read this plugin's allocations as it reads
// datadog_go's (internal/profiling).
var measure profiling.Session

type instance struct {
	url, key, service, source, tags, msgKey string
	client                                  *http.Client
}

//export FLBPluginRegister
func FLBPluginRegister(def unsafe.Pointer) int {
	return output.FLBPluginRegister(def, "datadog_baseline", "baseline Go Datadog output")
}

//export FLBPluginInit
func FLBPluginInit(plugin unsafe.Pointer) int {
	in := &instance{
		url:     output.FLBPluginConfigKey(plugin, "endpoint") + "/api/v2/logs",
		key:     output.FLBPluginConfigKey(plugin, "apikey"),
		service: output.FLBPluginConfigKey(plugin, "dd_service"),
		source:  output.FLBPluginConfigKey(plugin, "dd_source"),
		tags:    output.FLBPluginConfigKey(plugin, "dd_tags"),
		msgKey:  output.FLBPluginConfigKey(plugin, "dd_message_key"),
		client:  &http.Client{Timeout: 30 * time.Second},
	}
	if in.msgKey == "" {
		in.msgKey = "log"
	}
	output.FLBPluginSetContext(plugin, in)
	_ = measure.Begin()
	return output.FLB_OK
}

func convert(v interface{}) interface{} {
	switch t := v.(type) {
	case []byte:
		return string(t)
	case map[interface{}]interface{}:
		m := make(map[string]interface{}, len(t))
		for k, val := range t {
			m[fmt.Sprint(convert(k))] = convert(val)
		}
		return m
	case []interface{}:
		for i := range t {
			t[i] = convert(t[i])
		}
		return t
	}
	return v
}

//export FLBPluginFlushCtx
func FLBPluginFlushCtx(ctx, data unsafe.Pointer, length C.int, tag *C.char) int {
	in := output.FLBPluginGetContext(ctx).(*instance)
	dec := output.NewDecoder(data, int(length))
	var entries []map[string]interface{}
	for {
		ret, ts, rec := output.GetRecord(dec)
		if ret != 0 {
			break
		}
		var ms int64
		switch t := ts.(type) {
		case output.FLBTime:
			ms = t.UnixMilli()
		case uint64:
			ms = int64(t) * 1000
		}
		// fluent-bit-go reads EventTime seconds as unsigned, so Fluent Bit
		// 4's group markers (-1, -2) come out in 2106: skip them.
		if ms < 0 || ms > 4_000_000_000_000 {
			continue
		}
		e := map[string]interface{}{"timestamp": ms, "ddsource": in.source, "service": in.service, "ddtags": in.tags}
		for k, v := range rec {
			key := fmt.Sprint(convert(k))
			if key == in.msgKey {
				key = "message"
			}
			e[key] = convert(v)
		}
		entries = append(entries, e)
		if len(entries) == 1000 {
			if !in.send(entries) {
				return output.FLB_RETRY
			}
			entries = entries[:0]
		}
	}
	if len(entries) > 0 && !in.send(entries) {
		return output.FLB_RETRY
	}
	return output.FLB_OK
}

func (in *instance) send(entries []map[string]interface{}) bool {
	body, err := json.Marshal(entries)
	if err != nil {
		fmt.Fprintln(os.Stderr, "baseline:", err)
		return false
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(body)
	zw.Close()
	req, _ := http.NewRequest(http.MethodPost, in.url, &buf)
	req.Header.Set("DD-API-KEY", in.key)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Encoding", "gzip")
	req.Header.Set("User-Agent", "baseline")
	resp, err := in.client.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	return resp.StatusCode/100 == 2
}

//export FLBPluginExitCtx
func FLBPluginExitCtx(ctx unsafe.Pointer) int {
	_ = measure.End()
	return output.FLB_OK
}

func main() {}
