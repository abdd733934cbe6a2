// Package deflate is a DEFLATE (RFC 1951) encoder, with gzip (RFC 1952) and
// zlib (RFC 1950) framing, for the plugin's intake payloads.
//
// It exists because a benchmark showed it must; klauspost/compress stays the
// library for every explicit compression_level and for zstd. In a FireLens
// payload about 70% of the bytes are the Agent-style ddtags string,
// identical in every entry of a container. klauspost's level 6 finds that
// repeat at once and then indexes every position inside it: on the bench's
// reference payload that is more than half of its time (docs/design-notes.md).
//
// This encoder searches as level 6 does in spirit: two candidates per
// 7-byte hash and one per 4-byte hash, the last distance, one step of lazy
// evaluation, and a check at the end of each match for a longer one that
// ends further on. What it does not do is index the inside of long
// matches densely: only every 16th position, and the last 16. A later
// search that lands inside an old long match finds it within 16 steps and
// extends it backwards over the literals it skipped, so little is lost,
// and what follows a repeat (the next message) stays fully indexed.
//
// Measured on 1,000-entry payloads (internal/compress: TestLevelTable for
// the sizes, BenchmarkPayloadEncoder for the CPU, gzip framing included):
// less CPU than klauspost level 6 for about its size, within 1.1x of
// compress/gzip -6's bytes, on the captured FireLens chunk, the bench's
// reference and stress mixes, and the reference mix without ECS tags; the
// figures are benchmarks/RESULTS.md's.
package deflate

import (
	"encoding/binary"
	"math/bits"
)

const (
	windowSize = 1 << 15
	maxMatch   = 258
	minMatch   = 4

	shortBits = 14
	longBits  = 14
	// blockTokens caps a block's tokens: each block gets Huffman codes
	// fitted to its own part of the payload.
	blockTokens = 1 << 15
	// skipLog: after 2^skipLog literals in a row, positions are tried
	// ever more sparsely (incompressible runs cost little).
	skipLog = 7
	// lazyMax: a match shorter than this is compared with the best match
	// one byte on (lazy evaluation).
	lazyMax = 16
	// eomSkip: the end-of-match check may give up this many bytes at the
	// start of a match (backward extension usually takes them back).
	eomSkip = 2
	// Indexing of a match's positions (the measured trade-off, see the
	// package doc): a match up to insertAll bytes has every position
	// indexed; a longer one every sparse-th, and its last tail positions
	// all, since what follows a repeat (the next message) is where a later
	// search starts.
	insertAll = 16
	sparse    = 16
	tail      = 16
)

// Encoder holds the match tables and block buffers; reuse one (it is not
// safe for concurrent use) so that steady-state encoding allocates nothing.
type Encoder struct {
	short [1 << shortBits]int32
	long  [1 << longBits][2]int32
	// base is added to positions stored in the tables, and grows by more
	// than a window per input, so entries of earlier inputs are out of
	// reach without clearing the tables.
	base int32
	blk  block
}

// NewEncoder returns an Encoder.
func NewEncoder() *Encoder { return &Encoder{base: windowSize + 1} }

func load32(b []byte, i int) uint32 { return binary.LittleEndian.Uint32(b[i:]) }
func load64(b []byte, i int) uint64 { return binary.LittleEndian.Uint64(b[i:]) }

func hashShort(u uint32) uint32 { return (u * 2654435761) >> (32 - shortBits) }

// hashLong hashes the first 7 bytes of the 8 in u (little-endian: the
// shift drops the 8th), as klauspost/compress's hash7 does: strings
// sharing 7 bytes meet in the long table, so a match of 7 or more is
// found through it, and one of 4 to 6 through the short table.
func hashLong(u uint64) uint32 { return uint32(((u << 8) * 0xcf1bbcdcb7a56463) >> (64 - longBits)) }

// matchLen is how many bytes src[a:] and src[b:] share (a < b), up to end.
func matchLen(src []byte, a, b, end int) int {
	n := 0
	for b+n+8 <= end {
		if x := load64(src, a+n) ^ load64(src, b+n); x != 0 {
			return n + bits.TrailingZeros64(x)>>3
		}
		n += 8
	}
	for b+n < end && src[a+n] == src[b+n] {
		n++
	}
	return n
}

// maxInput is the largest input Encode compresses; larger ones (far over
// the intake's 5 MB) are stored, which keeps every position an int32.
const maxInput = 1 << 29

// index records position v (base added) for the bytes cv starting there:
// their first 4 in the short table, their first 7 in the long one.
func (e *Encoder) index(cv uint64, v int32) {
	e.short[hashShort(uint32(cv))] = v
	l := &e.long[hashLong(cv)]
	l[0], l[1] = v, l[0]
}

