package fbtest

import (
	"bufio"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/tinylib/msgp/msgp"

	"github.com/out-datadog-go/out_datadog_go/internal/event/chunkgen"
)

// Forwarder is a client of Fluent Bit's forward input, sending in Forward
// mode ([tag, [[time, record], ...], option]) with EventTime timestamps,
// as Docker's fluentd log driver (FireLens' awsfirelens driver) does with
// sub-second precision. With Ack each message asks for the input's ack
// ("chunk" option) and Send waits for it, so a sender cannot run ahead of
// what the input has taken.
type Forwarder struct {
	Ack  bool
	conn net.Conn
	r    *msgp.Reader
	w    *bufio.Writer
	buf  []byte
	n    int
}

// DialForward connects to a forward input: network "unix" with a socket
// path, or "tcp" with host:port.
func DialForward(network, addr string) (*Forwarder, error) {
	conn, err := net.DialTimeout(network, addr, 5*time.Second)
	if err != nil {
		return nil, fmt.Errorf("fbtest: dialing the forward input: %w", err)
	}
	return &Forwarder{conn: conn, r: msgp.NewReader(conn), w: newWriter(conn)}, nil
}

func newWriter(conn net.Conn) *bufio.Writer { return bufio.NewWriterSize(conn, 1<<16) }

// Event is one record (a msgpack map) and its time.
type Event struct {
	Time   time.Time
	Record []byte
}

// Send writes one Forward-mode message with events under tag.
func (f *Forwarder) Send(tag string, events []Event) error {
	b := f.buf[:0]
	n := 2
	if f.Ack {
		n = 3
	}
	b = msgp.AppendArrayHeader(b, uint32(n))
	b = msgp.AppendString(b, tag)
	b = msgp.AppendArrayHeader(b, uint32(len(events)))
	for _, e := range events {
		b = msgp.AppendArrayHeader(b, 2)
		b = chunkgen.AppendEventTime(b, uint32(e.Time.Unix()), uint32(e.Time.Nanosecond()))
		b = append(b, e.Record...)
	}
	var chunk string
	if f.Ack {
		f.n++
		chunk = "fbtest-" + strconv.Itoa(f.n)
		b = msgp.AppendMapHeader(b, 1)
		b = msgp.AppendString(msgp.AppendString(b, "chunk"), chunk)
	}
	f.buf = b
	if _, err := f.w.Write(b); err != nil {
		return fmt.Errorf("fbtest: forward write: %w", err)
	}
	if err := f.w.Flush(); err != nil {
		return fmt.Errorf("fbtest: forward write: %w", err)
	}
	if f.Ack {
		return f.readAck(chunk)
	}
	return nil
}

func (f *Forwarder) readAck(chunk string) error {
	_ = f.conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	defer func() { _ = f.conn.SetReadDeadline(time.Time{}) }()
	sz, err := f.r.ReadMapHeader()
	if err != nil {
		return fmt.Errorf("fbtest: reading the forward ack: %w", err)
	}
	for i := uint32(0); i < sz; i++ {
		k, err := f.r.ReadString()
		if err != nil {
			return fmt.Errorf("fbtest: forward ack key: %w", err)
		}
		if k != "ack" {
			if err := f.r.Skip(); err != nil {
				return err
			}
			continue
		}
		v, err := f.r.ReadString()
		if err != nil {
			return fmt.Errorf("fbtest: forward ack value: %w", err)
		}
		if v != chunk {
			return fmt.Errorf("fbtest: forward ack for %q, sent %q", v, chunk)
		}
		return nil
	}
	return fmt.Errorf("fbtest: forward answer without ack")
}

// Close closes the connection.
func (f *Forwarder) Close() error { return f.conn.Close() }

// Container is the app container whose stdout/stderr a FireLens router
// receives: what Docker's log driver puts in every record.
type Container struct {
	ID   string // container_id
	Name string // container_name, with Docker's leading "/"
}

// DefaultContainer is chunkgen's FireLens container.
var DefaultContainer = Container{ID: chunkgen.DefaultECS.ContainerID, Name: chunkgen.DefaultECS.ContainerName}

// Records generates n records as the log driver sends them (log, source,
// container_id, container_name; FireLens' record_modifier adds the ECS
// fields), with log lines of chunkgen's FireLens mix, each carrying its
// seq=N marker (0..n-1) for exactly-once checks.
func Records(n int, seed uint64, c Container) [][]byte {
	g := chunkgen.New(seed)
	shapes := chunkgen.FireLensMix
	out := make([][]byte, n)
	for i := range out {
		shape := shapes[i%len(shapes)]
		source := "stdout"
		if shape == chunkgen.Stack || i%7 == 0 {
			source = "stderr"
		}
		b := msgp.AppendMapHeader(nil, 4)
		b = msgp.AppendString(msgp.AppendString(b, "container_id"), c.ID)
		b = msgp.AppendString(msgp.AppendString(b, "container_name"), c.Name)
		b = msgp.AppendString(msgp.AppendString(b, "source"), source)
		b = msgp.AppendString(msgp.AppendString(b, "log"), g.Line(shape, i))
		out[i] = b
	}
	return out
}

// SendRecords sends records under tag in messages of batch events each,
// timed now.
func SendRecords(f *Forwarder, tag string, records [][]byte, batch int) error {
	if batch <= 0 {
		batch = 100
	}
	events := make([]Event, 0, batch)
	for i := 0; i < len(records); i += batch {
		events = events[:0]
		now := time.Now()
		for _, r := range records[i:min(i+batch, len(records))] {
			events = append(events, Event{Time: now, Record: r})
		}
		if err := f.Send(tag, events); err != nil {
			return err
		}
	}
	return nil
}
