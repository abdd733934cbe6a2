package chunkgen

import (
	"github.com/out-datadog-go/out_datadog_go/internal/batch"
	"github.com/out-datadog-go/out_datadog_go/internal/event"
	"github.com/out-datadog-go/out_datadog_go/internal/shape"
)

// Payload is the intake payload (a JSON array) the plugin builds from the
// first max records of chunk shaped by s, for tests and benchmarks that
// need payloads as shipped. tag is the records' Fluent Bit tag.
func Payload(chunk []byte, s *shape.Shaper, tag []byte, max int) ([]byte, error) {
	var b batch.Batch
	d := event.NewDecoder(chunk)
	var ev event.Event
	for b.Len() < max && d.Next(&ev) == nil {
		buf, _, err := s.Append(b.Begin(int32(b.Len())), &ev, tag)
		if err != nil {
			return nil, err
		}
		b.End(buf)
	}
	return b.Bytes(), nil
}
