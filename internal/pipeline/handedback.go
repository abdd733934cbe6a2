package pipeline

import (
	"encoding/binary"
	"hash/maphash"
	"sync"
)

// handedBack remembers the chunks flushes handed back to Fluent Bit
// (FLB_RETRY), so that Fluent Bit's retry of one is known as a retry and
// its records are not counted in again. It only serves the counters:
// which records a retry skips is package progress's job, on a full hash.
//
// A chunk is known by a fingerprint of its tag, its length and its first
// and last 4 KB (Fluent Bit's events carry nanosecond times, so distinct
// chunks differ there), taken when its flush starts: cheap on every chunk,
// and the chunk is not read again once the flush has waited on the
// intake (Fluent Bit 1.9 frees a chunk at shutdown while a worker's flush
// of it still runs). Two distinct chunks with the same fingerprint would
// count the second's records as a retry's: counters only, never delivery.
//
// At most handedBackMax chunks are held, the oldest forgotten first (a
// chunk Fluent Bit dropped at its Retry_Limit never comes back); a retry
// of a forgotten chunk is counted in again.
type handedBack struct {
	seed maphash.Seed
	mu   sync.Mutex
	seq  uint64
	set  map[uint64]uint64 // fingerprint -> the seq of its latest put
	fifo []stamp           // puts, oldest first; stale once set holds a newer seq or none
}

type stamp struct{ fp, seq uint64 }

const (
	handedBackMax = 4096
	edge          = 4 << 10 // bytes fingerprinted at each end of a chunk
)

func newHandedBack() *handedBack {
	return &handedBack{seed: maphash.MakeSeed(), set: make(map[uint64]uint64)}
}

// fingerprint identifies chunk and tag; it reads them during the call only.
func (h *handedBack) fingerprint(chunk, tag []byte) uint64 {
	var m maphash.Hash
	m.SetSeed(h.seed)
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(chunk)))
	_, _ = m.Write(n[:])
	_, _ = m.Write(tag)
	if len(chunk) <= 2*edge {
		_, _ = m.Write(chunk)
	} else {
		_, _ = m.Write(chunk[:edge])
		_, _ = m.Write(chunk[len(chunk)-edge:])
	}
	return m.Sum64()
}

// take reports whether fp was handed back, and forgets it.
func (h *handedBack) take(fp uint64) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	_, ok := h.set[fp]
	delete(h.set, fp)
	return ok
}

// put remembers fp, forgetting the oldest past the bound.
func (h *handedBack) put(fp uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seq++
	h.set[fp] = h.seq
	h.fifo = append(h.fifo, stamp{fp, h.seq})
	// Each fingerprint held has one live stamp, so this stops.
	for len(h.set) > handedBackMax {
		p := h.fifo[0]
		h.fifo = h.fifo[1:]
		if h.set[p.fp] == p.seq {
			delete(h.set, p.fp)
		}
	}
	if len(h.fifo) > 2*len(h.set)+16 { // shed stale stamps
		live := make([]stamp, 0, len(h.set))
		for _, p := range h.fifo {
			if h.set[p.fp] == p.seq {
				live = append(live, p)
			}
		}
		h.fifo = live
	}
}