// Encode appends src's DEFLATE stream (final block included) to dst.
func (e *Encoder) Encode(dst, src []byte) []byte {
	if len(src) > maxInput {
		w := bitWriter{out: dst}
		writeStored(&w, src, true)
		return w.out
	}
	if e.base > 1<<30 {
		e.short = [1 << shortBits]int32{}
		e.long = [1 << longBits][2]int32{}
		e.base = windowSize + 1
	}
	w := bitWriter{out: dst}
	b := &e.blk
	b.reset()
	blockStart := 0

	n := len(src)
	base := e.base
	s, nextEmit := 0, 0
	rep := 0 // last match distance
	limit := n - 8
	for s < limit {
		if len(b.tokens) >= blockTokens {
			b.write(&w, src[blockStart:nextEmit], false)
			b.reset()
			blockStart = nextEmit
		}
		cv := load64(src, s)
		hs, hl := hashShort(uint32(cv)), hashLong(cv)
		sc, lc := int(e.short[hs]-base), e.long[hl]
		e.index(cv, int32(s)+base)

		// Candidates: the two last strings with these 7 bytes, the last
		// with these 4, the last distance. A table entry of an earlier
		// input, or none, is more than a window away, so one unsigned
		// comparison checks a candidate is in reach. A candidate is
		// measured only if it can beat the best so far (same byte at the
		// best's end). Written out: as a function, which the compiler
		// does not inline, the four checks cost measurably more.
		best, t := 0, 0
		cv32 := uint32(cv)
		if c := int(lc[0] - base); uint(s-c-1) < windowSize && load32(src, c) == cv32 {
			best, t = 4+matchLen(src, c+4, s+4, n), c
		}
		if c := int(lc[1] - base); uint(s-c-1) < windowSize && load32(src, c) == cv32 &&
			(best == 0 || (s+best < n && src[c+best] == src[s+best])) {
			if l := 4 + matchLen(src, c+4, s+4, n); l > best {
				best, t = l, c
			}
		}
		if best < 8 {
			if c := sc; uint(s-c-1) < windowSize && load32(src, c) == cv32 &&
				(best == 0 || (s+best < n && src[c+best] == src[s+best])) {
				if l := 4 + matchLen(src, c+4, s+4, n); l > best {
					best, t = l, c
				}
			}
			if c := s - rep; uint(rep-1) < windowSize && load32(src, c) == cv32 &&
				(best == 0 || (s+best < n && src[c+best] == src[s+best])) {
				if l := 4 + matchLen(src, c+4, s+4, n); l > best {
					best, t = l, c
				}
			}
		}
		if best < minMatch {
			s += 1 + (s-nextEmit)>>skipLog
			continue
		}
		if best < lazyMax && s+1 < limit {
			// Lazy step: a longer match one byte on wins over this one.
			p := s + 1
			cv1 := load64(src, p)
			for _, c := range e.long[hashLong(cv1)] {
				c := int(c - base)
				if uint(p-c-1) >= windowSize || load32(src, c) != uint32(cv1) {
					continue
				}
				if p+best+1 >= n || src[c+best+1] != src[p+best+1] {
					continue
				}
				if l := 4 + matchLen(src, c+4, p+4, n); l > best+1 {
					s, best, t = p, l, c
				}
			}
		}
		if sEnd := s + best; sEnd < limit {
			// End-of-match check: where the bytes after this match were
			// seen last, aligned back by its length, may start a longer
			// match (the same line of an earlier stack trace, say, not of
			// the last one); backward extension recovers the skipped bytes.
			for _, c := range e.long[hashLong(load64(src, sEnd))] {
				t2 := int(c-base) - best + eomSkip
				s2 := s + eomSkip
				if uint(s2-t2-1) >= windowSize || t2 < 0 {
					continue
				}
				if l := matchLen(src, t2, s2, n); l > best {
					s, t, best = s2, t2, l
				}
			}
		}
		// Extend backwards over literals not yet emitted.
		for t > 0 && s > nextEmit && src[t-1] == src[s-1] {
			s--
			t--
			best++
		}
		for _, c := range src[nextEmit:s] {
			b.literal(c)
		}
		dist := s - t
		rep = dist
		for l := best; l > 0; {
			k := min(l, maxMatch)
			if rest := l - k; rest > 0 && rest < 3 {
				k -= 3 - rest
			}
			b.match(k, dist)
			l -= k
		}
		// Index the match: every position of a short one; every
		// sparse-th and the last tail ones of a long one.
		mEnd := s + best
		dense := s + 1
		if best > insertAll {
			dense = mEnd - tail
			for i := s + 1; i < dense && i < limit; i += sparse {
				e.index(load64(src, i), int32(i)+base)
			}
		}
		for i := dense; i < mEnd && i < limit; i++ {
			e.index(load64(src, i), int32(i)+base)
		}
		s, nextEmit = mEnd, mEnd
	}
	for _, c := range src[nextEmit:] {
		b.literal(c)
	}
	b.write(&w, src[blockStart:], true)
	w.align()
	e.base += int32(n) + windowSize + 1
	return w.out
}
