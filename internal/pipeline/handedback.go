package pipeline

import (
	"encoding/binary"
	"hash/maphash"
	"slices"
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
// Identical chunks are ordinary (a dummy input, whole-second times) and
// each one handed back is retried on its own, so a fingerprint is held as
// many times as it was put (a multiset), as package progress holds them.
//
// At most handedBackMax chunks are held, the oldest forgotten first (a
// chunk Fluent Bit dropped at its Retry_Limit never comes back); a retry
// of a forgotten chunk is counted in again.
type handedBack struct {
	seed  maphash.Seed
	mu    sync.Mutex
	n     int            // entries held: the sum of count
	count map[uint64]int // fingerprint -> entries held
	fifo  []uint64       // puts, oldest first; may hold entries taken since (shed below)
}

const (
	handedBackMax = 4096
	edge          = 4 << 10 // bytes fingerprinted at each end of a chunk
)

func newHandedBack() *handedBack {
	return &handedBack{seed: maphash.MakeSeed(), count: make(map[uint64]int)}
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

// take reports whether fp was handed back, and forgets one entry of it.
func (h *handedBack) take(fp uint64) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.count[fp] == 0 {
		return false
	}
	h.drop(fp)
	return true
}

// drop forgets one entry of fp; h.mu is held and fp is held.
func (h *handedBack) drop(fp uint64) {
	h.n--
	if h.count[fp]--; h.count[fp] == 0 {
		delete(h.count, fp)
	}
}

// put remembers one more entry of fp, forgetting the oldest past the
// bound. Entries of one fingerprint are alike, so forgetting any of them
// is forgetting the oldest.
func (h *handedBack) put(fp uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.count[fp]++
	h.n++
	h.fifo = append(h.fifo, fp)
	for h.n > handedBackMax {
		old := h.fifo[0]
		h.fifo = h.fifo[1:]
		if h.count[old] > 0 {
			h.drop(old)
		}
	}
	if len(h.fifo) > 2*h.n+16 { // shed the entries taken since: keep each fingerprint's latest count[fp]
		keep := make(map[uint64]int, len(h.count))
		for fp, c := range h.count {
			keep[fp] = c
		}
		live := make([]uint64, 0, h.n)
		for i := len(h.fifo) - 1; i >= 0; i-- {
			if fp := h.fifo[i]; keep[fp] > 0 {
				keep[fp]--
				live = append(live, fp)
			}
		}
		slices.Reverse(live)
		h.fifo = live
	}
}
